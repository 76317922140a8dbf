"""The four-eyes lifecycle after a computation: reject, validate, publish, pay."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from calculations.models import Campaign

from ..transitions import (
    TRANSITIONS_BY_NAME,
    CampaignError,
    actor_user,
    apply_transition,
    audit_context,
    refusal,
)
from .computation import launch_campaign
from .creation import Status


def reject_campaign(*, campaign: Campaign, user, reason: str) -> Campaign:
    """computed → draft, with a mandatory reason; the results stay visible until the next launch replaces them."""
    with audit_context(user), transaction.atomic():
        return apply_transition(
            campaign=campaign, name="reject", actor=user, reason=reason, validated_by=None, validated_at=None
        )


def validate_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """computed → validated, by someone other than the launcher (four eyes); final statements follow."""
    with audit_context(user), transaction.atomic():
        locked = apply_transition(
            campaign=campaign,
            name="validate",
            actor=user,
            reason=reason,
            validated_by=actor_user(user),
            validated_at=timezone.now(),
        )
        return locked


def publish_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """validated → published; the version it corrects becomes superseded in the same transaction."""
    with audit_context(user), transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        error = refusal(TRANSITIONS_BY_NAME["publish"], campaign=locked, actor=user, reason=reason)
        if error is not None:
            raise error
        previous = (
            Campaign.objects.select_for_update()
            .filter(pk=locked.supersedes_id, status__in=Campaign.IN_FORCE_STATUSES)
            .first()
        )
        if previous is not None:
            # The groupements are told why their statement changed (reports: the publication e-mail).
            if not (reason or "").strip():
                raise CampaignError(
                    f"« Publier » une correction : indiquez le motif de la correction de la version "
                    f"{previous.version} (il est envoyé aux groupements)."
                )
            # First, so that the year never has two campaigns in force (partial unique index).
            apply_transition(
                campaign=previous,
                name="supersede",
                actor=user,
                reason=f"Remplacée par la version {locked.version} : {reason.strip()}",
            )
        locked = apply_transition(
            campaign=locked, name="publish", actor=user, reason=reason, published_at=timezone.now()
        )
        return locked


def pay_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """published → paid; the financing app writes the intéressement ledger lines in the same transaction
    (it reacts to `campaign_transitioned`: its refusal undoes the payment)."""
    with audit_context(user), transaction.atomic():
        return apply_transition(campaign=campaign, name="pay", actor=user, reason=reason, paid_at=timezone.now())


# Target status → service, for the admin buttons and `transition_campaign --to`.
SERVICES_BY_TARGET = {
    Status.COMPUTING: lambda *, campaign, user, reason="": launch_campaign(campaign=campaign, user=user),
    Status.DRAFT: reject_campaign,
    Status.VALIDATED: validate_campaign,
    Status.PUBLISHED: publish_campaign,
    Status.PAID: pay_campaign,
}


def transition_campaign(*, campaign: Campaign, to: str, user, reason: str = "") -> Campaign:
    """Apply the user transition that leads `campaign` to status `to`."""
    service = SERVICES_BY_TARGET.get(to)
    if service is None:
        targets = ", ".join(SERVICES_BY_TARGET)
        raise CampaignError(f"Statut cible {to!r} impossible à demander (possibles : {targets}).")
    return service(campaign=campaign, user=user, reason=reason)
