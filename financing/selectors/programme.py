"""The programme view of the break-even (issue 14, section 5): what the programme has paid and what it has
observed, cumulated over every year with a published campaign, and whether the gains pay for it so far.

For each year N whose campaign is in force (published or paid, one version per year):
- paid = crédits d'amorçage paid in N + intéressement of campaign N, from the ledger, paid lines to
  groupements only (the intéressement of campaign N is paid in N+1: a line without its campaign counts
  for the year before its payment year);
- observed gains = Σ budget_guarantee_gain of the campaign's groupements (step 12: the spending avoided
  against the guaranteed budget, signed) and, beside it, Σ efficiency_amount (step 6, what the efficiency
  rule computed for the groupements);
- cumulated from the first such year: the break-even growth reduction = cumulative paid ÷ cumulative real
  expenditure of the groupements (how much lower their spending growth must be for the programme to pay
  for itself), the observed reduction = cumulative Σ budget_guarantee_gain ÷ the same expenditure, and the
  programme is financed so far when the cumulative gain is at least the cumulative paid.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from calculations.models import Campaign
from common.formatting import format_percent, to_decimal
from common.spreadsheets import csv_writer

from ..models import LedgerLine, Nature
from .report import ZERO, euros


@dataclass(frozen=True)
class ProgrammeYear:
    year: int
    version: int
    seed_paid: Decimal
    incentive_paid: Decimal
    real_expenditure: float  # Σ DRtot_{g,N} of the campaign
    guarantee_gain: float  # Σ budget_guarantee_gain
    efficiency: float  # Σ efficiency_amount
    # Cumulated from the first year of the table to this one.
    paid_to_date: Decimal
    guarantee_gain_to_date: float
    efficiency_to_date: float
    real_expenditure_to_date: float

    @property
    def paid(self) -> Decimal:
        return self.seed_paid + self.incentive_paid

    @property
    def break_even_reduction(self) -> float | None:
        return float(self.paid_to_date) / self.real_expenditure_to_date if self.real_expenditure_to_date else None

    @property
    def observed_reduction(self) -> float | None:
        return self.guarantee_gain_to_date / self.real_expenditure_to_date if self.real_expenditure_to_date else None

    @property
    def financed(self) -> bool:
        """Financed so far: the gain observed to date covers what was paid to date (compared exactly)."""
        return to_decimal(self.guarantee_gain_to_date) >= self.paid_to_date


def _paid_by_campaign_year(years: set[int]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    seeds, incentives = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    paid = LedgerLine.objects.filter(status=LedgerLine.Status.PAID, groupement__isnull=False)
    for year, amount in paid.filter(nature=Nature.SEED, year__in=years).values_list("year", "amount"):
        seeds[year] += amount
    incentive_lines = paid.filter(nature=Nature.INCENTIVE).filter(
        Q(campaign__year__in=years) | Q(campaign__isnull=True, year__in=[y + 1 for y in years])
    )
    for payment_year, campaign_year, amount in incentive_lines.values_list("year", "campaign__year", "amount"):
        incentives[campaign_year if campaign_year is not None else payment_year - 1] += amount
    return seeds, incentives


def programme_view() -> list[ProgrammeYear]:
    """One row per year with a campaign in force, oldest first, with the cumulated figures."""
    campaigns = list(
        Campaign.objects.filter(status__in=Campaign.IN_FORCE_STATUSES, real_expenditure_total__isnull=False)
        .prefetch_related("results")
        .order_by("year")
    )
    seeds, incentives = _paid_by_campaign_year({c.year for c in campaigns})
    rows: list[ProgrammeYear] = []
    paid, gains, efficiencies, expenditures = ZERO, [], [], []
    for campaign in campaigns:
        results = list(campaign.results.all())
        gain = math.fsum(r.budget_guarantee_gain for r in results)
        efficiency = math.fsum(r.efficiency_amount for r in results)
        paid += seeds[campaign.year] + incentives[campaign.year]
        gains.append(gain)
        efficiencies.append(efficiency)
        expenditures.append(campaign.real_expenditure_total)
        rows.append(
            ProgrammeYear(
                year=campaign.year,
                version=campaign.version,
                seed_paid=seeds[campaign.year],
                incentive_paid=incentives[campaign.year],
                real_expenditure=campaign.real_expenditure_total,
                guarantee_gain=gain,
                efficiency=efficiency,
                paid_to_date=paid,
                guarantee_gain_to_date=math.fsum(gains),
                efficiency_to_date=math.fsum(efficiencies),
                real_expenditure_to_date=math.fsum(expenditures),
            )
        )
    return rows


def verdict(rows: list[ProgrammeYear]) -> str:
    last = rows[-1]
    answer = "oui" if last.financed else "non"
    return (
        f"Programme financé à ce jour ({rows[0].year}–{last.year}) : {answer} – gains observés cumulés "
        f"{euros(to_decimal(last.guarantee_gain_to_date))} pour {euros(last.paid_to_date)} versés ; baisse de "
        f"croissance observée {format_percent(last.observed_reduction, 3)}, point mort "
        f"{format_percent(last.break_even_reduction, 3)}."
    )


TEXT_HEADER = [
    "Année",
    "Amorçage",
    "Intéressement",
    "Versé",
    "Versé cumulé",
    "Gain garantie budg.",
    "Gain cumulé",
    "Efficience",
    "Efficience cumulée",
    "Point mort",
    "Baisse observée",
    "Financé",
]


def _text_cells(row: ProgrammeYear) -> list[str]:
    return [
        f"{row.year} v{row.version}",
        euros(row.seed_paid),
        euros(row.incentive_paid),
        euros(row.paid),
        euros(row.paid_to_date),
        euros(to_decimal(row.guarantee_gain)),
        euros(to_decimal(row.guarantee_gain_to_date)),
        euros(to_decimal(row.efficiency)),
        euros(to_decimal(row.efficiency_to_date)),
        format_percent(row.break_even_reduction, 3),
        format_percent(row.observed_reduction, 3),
        "oui" if row.financed else "non",
    ]


def programme_text(rows: list[ProgrammeYear]) -> str:
    """The cumulative table (aligned, valid Markdown) and the verdict; empty without a published campaign."""
    if not rows:
        return ""
    body = [TEXT_HEADER, *(_text_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(TEXT_HEADER))]

    def line(cells):
        return (
            "| "
            + " | ".join([cells[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])
            + " |"
        )

    out = ["Programme : versé et gains observés, cumulés sur les années avec une campagne publiée", ""]
    out += [line(body[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(cells) for cells in body[1:])]
    out += ["", verdict(rows)]
    return "\n".join(out) + "\n"


def _cents(value) -> str:
    return f"{to_decimal(value).quantize(Decimal('0.01'))}"


def programme_dicts(rows: list[ProgrammeYear]) -> list[dict]:
    return [
        {
            "year": row.year,
            "version": row.version,
            "seed_paid": _cents(row.seed_paid),
            "incentive_paid": _cents(row.incentive_paid),
            "paid": _cents(row.paid),
            "paid_to_date": _cents(row.paid_to_date),
            "budget_guarantee_gain": _cents(row.guarantee_gain),
            "budget_guarantee_gain_to_date": _cents(row.guarantee_gain_to_date),
            "efficiency_amount": _cents(row.efficiency),
            "efficiency_amount_to_date": _cents(row.efficiency_to_date),
            "real_expenditure_to_date": _cents(row.real_expenditure_to_date),
            "break_even_reduction": row.break_even_reduction,
            "observed_reduction": row.observed_reduction,
            "financed": row.financed,
        }
        for row in rows
    ]


def programme_csv(rows: list[ProgrammeYear]) -> str:
    """`;`-separated, decimal comma, cents kept, ratios at full precision; empty without a published campaign."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\n")
    dicts = programme_dicts(rows)
    writer.writerow(list(dicts[0]))
    for data in dicts:
        writer.writerow(
            [
                ("oui" if value else "non")
                if isinstance(value, bool)
                else ("" if value is None else str(value).replace(".", ","))
                for value in data.values()
            ]
        )
    return buffer.getvalue()


def programme_json(rows: list[ProgrammeYear]) -> dict:
    return {"years": programme_dicts(rows), "financed": rows[-1].financed if rows else None}


def with_programme_json(report_json: str, rows: list[ProgrammeYear]) -> str:
    """The FISS JSON with a `programme` key."""
    data = json.loads(report_json)
    data["programme"] = programme_json(rows)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
