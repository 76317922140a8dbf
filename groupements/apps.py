from django.apps import AppConfig


class GroupementsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "groupements"
    verbose_name = "Groupements et référentiels"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_role_permissions

        # Not limited to this app's signal: permissions of apps migrated after this one must exist too.
        post_migrate.connect(sync_role_permissions, dispatch_uid="groupements.sync_role_permissions")
