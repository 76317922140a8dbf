from django.apps import AppConfig


class FinancingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "financing"
    verbose_name = "Financement : grand livre, crédits d'amorçage, projets pilotes"

    def ready(self):
        from calculations.signals import campaign_transitioned

        from .receivers import record_payments_of_paid_campaign

        campaign_transitioned.connect(
            record_payments_of_paid_campaign, dispatch_uid="financing.record_payments_of_paid_campaign"
        )
