from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Relevés et rapports"

    def ready(self):
        from calculations.signals import campaign_page_panels, campaign_transitioned

        from .receivers import react_to_transition, statement_rendering_panel

        campaign_transitioned.connect(react_to_transition, dispatch_uid="reports.react_to_transition")
        campaign_page_panels.connect(statement_rendering_panel, dispatch_uid="reports.statement_rendering_panel")
