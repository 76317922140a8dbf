"""What the financing admin shows when a service refuses (`common.errors.ActionRefused`): the French
reasons as error messages, never a server error. The forms check the same rules first; a refusal at
save time is a race (another person changed the line meanwhile), and nothing is written."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from common.errors import ActionRefused, PermissionRefused

from ..services import ledger as ledger_services


def show_refusal(modeladmin, request, refusal: ActionRefused) -> None:
    for message in refusal.messages:
        modeladmin.message_user(request, message, messages.ERROR)


class RefusalsAsMessagesMixin:
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionRefused:
            raise
        except ActionRefused as refusal:
            # The admin's transaction is rolled back; the same page again, with the reasons.
            show_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())


@admin.action(description="Marquer payées les lignes sélectionnées", permissions=["change"])
def mark_paid(modeladmin, request, queryset):
    try:
        count = ledger_services.mark_lines_paid(lines=list(queryset), user=request.user)
    except ActionRefused as refusal:
        show_refusal(modeladmin, request, refusal)
    else:
        modeladmin.message_user(request, f"{count} ligne(s) marquée(s) payée(s).", messages.SUCCESS)
