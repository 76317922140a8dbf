from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Relevés et rapports"

    def ready(self):
        from calculations.signals import campaign_page_panels, campaign_transitioned

        from .receivers import react_to_transition, refresh_public_file, statement_rendering_panel

        campaign_transitioned.connect(react_to_transition, dispatch_uid="reports.react_to_transition")
        campaign_transitioned.connect(refresh_public_file, dispatch_uid="reports.refresh_public_file")
        campaign_page_panels.connect(statement_rendering_panel, dispatch_uid="reports.statement_rendering_panel")
