"""Read queries on the financing ledger: the FISS report and the break-even view of a campaign.

FISS report rules (METHODOLOGY section 7):
- it counts **paid** lines to groupements, grouped by payment year, wave and nature (planned lines
  are commitments, covered by the planned envelope; pilot-project lines belong to the Belgian scheme
  and are not FISS money);
- a recovery (a negative line imported from versements.csv) subtracts from the cell of its wave,
  nature and payment year, like a campaign's negative correction;
- the planned envelope (setting IPEP_PLANNED_ENVELOPE) is added for each planned year that has no
  paid payment yet; once a year has payments, its real figures replace its envelope (a recovery alone
  does not: money taken back early in a year leaves that year's planned payments planned, and both
  count in the year's total);
- amounts are summed exactly (Decimal, in Python); the text and HTML tables show whole euros rounded
  half-up (a negative one with a true minus, `−5 000 €`), like the official table, CSV and JSON keep
  the cents (CSV with an ASCII `-`, for programs).
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from calculations.models import Campaign
from common.formatting import NBSP, format_integer, format_number
from common.spreadsheets import csv_writer

from ..models import LedgerLine, Nature

ZERO = Decimal("0.00")
EMPTY_CELL = "–"
NATURE_ORDER = {Nature.SEED: 0, Nature.INCENTIVE: 1}


def euros(amount: Decimal) -> str:
    """Whole euros, French style: `1 395 000 €` (no-break spaces U+00A0)."""
    return f"{format_integer(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))}{NBSP}€"


def _year_span(years) -> str:
    years = sorted(years)
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])


@dataclass
class FinancingRow:
    wave_code: str
    label: str  # "Vague 1 — crédits d'amorçage"
    nature: str
    amounts: dict[int, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


@dataclass
class FinancingReport:
    years: list[int]
    rows: list[FinancingRow]
    planned: dict[int, Decimal] = field(default_factory=dict)

    @property
    def totals(self) -> dict[int, Decimal]:
        return {year: sum((row.amounts.get(year, ZERO) for row in self.rows), ZERO) for year in self.years}

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)

    @property
    def planned_total(self) -> Decimal:
        return sum(self.planned.values(), ZERO)

    @property
    def grand_total(self) -> Decimal:
        return self.total + self.planned_total

    def year_grand_total(self, year: int) -> Decimal | None:
        """What a year counts in the grand total: its paid lines and, if still planned, its envelope."""
        totals = self.totals
        if year not in totals and year not in self.planned:
            return None
        return totals.get(year, ZERO) + self.planned.get(year, ZERO)

    @property
    def all_years(self) -> list[int]:
        return sorted({*self.years, *self.planned})

    def cells(self, row: FinancingRow) -> list[str]:
        return [euros(row.amounts[year]) if year in row.amounts else EMPTY_CELL for year in self.years]

    @property
    def display_rows(self) -> list[tuple[str, list[str]]]:
        return [(row.label, self.cells(row)) for row in self.rows]

    @property
    def display_totals(self) -> list[str]:
        return [euros(self.totals[year]) for year in self.years]

    def summary_lines(self) -> list[str]:
        lines = []
        if self.years:
            lines.append(f"Total {_year_span(self.years)} : {euros(self.total)}")
        for year, amount in sorted(self.planned.items()):
            lines.append(f"Enveloppe prévue {year} : {euros(amount)}")
        if self.planned:
            lines.append(f"Total avec les années prévues ({_year_span(self.all_years)}) : {euros(self.grand_total)}")
        return lines


def financing_report() -> FinancingReport:
    lines = (
        LedgerLine.objects.filter(status=LedgerLine.Status.PAID, groupement__isnull=False)
        .select_related("groupement__wave")
        .only(
            "year",
            "nature",
            "amount",
            "groupement__wave__code",
            "groupement__wave__label",
            "groupement__wave__entry_year",
        )
    )
    cells: dict[tuple, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    waves = {}
    paid_years = set()  # years with a payment (not only recoveries): their envelope is replaced
    for line in lines:
        wave = line.groupement.wave
        waves[wave.code] = wave
        cells[(wave.code, line.nature)][line.year] += line.amount
        if line.amount >= 0:
            paid_years.add(line.year)
    rows = [
        FinancingRow(
            wave_code=code,
            label=f"{waves[code].label or code} — {Nature(nature).label}",
            nature=nature,
            amounts=dict(amounts),
        )
        for (code, nature), amounts in sorted(
            cells.items(), key=lambda item: (waves[item[0][0]].entry_year, item[0][0], NATURE_ORDER[item[0][1]])
        )
    ]
    years = sorted({year for row in rows for year in row.amounts})
    planned = {
        int(year): Decimal(amount)
        for year, amount in settings.IPEP_PLANNED_ENVELOPE.items()
        if int(year) not in paid_years
    }
    return FinancingReport(years=years, rows=rows, planned=planned)


def financing_text(report: FinancingReport) -> str:
    """The report as an aligned text table (also valid Markdown), then the totals."""
    out = ["Financement FISS : versements payés par année de paiement", ""]
    if not report.rows:
        out.append("Aucun versement payé au grand livre.")
    else:
        header = ["", *map(str, report.years)]
        body = [[row.label, *report.cells(row)] for row in report.rows]
        body.append(["Total", *(euros(report.totals[year]) for year in report.years)])
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

        def format_line(cells):
            return (
                "| "
                + " | ".join(
                    [cells[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]
                )
                + " |"
            )

        out.append(format_line(header))
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out.extend(format_line(line) for line in body)
    out.append("")
    out.extend(report.summary_lines())
    return "\n".join(out) + "\n"


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else format_number(amount, 2, separator="", minus="-")


def financing_csv(report: FinancingReport) -> str:
    """`;`-separated, decimal comma, cents kept; the planned years are extra columns."""
    years = report.all_years
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["ligne", "vague", "nature", *years, "total"])
    for row in report.rows:
        writer.writerow(
            [row.label, row.wave_code, row.nature, *(_plain(row.amounts.get(y)) for y in years), _plain(row.total)]
        )
    writer.writerow(["Total versé", "", "", *(_plain(report.totals.get(y)) for y in years), _plain(report.total)])
    if report.planned:
        writer.writerow(
            ["Enveloppe prévue", "", "", *(_plain(report.planned.get(y)) for y in years), _plain(report.planned_total)]
        )
    writer.writerow(
        [
            "Total général",
            "",
            "",
            *(_plain(report.year_grand_total(y)) for y in years),
            _plain(report.grand_total),
        ]
    )
    return buffer.getvalue()


def financing_json(report: FinancingReport) -> str:
    def money(amount: Decimal) -> str:
        return f"{amount.quantize(Decimal('0.01'))}"

    data = {
        "years": report.years,
        "rows": [
            {
                "label": row.label,
                "wave": row.wave_code,
                "nature": row.nature,
                "amounts": {str(y): money(a) for y, a in sorted(row.amounts.items())},
                "total": money(row.total),
            }
            for row in report.rows
        ],
        "totals": {str(y): money(a) for y, a in report.totals.items()},
        "total": money(report.total),
        "planned": {str(y): money(a) for y, a in sorted(report.planned.items())},
        "grand_total": money(report.grand_total),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------------------------
# Break-even of a campaign.


@dataclass
class BreakEven:
    """Would the growth avoided pay for the programme?

    - programme cost of year N = intéressement of campaign N (Σ final amounts, paid in N+1) + the
      crédits d'amorçage paid in N (ledger, any status);
    - required reduction = programme cost / real expenditure of year N (Campaign.real_expenditure_total):
      how much lower the year's spending must be to pay for the programme (the texts estimated 0.5 %);
    - observed, over the campaign's groupements, per patient from their reference year R to N
      (weighted by patients): real growth = (Σ n·DR̄_N / Σ n) / (Σ n_R·DR̄_R / Σ n_R) − 1, expected
      growth the same with DA̅; observed reduction = expected growth − real growth (positive when
      spending grew less than the risk model predicts);
    - observed saving in euros = Σ budget_guarantee_gain (step 12), beside the cost.
    """

    campaign: object
    real_expenditure: float
    incentive_cost: Decimal
    seed_cost: Decimal
    reference_real_total: float | None
    real_growth: float | None
    expected_growth: float | None
    observed_saving: float

    @property
    def programme_cost(self) -> Decimal:
        return self.incentive_cost + self.seed_cost

    @property
    def required_reduction(self) -> float | None:
        return float(self.programme_cost) / self.real_expenditure if self.real_expenditure else None

    @property
    def observed_reduction(self) -> float | None:
        if self.real_growth is None or self.expected_growth is None:
            return None
        return self.expected_growth - self.real_growth

    @property
    def covered(self) -> bool | None:
        if self.required_reduction is None or self.observed_reduction is None:
            return None
        return self.observed_reduction >= self.required_reduction


def break_even_campaigns():
    return Campaign.objects.filter(status__in=Campaign.statuses_where("reportable")).order_by("-year", "-version")


def break_even(*, campaign) -> BreakEven | None:
    """The break-even figures of a campaign with results and a real expenditure total, else None."""
    results = list(campaign.results.all())
    if not results or not campaign.real_expenditure_total:
        return None
    n = sum(r.n_patients for r in results)
    n_ref = sum(r.n_patients_reference for r in results)
    real_n = math.fsum(r.n_patients * r.real_per_patient for r in results)
    expected_n = math.fsum(r.n_patients * r.expected_per_patient for r in results)
    real_ref = math.fsum(r.n_patients_reference * r.real_per_patient_reference for r in results)
    expected_ref = math.fsum(r.n_patients_reference * r.expected_per_patient_reference for r in results)
    real_growth = expected_growth = None
    if n and n_ref and real_ref and expected_ref:
        real_growth = (real_n / n) / (real_ref / n_ref) - 1
        expected_growth = (expected_n / n) / (expected_ref / n_ref) - 1
    seeds = LedgerLine.objects.filter(nature=Nature.SEED, year=campaign.year, groupement__isnull=False).values_list(
        "amount", flat=True
    )
    return BreakEven(
        campaign=campaign,
        real_expenditure=campaign.real_expenditure_total,
        incentive_cost=sum((r.final_amount for r in results), ZERO),
        seed_cost=sum(seeds, ZERO),
        reference_real_total=real_ref if n_ref else None,
        real_growth=real_growth,
        expected_growth=expected_growth,
        observed_saving=math.fsum(r.budget_guarantee_gain for r in results),
    )
