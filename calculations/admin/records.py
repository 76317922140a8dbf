"""Admin of a record that the workflow alone writes (computed results, stored simulations)."""


class RecordAdminMixin:
    """Shown, never added, changed or deleted from the admin: the services write it, and it stays as written."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
