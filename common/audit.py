"""The audit trail (django-pghistory) in the admin: the « Historique » button of a tracked object shows
every recorded insert, update and delete of it — when, who (user, or system actor), what changed —
above Django's own admin log. Events exist on PostgreSQL only (triggers)."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .history import describe_events

AUDIT_EVENTS_LIMIT = 500


def audit_events(obj, limit: int = AUDIT_EVENTS_LIMIT) -> list[dict]:
    """The pghistory events of `obj`, newest first, ready to display (empty outside PostgreSQL)."""
    if not settings.USES_POSTGRES:
        return []
    from pghistory.models import Events

    return describe_events(Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit])


class AuditHistoryMixin:
    """For a ModelAdmin of a model decorated with `@pghistory.track()`."""

    object_history_template = "admin/audit_history.html"

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"audit_enabled": settings.USES_POSTGRES, "audit_events": audit_events(obj) if obj is not None else []}
        if obj is not None and request.user.has_perm("pghistory.view_events"):
            with contextlib.suppress(NoReverseMatch):
                extra["audit_all_events_url"] = reverse("change_history") + f"?objet={obj._meta.label}&id={obj.pk}"
        return super().history_view(request, object_id, extra_context={**extra, **(extra_context or {})})
