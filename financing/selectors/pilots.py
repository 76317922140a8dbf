"""Read queries on pilot projects: the yearly coordination and innovative-actions figures, and the
garantie budgétaire of the groupement a project follows (for information: never paid)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from calculations.models import Campaign, GroupementResult

from ..models import (
    COORDINATION_AMOUNT,
    InnovativeActionClaim,
    LedgerLine,
    Nature,
    PilotProject,
    innovative_actions_room_left,
)

ZERO = Decimal("0.00")


@dataclass
class PilotYear:
    year: int
    coordination: LedgerLine | None
    innovative_used: Decimal
    # Innovative actions claimed that year, by approved action (its str: code, label, convention, years).
    innovative_by_action: dict[str, Decimal] = field(default_factory=dict)

    @property
    def innovative_room(self) -> Decimal:
        return innovative_actions_room_left(self.innovative_used)

    @property
    def coordination_amount(self) -> Decimal:
        return self.coordination.amount if self.coordination else COORDINATION_AMOUNT


def pilot_years(*, project: PilotProject) -> list[PilotYear]:
    """Per year of the project: its coordination line and the innovative actions used / left."""
    coordination = {
        line.year: line for line in LedgerLine.objects.filter(pilot_project=project, nature=Nature.COORDINATION)
    }
    used: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_action: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for claim in InnovativeActionClaim.objects.filter(pilot_project=project).select_related("approved_action"):
        used[claim.year] += claim.amount
        by_action[claim.year][str(claim.approved_action)] += claim.amount
    return [
        PilotYear(year, coordination.get(year), used[year], dict(sorted(by_action[year].items())))
        for year in range(project.start_year, project.end_year + 1)
    ]


@dataclass
class PilotReport:
    """One project in the financing report (Belgian scheme, not FISS money): its years and its approved actions."""

    project: PilotProject
    years: list[PilotYear]
    actions: list

    @property
    def coordination_total(self) -> Decimal:
        return sum((y.coordination.amount for y in self.years if y.coordination), ZERO)

    @property
    def salaries_total(self) -> Decimal:
        return sum((y.coordination.salaries or ZERO for y in self.years if y.coordination), ZERO)

    @property
    def running_costs_total(self) -> Decimal:
        return sum((y.coordination.running_costs or ZERO for y in self.years if y.coordination), ZERO)

    @property
    def innovative_total(self) -> Decimal:
        return sum((y.innovative_used for y in self.years), ZERO)


def pilot_projects_report() -> list[PilotReport]:
    """Every pilot project with its coordination lines (split salaries / running costs) and claims."""
    return [
        PilotReport(project=project, years=pilot_years(project=project), actions=list(project.approved_actions.all()))
        for project in PilotProject.objects.order_by("code")
    ]


@dataclass
class GuaranteeYear:
    """Garantie budgétaire (METHODOLOGY step 12), for information only: never paid."""

    year: int
    campaign: object
    n_patients: int
    budget_guarantee: float
    real_expenditure: float  # n · DR̄_N, the same (truncated) basis as the guarantee
    gain: float  # budget_guarantee_gain: guarantee − real, signed (negative = loss)


def pilot_budget_guarantees(*, project: PilotProject) -> list[GuaranteeYear]:
    """The garantie budgétaire of the project's linked groupement, one row per campaign year (the
    campaign in force when there is one, else the latest computed version)."""
    if project.groupement_id is None:
        return []
    results = (
        GroupementResult.objects.filter(
            groupement_id=project.groupement_id, campaign__status__in=Campaign.statuses_where("reportable")
        )
        .select_related("campaign")
        .order_by("campaign__year", "-campaign__version")
    )
    in_force = Campaign.IN_FORCE_STATUSES
    chosen: dict[int, GroupementResult] = {}
    for result in results:
        current = chosen.get(result.campaign.year)
        if current is None or (result.campaign.status in in_force and current.campaign.status not in in_force):
            chosen[result.campaign.year] = result
    return [
        GuaranteeYear(
            year=year,
            campaign=r.campaign,
            n_patients=r.n_patients,
            budget_guarantee=r.budget_guarantee,
            real_expenditure=r.n_patients * r.real_per_patient,
            gain=r.budget_guarantee_gain,
        )
        for year, r in sorted(chosen.items())
    ]
