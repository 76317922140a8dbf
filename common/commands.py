"""The base of the project's management commands."""

from django.core.management.base import BaseCommand


class ProjectCommand(BaseCommand):
    """A command that starts at once: Django's system checks (which load the URLs, hence the whole admin,
    the engine and the spreadsheet writers) are left to `manage.py check --deploy`, the tests and the
    servers, which run them anyway. Heavy modules are imported in `handle`, where they are used."""

    requires_system_checks = []
