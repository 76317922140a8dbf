from django.apps import AppConfig


class IpepSiteConfig(AppConfig):
    name = "ipep_site"
    verbose_name = "Site IPEP"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
