"""Read queries on pilot projects: the yearly coordination and innovative-actions figures, and the
garantie budgétaire of the groupement a project follows (for information: never paid)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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
    for claim in InnovativeActionClaim.objects.filter(pilot_project=project).only("year", "amount"):
        used[claim.year] += claim.amount
    return [
        PilotYear(year, coordination.get(year), used[year]) for year in range(project.start_year, project.end_year + 1)
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
