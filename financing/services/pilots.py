"""Integrated-care pilot projects (the Belgian scheme): the fixed coordination line and the claims
for innovative actions, charged against the annual room of INNOVATIVE_ACTIONS_CEILING."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from calculations.services.transitions import actor_user, audit_context
from common.errors import ActionRefused, require_permission
from common.formatting import format_money

from ..models import (
    COORDINATION_AMOUNT,
    INNOVATIVE_ACTIONS_CEILING,
    InnovativeActionClaim,
    LedgerLine,
    Nature,
    PilotProject,
    innovative_actions_room_left,
)
from .ledger import ADD_LEDGER

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


def innovative_actions_claim_problems(
    *, project: PilotProject, year: int, amount: Decimal, claim: InnovativeActionClaim | None = None
) -> dict[str, str]:
    """Why the claim does not fit, by form field (French, the room left shown); empty when it fits.
    Without the project row locked this is advisory only (the admin form uses it for an early message)."""
    amount = Decimal(amount)
    problems = {}
    if amount <= 0:
        problems["amount"] = "Le montant demandé doit être positif."
    if not project.covers(year):
        problems["year"] = (
            f"Le projet {project.code} couvre les années {project.start_year} à {project.end_year}, pas {year}."
        )
    if problems:
        return problems
    room = innovative_actions_room(project=project, year=year, exclude_claim=claim)
    if amount > room:
        problems["amount"] = (
            f"Dépassement : il reste {format_money(room)} sur {format_money(INNOVATIVE_ACTIONS_CEILING)} pour {year}."
        )
    return problems


def record_innovative_action_claim(
    *, project: PilotProject, year: int, amount: Decimal, label: str, user, claim: InnovativeActionClaim | None = None
) -> InnovativeActionClaim:
    """Record a claim for innovative actions (or change a planned one), refused beyond the room left.

    The project row is locked (SELECT … FOR UPDATE) while the room is checked and the claim written,
    so two concurrent claims cannot together exceed the annual ceiling.
    """
    if claim is not None and claim.pk:
        require_permission(user, "financing.change_innovativeactionclaim", "modifier une demande d'actions innovantes")
    else:
        require_permission(user, "financing.add_innovativeactionclaim", "enregistrer une demande d'actions innovantes")
    amount = Decimal(amount)
    with audit_context(user), transaction.atomic():
        project = PilotProject.objects.select_for_update().get(pk=project.pk)
        if claim is not None and claim.pk:
            claim = InnovativeActionClaim.objects.select_for_update().get(pk=claim.pk)
            if claim.status == LedgerLine.Status.PAID:
                raise ActionRefused("Une demande déjà payée ne peut plus être modifiée.")
        problems = innovative_actions_claim_problems(project=project, year=year, amount=amount, claim=claim)
        if problems:
            raise ActionRefused(list(problems.values()))
        if claim is None or not claim.pk:
            claim = InnovativeActionClaim(pilot_project=project, recorded_by=actor_user(user))
        claim.year = year
        claim.amount = amount
        claim.label = label
        try:
            claim.full_clean()
        except ValidationError as error:
            raise ActionRefused(error.messages) from None
        claim.save()
    return claim


def record_coordination_lines(
    *, project: PilotProject, user, status: str = LedgerLine.Status.PLANNED
) -> list[LedgerLine]:
    """The fixed coordination line (COORDINATION_AMOUNT) of every year of the project; idempotent."""
    require_permission(user, ADD_LEDGER, "créer les lignes de coordination d'un projet pilote")
    lines = []
    with audit_context(user), transaction.atomic():
        for year in range(project.start_year, project.end_year + 1):
            line, _ = LedgerLine.objects.get_or_create(
                pilot_project=project,
                year=year,
                nature=Nature.COORDINATION,
                defaults={
                    "amount": COORDINATION_AMOUNT,
                    "status": status,
                    "label": f"Coordination {year}",
                    "recorded_by": actor_user(user),
                },
            )
            lines.append(line)
    return lines
