"""« Historique des modifications »: every change the audit trail (django-pghistory) recorded, across
the tracked models, readable — when, who, which object, and each changed field as « champ : ancienne
valeur → nouvelle valeur » — filterable by object (type, number) and by user.

Replaces pghistory's own events page (raw JSON, English, PostgreSQL-only queries that answer 500 on
SQLite). Events exist on PostgreSQL only (triggers): on SQLite the page says so.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from .admin_numbers import DECIMAL, NUMBER, default_kind, format_kind, plain_decimal_text

PERMISSION = "pghistory.view_events"
PER_PAGE = 50
EVENT_LABELS = {"insert": "création", "update": "modification", "delete": "suppression"}


def tracked_models() -> list:
    """The models whose changes are recorded, by verbose name."""
    from pghistory.core import event_models

    tracked = {m.pgh_tracked_model for m in event_models() if getattr(m, "pgh_tracked_model", None)}
    return sorted(tracked, key=lambda m: str(m._meta.verbose_name))


def field_label(model, name: str) -> str:
    field = _field(model, name)
    return str(field.verbose_name) if field is not None else name


def shown_value(value) -> str:
    if value is None or value == "":
        return "–"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, int | float):
        return plain_decimal_text(value)  # 16,4 as typed in French, not 16.4
    return str(value)


def who_did(context: dict, usernames: dict) -> str:
    if context.get("user") in usernames:
        return usernames[context["user"]]
    if context.get("actor"):
        return f"système ({context['actor']})"
    return "–"


def _field(model, name: str):
    try:
        return model._meta.get_field(name.removesuffix("_id")) if model is not None else None
    except FieldDoesNotExist:
        return None


def field_value(model, name: str, value) -> str:
    """A recorded value as the admin shows it: money « 77 500,00 € », decimals « 16,4 », oui/non."""
    kind = default_kind(_field(model, name)) if _field(model, name) is not None else None
    if kind is not None and isinstance(value, int | float | str) and not isinstance(value, bool) and value != "":
        try:
            return format_kind(Decimal(str(value)), kind if kind != NUMBER else DECIMAL)
        except InvalidOperation:
            pass
    return shown_value(value)


def event_changes(model, event) -> list[tuple[str, str | None, str]]:
    """(field, old, new) of an update; (field, None, value) of a creation or deletion."""
    if event.pgh_diff:
        return [
            (field_label(model, name), field_value(model, name, old), field_value(model, name, new))
            for name, (old, new) in sorted(event.pgh_diff.items())
        ]
    return [
        (field_label(model, name), None, field_value(model, name, value))
        for name, value in sorted((event.pgh_data or {}).items())
        if not name.startswith("pgh_")
    ]


def describe_events(events) -> list[dict]:
    """Rows ready to display: date, who, object (with a link while it exists), action, changes."""
    events = list(events)
    contexts = [e.pgh_context if isinstance(e.pgh_context, dict) else {} for e in events]
    usernames = dict(
        get_user_model()
        .objects.filter(pk__in={c.get("user") for c in contexts if c.get("user")})
        .values_list("pk", "username")
    )
    current = _current_objects(events)
    rows = []
    for event, context in zip(events, contexts, strict=True):
        model = _model(event.pgh_obj_model)
        obj = current.get((event.pgh_obj_model, event.pgh_obj_id))
        rows.append(
            {
                "at": event.pgh_created_at,
                "who": who_did(context, usernames),
                "url": context.get("url", ""),
                "model": str(model._meta.verbose_name).capitalize() if model else event.pgh_obj_model,
                "object_id": event.pgh_obj_id,
                "object": str(obj) if obj is not None else "",
                "object_url": _change_url(obj),
                "label": EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                "changes": event_changes(model, event),
            }
        )
    return rows


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _current_objects(events) -> dict:
    wanted: dict[str, set] = {}
    for event in events:
        wanted.setdefault(event.pgh_obj_model, set()).add(event.pgh_obj_id)
    found = {}
    for label, ids in wanted.items():
        model = _model(label)
        if model is not None:
            for obj in model._default_manager.filter(pk__in=[i for i in ids if i is not None]):
                found[(label, str(obj.pk))] = obj
    return found


def _change_url(obj) -> str:
    if obj is None or not admin.site.is_registered(type(obj)):
        return ""
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def filtered_events(*, model_label: str = "", object_id: str = "", user_id: int | None = None):
    """The events (newest first) of the objects of `model_label` (all tracked models when empty), of
    the object `object_id` of it, done by user `user_id`."""
    from pghistory.models import Events

    events = Events.objects.all()
    model = _model(model_label) if model_label else None
    if model is not None:
        from pghistory.core import event_models

        events = events.across(*event_models(tracks_model=model)).filter(pgh_obj_model=model._meta.label)
        if object_id:
            events = events.filter(pgh_obj_id=object_id)
    if user_id is not None:
        events = events.filter(pgh_context__user=user_id)
    return events.order_by("-pgh_created_at", "-pgh_id")


def history_url(obj) -> str:
    return reverse("change_history") + f"?objet={obj._meta.label}&id={obj.pk}"


def history_view(request):
    """The page; GET `objet` (app.Model), `id`, `utilisateur` (user id), `page`."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    models = tracked_models()
    labels = {m._meta.label for m in models}
    model_label = request.GET.get("objet", "")
    model_label = model_label if model_label in labels else ""
    object_id = request.GET.get("id", "").strip()[:64] if model_label else ""
    user_text = request.GET.get("utilisateur", "")
    user_id = int(user_text) if user_text.isdigit() else None
    context = {
        **admin.site.each_context(request),
        "title": "Historique des modifications",
        "audit_enabled": settings.USES_POSTGRES,
        "model_choices": [(m._meta.label, str(m._meta.verbose_name).capitalize()) for m in models],
        "user_choices": list(
            get_user_model().objects.filter(is_staff=True).order_by("username").values_list("pk", "username")
        ),
        "selected": {"objet": model_label, "id": object_id, "utilisateur": user_id},
        "rows": [],
    }
    if settings.USES_POSTGRES:
        page = Paginator(
            filtered_events(model_label=model_label, object_id=object_id, user_id=user_id), PER_PAGE
        ).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context.update({"page": page, "rows": describe_events(page.object_list), "query": query.urlencode()})
    return TemplateResponse(request, "admin/change_history.html", context)
