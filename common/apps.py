from django.apps import AppConfig


class CommonConfig(AppConfig):
    """The ground floor every app may import: French formatting, PDF rendering, refusals. No models."""

    name = "common"
    verbose_name = "Commun"
