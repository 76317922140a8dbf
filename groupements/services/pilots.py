"""Integrated-care pilot projects (the Belgian scheme): the fixed coordination line and the claims
for innovative actions, charged against the annual room of INNOVATIVE_ACTIONS_CEILING."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from common.formatting import format_money

from ..models import InnovativeActionClaim, LedgerLine, PilotProject
from ..models.ledger import COORDINATION_AMOUNT, INNOVATIVE_ACTIONS_CEILING, Nature, innovative_actions_room_left
from .ledger import require_permission

ZERO = Decimal("0.00")


def innovative_actions_used(
    *, project: PilotProject, year: int, exclude_claim: InnovativeActionClaim | None = None
) -> Decimal:
    claims = InnovativeActionClaim.objects.filter(pilot_project=project, year=year)
    if exclude_claim is not None and exclude_claim.pk:
        claims = claims.exclude(pk=exclude_claim.pk)
    return claims.aggregate(total=Sum("amount"))["total"] or ZERO


def innovative_actions_room(
    *, project: PilotProject, year: int, exclude_claim: InnovativeActionClaim | None = None
) -> Decimal:
    """What is left of the year's innovative-actions budget (never below zero)."""
    return innovative_actions_room_left(
        innovative_actions_used(project=project, year=year, exclude_claim=exclude_claim)
    )


def check_innovative_actions_claim(
    *, project: PilotProject, year: int, amount: Decimal, claim: InnovativeActionClaim | None = None
) -> None:
    """Raise ValidationError (French message with the room left) when the claim does not fit.
    Without the project row locked this is advisory only (forms use it for an early message)."""
    amount = Decimal(amount)
    errors = {}
    if amount <= 0:
        errors["amount"] = "Le montant demandé doit être positif."
    if not project.covers(year):
        errors["year"] = (
            f"Le projet {project.code} couvre les années {project.start_year} à {project.end_year}, pas {year}."
        )
    if errors:
        raise ValidationError(errors)
    room = innovative_actions_room(project=project, year=year, exclude_claim=claim)
    if amount > room:
        raise ValidationError(
            {
                "amount": f"Dépassement : il reste {format_money(room)} sur {format_money(INNOVATIVE_ACTIONS_CEILING)} pour {year}."
            },
            code="innovative_actions_room",
        )


def record_innovative_action_claim(
    *, project: PilotProject, year: int, amount: Decimal, label: str, user, claim: InnovativeActionClaim | None = None
) -> InnovativeActionClaim:
    """Record a claim for innovative actions (or change a planned one), refused beyond the room left.

    The project row is locked (SELECT … FOR UPDATE) while the room is checked and the claim written,
    so two concurrent claims cannot together exceed the annual ceiling.
    """
    require_permission(
        user,
        "groupements.change_innovativeactionclaim" if claim and claim.pk else "groupements.add_innovativeactionclaim",
    )
    amount = Decimal(amount)
    with transaction.atomic():
        project = PilotProject.objects.select_for_update().get(pk=project.pk)
        if claim is not None and claim.pk:
            claim = InnovativeActionClaim.objects.select_for_update().get(pk=claim.pk)
            if claim.status == LedgerLine.Status.PAID:
                raise ValidationError("Une demande déjà payée ne peut plus être modifiée.")
        check_innovative_actions_claim(project=project, year=year, amount=amount, claim=claim)
        if claim is None or not claim.pk:
            claim = InnovativeActionClaim(pilot_project=project, recorded_by=user)
        claim.year = year
        claim.amount = amount
        claim.label = label
        claim.full_clean()
        claim.save()
    return claim


def record_coordination_lines(
    *, project: PilotProject, user, status: str = LedgerLine.Status.PLANNED
) -> list[LedgerLine]:
    """The fixed coordination line (COORDINATION_AMOUNT) of every year of the project; idempotent."""
    require_permission(user, "groupements.add_ledgerline")
    lines = []
    with transaction.atomic():
        for year in range(project.start_year, project.end_year + 1):
            line, _ = LedgerLine.objects.get_or_create(
                pilot_project=project,
                year=year,
                nature=Nature.COORDINATION,
                defaults={
                    "amount": COORDINATION_AMOUNT,
                    "status": status,
                    "label": f"Coordination {year}",
                    "recorded_by": user,
                },
            )
            lines.append(line)
    return lines
