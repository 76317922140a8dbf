"""The lifecycle of a campaign (METHODOLOGY.md section 8) as ONE transition table.

Every status change goes through `apply_transition`, inside the caller's transaction: it locks the
campaign row (`select_for_update`), checks the source status, the actor's role permission, the reason
and the four-eyes rule, then saves the new status, writes the audit record (CampaignTransition) and
announces it (`calculations.signals.campaign_transitioned`) in that same transaction. Results belong
to the services in `campaigns.py` that call it; statements and ledger lines to the apps that listen.

Actors are users, or a `SystemActor` when nobody is logged in: the computation task, the check that
detects interrupted computations, and the management commands run without `--user` (their explicit
permissions are listed in `COMMAND_LINE`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from calculations.models import Campaign, CampaignTransition
from calculations.signals import campaign_transitioned
from common.errors import ActionRefused, PermissionRefused

Status = Campaign.Status


class CampaignError(ActionRefused):
    """A campaign action was refused; `messages` gives every reason, in French, ready to show."""


class TransitionNotAllowed(CampaignError):
    """The campaign's status does not allow this transition."""


class CampaignPermissionDenied(CampaignError, PermissionRefused):
    """The actor lacks the role permission, or would validate their own computation (four eyes)."""


@dataclass(frozen=True)
class SystemActor:
    """An actor without a user account, with an explicit set of permissions (`app_label.codename`)."""

    name: str
    permissions: frozenset[str] = frozenset()
    is_active: bool = True

    def has_perm(self, perm: str, obj=None) -> bool:
        return perm in self.permissions

    def __str__(self) -> str:
        return f"système ({self.name})"


# Commands without --user may prepare and compute a campaign, nothing more: validating needs a
# person distinct from the launcher (four eyes), and publishing or paying engages the programme.
COMMAND_LINE = SystemActor(
    "ligne de commande",
    frozenset({"calculations.add_campaign", "calculations.change_campaign", "calculations.launch_campaign"}),
)
COMPUTATION_TASK = SystemActor("tâche de calcul")
INTERRUPTION_CHECK = SystemActor("détection des calculs interrompus")


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: str
    # None: only a system actor performs it (the computation's own outcome).
    permission: str | None
    reason_required: bool = False
    four_eyes: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "launch", (Status.DRAFT, Status.FAILED), Status.COMPUTING, "Lancer le calcul", "calculations.launch_campaign"
    ),
    Transition("complete", (Status.COMPUTING,), Status.COMPUTED, "Calcul terminé", None),
    Transition("fail", (Status.COMPUTING,), Status.FAILED, "Échec du calcul", None, reason_required=True),
    Transition(
        "reject", (Status.COMPUTED,), Status.DRAFT, "Rejeter", "calculations.reject_campaign", reason_required=True
    ),
    Transition(
        "validate", (Status.COMPUTED,), Status.VALIDATED, "Valider", "calculations.validate_campaign", four_eyes=True
    ),
    Transition("publish", (Status.VALIDATED,), Status.PUBLISHED, "Publier", "calculations.publish_campaign"),
    Transition("pay", (Status.PUBLISHED,), Status.PAID, "Marquer comme payée", "calculations.pay_campaign"),
    # Performed by whoever publishes the corrected version.
    Transition(
        "supersede",
        (Status.PUBLISHED, Status.PAID),
        Status.SUPERSEDED,
        "Remplacer",
        "calculations.publish_campaign",
        reason_required=True,
    ),
)
TRANSITIONS_BY_NAME = {t.name: t for t in TRANSITIONS}
# What a user may ask for (buttons, `transition_campaign --to`): the others follow from them.
USER_TRANSITIONS = ("launch", "reject", "validate", "publish", "pay")


def actor_user(actor):
    """The user to record, or None for a system actor."""
    return None if isinstance(actor, SystemActor) or actor is None else actor


def actor_label(actor) -> str:
    return actor.name if isinstance(actor, SystemActor) else ""


