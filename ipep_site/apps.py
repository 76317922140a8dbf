from django.apps import AppConfig
from django.contrib.admin.apps import SimpleAdminConfig
from django.core import checks


class IpepSiteConfig(AppConfig):
    # Chosen for "ipep_site" although this module defines a second AppConfig (LazyAdminConfig): without
    # it Django falls back to a bare AppConfig, ready() never runs and the deploy checks go unregistered.
    default = True
    name = "ipep_site"
    verbose_name = "Site IPEP"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)


class LazyAdminConfig(SimpleAdminConfig):
    """Django's admin without discovery at start-up: the admin modules import the engine, Polars and
    the spreadsheet writers, which a management command or a worker never needs. ipep_site/urls.py
    discovers them for the processes that serve pages, and the admin's system check does so itself
    first (checks run in no set order, so it cannot count on the URL check having loaded them)."""

    def ready(self):
        from django.contrib.admin.checks import check_dependencies

        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin, checks.Tags.admin)


def check_discovered_admin(app_configs, **kwargs):
    from django.contrib.admin import autodiscover
    from django.contrib.admin.checks import check_admin_app

    autodiscover()
    return check_admin_app(app_configs, **kwargs)
