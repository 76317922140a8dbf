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
    DEFAULT_COORDINATION_SALARIES,
    INNOVATIVE_ACTIONS_CEILING,
    ApprovedInnovativeAction,
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


def approved_actions(*, project: PilotProject, year: int | None = None) -> list[ApprovedInnovativeAction]:
    """The project's approved innovative actions (its convention's annex 7), those valid in `year` if given."""
    actions = ApprovedInnovativeAction.objects.filter(pilot_project=project).order_by("code")
    if year is not None:
        actions = actions.filter(first_year__lte=year, last_year__gte=year)
    return list(actions)


def approved_actions_text(*, project: PilotProject, year: int) -> str:
    """The list shown with a refused claim, in French."""
    actions = approved_actions(project=project, year=year)
    if not actions:
        return (
            f"aucune action innovante n'est approuvée pour le projet {project.code} en {year} (ajoutez-les au projet)"
        )
    return "actions approuvées pour " + str(year) + " : " + " ; ".join(str(action) for action in actions)


def innovative_actions_claim_problems(
    *,
    project: PilotProject,
    year: int,
    amount: Decimal,
    action: ApprovedInnovativeAction | None = None,
    claim: InnovativeActionClaim | None = None,
) -> dict[str, str]:
    """Why the claim does not fit, by form field (French, the room left or the approved actions shown);
    empty when it fits. Without the project row locked this is advisory only (the admin form uses it
    for an early message)."""
    amount = Decimal(amount)
    problems = {}
    if amount <= 0:
        problems["amount"] = "Le montant demandé doit être positif."
    if not project.covers(year):
        problems["year"] = (
            f"Le projet {project.code} couvre les années {project.start_year} à {project.end_year}, pas {year}."
        )
    elif action is None or action.pilot_project_id != project.pk or not action.covers(year):
        named = "Aucune action nommée" if action is None else f"L'action « {action.code} » n'est pas approuvée"
        problems["approved_action"] = (
            f"{named} pour le projet {project.code} en {year} : une demande ne paie qu'une action de la "
            f"convention du projet ({approved_actions_text(project=project, year=year)})."
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
    *,
    project: PilotProject,
    year: int,
    amount: Decimal,
    label: str,
    user,
    action: ApprovedInnovativeAction | None,
    claim: InnovativeActionClaim | None = None,
) -> InnovativeActionClaim:
    """Record a claim for innovative actions (or change a planned one), naming one approved action of
    the project's convention valid that year; refused beyond the room left, or outside the list (shown).

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
        if action is not None:
            action = ApprovedInnovativeAction.objects.filter(pk=action.pk).first()
        problems = innovative_actions_claim_problems(
            project=project, year=year, amount=amount, action=action, claim=claim
        )
        if problems:
            raise ActionRefused(list(problems.values()))
        if claim is None or not claim.pk:
            claim = InnovativeActionClaim(pilot_project=project, recorded_by=actor_user(user))
        claim.year = year
        claim.amount = amount
        claim.label = label
        claim.approved_action = action
        try:
            claim.full_clean()
        except ValidationError as error:
            raise ActionRefused(error.messages) from None
        claim.save()
    return claim


def coordination_split_problems(*, salaries, running_costs, amount=COORDINATION_AMOUNT) -> dict[str, str]:
    """Why a salaries / running-costs split of a coordination line is refused (French), by field."""
    problems = {}
    if salaries is None or salaries < 0:
        problems["salaries"] = "Indiquez la part des salaires (positive ou nulle)."
    if running_costs is None or running_costs < 0:
        problems["running_costs"] = "Indiquez la part des frais de fonctionnement (positive ou nulle)."
    if not problems and Decimal(salaries) + Decimal(running_costs) != amount:
        problems["running_costs"] = (
            f"Salaires ({format_money(salaries)}) et frais de fonctionnement ({format_money(running_costs)}) "
            f"font {format_money(Decimal(salaries) + Decimal(running_costs))} : la coordination est de "
            f"{format_money(amount)} par an."
        )
    return problems


def set_coordination_split(*, line: LedgerLine, salaries: Decimal, running_costs: Decimal, user) -> LedgerLine:
    """Record how a coordination line divides between salaries and running costs (they sum to its amount)."""
    require_permission(user, "financing.change_ledgerline", "répartir une ligne de coordination")
    with audit_context(user), transaction.atomic():
        line = LedgerLine.objects.select_for_update().get(pk=line.pk, nature=Nature.COORDINATION)
        problems = coordination_split_problems(salaries=salaries, running_costs=running_costs, amount=line.amount)
        if problems:
            raise ActionRefused(list(problems.values()))
        line.salaries, line.running_costs = Decimal(salaries), Decimal(running_costs)
        line.save(update_fields=["salaries", "running_costs"])
    return line


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
                    "salaries": DEFAULT_COORDINATION_SALARIES,
                    "running_costs": COORDINATION_AMOUNT - DEFAULT_COORDINATION_SALARIES,
                    "status": status,
                    "label": f"Coordination {year}",
                    "recorded_by": actor_user(user),
                },
            )
            lines.append(line)
    return lines