def audit_context(actor, **metadata):
    """Attach the actor to the pghistory events of the block (PostgreSQL only; the admin's middleware adds the URL)."""
    if not settings.USES_POSTGRES:
        return contextlib.nullcontext()
    import pghistory

    user = actor_user(actor)
    if user is not None:
        metadata.setdefault("user", user.pk)
    else:
        metadata.setdefault("actor", actor_label(actor))
    return pghistory.context(**metadata)


def refusal(transition: Transition, *, campaign: Campaign, actor, reason: str = "") -> CampaignError | None:
    """Why `actor` may not apply `transition` to `campaign` now, or None when allowed."""
    if campaign.status not in transition.sources:
        allowed = ", ".join(str(Status(s).label) for s in transition.sources)
        return TransitionNotAllowed(
            f"« {transition.label} » est impossible : la campagne {campaign.year} v{campaign.version} est "
            f"« {campaign.get_status_display()} » (possible depuis : {allowed})."
        )
    if actor is None or not getattr(actor, "is_active", False):
        return CampaignPermissionDenied("Action réservée à un utilisateur actif.")
    if transition.permission is None:
        if not isinstance(actor, SystemActor):
            return CampaignPermissionDenied(
                f"« {transition.label} » est effectué par le système, pas par un utilisateur."
            )
    elif not actor.has_perm(transition.permission):
        who = str(actor) if isinstance(actor, SystemActor) else f"L'utilisateur {actor.get_username()}"
        hint = " (indiquez --user)" if actor is COMMAND_LINE else ""
        return CampaignPermissionDenied(f"{who} n'a pas le droit « {transition.label} »{hint}.")
    if transition.four_eyes:
        if isinstance(actor, SystemActor):
            return CampaignPermissionDenied(f"« {transition.label} » exige un utilisateur nommé (double contrôle).")
        if campaign.launched_by_id is not None and campaign.launched_by_id == actor.pk:
            return CampaignPermissionDenied(
                "Double contrôle : la validation doit être faite par une autre personne que celle qui a lancé le calcul."
            )
    if transition.reason_required and not (reason or "").strip():
        return CampaignError(f"« {transition.label} » : un motif est obligatoire.")
    return None


def allowed_transitions(*, campaign: Campaign, actor) -> list[Transition]:
    """The user transitions `actor` may apply to `campaign` now (the admin shows only these buttons)."""
    allowed = []
    for name in USER_TRANSITIONS:
        transition = TRANSITIONS_BY_NAME[name]
        error = refusal(
            transition, campaign=campaign, actor=actor, reason="motif" if transition.reason_required else ""
        )
        if error is None:
            allowed.append(transition)
    return allowed


def apply_transition(*, campaign: Campaign, name: str, actor, reason: str = "", **changes) -> Campaign:
    """Lock the row, check, change the status (and `changes`), record the audit row; returns the locked campaign.

    Must run inside `transaction.atomic()`: the lock, the change and the audit record commit together.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_transition must run inside transaction.atomic()")
    transition = TRANSITIONS_BY_NAME[name]
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    error = refusal(transition, campaign=locked, actor=actor, reason=reason)
    if error is not None:
        raise error
    previous = locked.status
    locked.status = transition.target
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save()
    CampaignTransition.objects.create(
        campaign=locked,
        from_status=previous,
        to_status=transition.target,
        user=actor_user(actor),
        actor=actor_label(actor),
        reason=(reason or "").strip(),
    )
    campaign_transitioned.send(sender=Campaign, campaign=locked, transition=name, previous=previous, actor=actor)
    return locked


def command_line_actor(login: str | None):
    """The actor of a management command: the user `login`, or COMMAND_LINE when no login is given."""
    if not login:
        return COMMAND_LINE
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=login).first()
    if user is None or not user.is_active:
        raise CampaignPermissionDenied(f"Utilisateur {login!r} inconnu ou inactif.")
    return user
