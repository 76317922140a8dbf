"""The audit trail (django-pghistory) in the admin: the « Historique » button of a tracked object shows
every recorded insert, update and delete of it — when, who (user, or system actor), what changed —
above Django's own admin log. Events exist on PostgreSQL only (triggers)."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse

AUDIT_EVENTS_LIMIT = 500
EVENT_LABELS = {"insert": "création", "update": "modification", "delete": "suppression"}


def audit_events(obj, limit: int = AUDIT_EVENTS_LIMIT) -> list[dict]:
    """The pghistory events of `obj`, newest first, ready to display (empty outside PostgreSQL)."""
    if not settings.USES_POSTGRES:
        return []
    from pghistory.models import Events

    events = list(Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit])
    user_ids = {
        e.pgh_context.get("user") for e in events if isinstance(e.pgh_context, dict) and e.pgh_context.get("user")
    }
    users = {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=user_ids)}
    rows = []
    for event in events:
        context = event.pgh_context if isinstance(event.pgh_context, dict) else {}
        who = users.get(context.get("user")) or (f"système ({context['actor']})" if context.get("actor") else "") or "–"
        if event.pgh_diff:
            changes = [(_field_label(obj, name), old, new) for name, (old, new) in sorted(event.pgh_diff.items())]
        else:
            changes = [
                (_field_label(obj, name), None, value)
                for name, value in sorted((event.pgh_data or {}).items())
                if not name.startswith("pgh_")
            ]
        rows.append(
            {
                "at": event.pgh_created_at,
                "label": EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                "who": who,
                "url": context.get("url", ""),
                "changes": changes,
            }
        )
    return rows


def _field_label(obj, name: str) -> str:
    try:
        return str(obj._meta.get_field(name.removesuffix("_id")).verbose_name)
    except FieldDoesNotExist:
        return name


class AuditHistoryMixin:
    """For a ModelAdmin of a model decorated with `@pghistory.track()`."""

    object_history_template = "admin/audit_history.html"

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"audit_enabled": settings.USES_POSTGRES, "audit_events": audit_events(obj) if obj is not None else []}
        if obj is not None and request.user.has_perm("pghistory.view_events"):
            with contextlib.suppress(NoReverseMatch):
                extra["audit_all_events_url"] = (
                    reverse("admin:pghistory_events_changelist") + f"?method=tracks&obj={obj._meta.label}:{obj.pk}"
                )
        return super().history_view(request, object_id, extra_context={**extra, **(extra_context or {})})
