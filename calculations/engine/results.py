"""The result of a campaign computation, shaped like METHODOLOGY.md section 5 (expected_2022.v3.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal

from .parameters import Parameters
from .steps.quality import IndicatorScore


@dataclass(frozen=True)
class GroupementResultRow:
    """One groupement's figures: the keys of the section-5 JSON (in its order), then what the statement
    shows besides them (STATEMENT_FIELDS), so that no reader ever recomputes a figure."""

    code: str
    wave: str
    phase: int
    reference_year: int
    n_patients: int
    n_patients_reference: int
    below_min_patients: bool
    real_per_patient: float
    expected_per_patient: float
    real_per_patient_reference: float
    expected_per_patient_reference: float
    level_gap: float
    level_gap_se: float
    evolution_gap: float
    level_gap_se_reference: float
    level_gap_low: float
    level_gap_high: float
    evolution_gap_se: float
    evolution_gap_low: float
    evolution_gap_high: float
    efficiency_noise: bool
    amount_per_patient_untruncated: float
    efficiency_amount_untruncated: float
    amount_per_patient: float
    efficiency_amount: float
    quality_score: float
    quality_ratio: float
    drawing_right: float
    quality_value: float
    quality_amount: float
    amount_before_cap: float
    real_expenditure_total: float
    cap: float
    amount_after_cap: float
    budget_guarantee: float
    budget_guarantee_gain: float
    final_amount: Decimal
    # --- statement figures, not part of the section-5 JSON
    quality_details: tuple[IndicatorScore, ...]  # step 7, one line per indicator
    indicator_points: float  # Σ p·f
    experience_points: float
    score_max: float  # S_max
    phase3_factor: float | None  # 1 − μ + 2μq (phase 3 only)
    positive_level_gap: float  # max(0, E)
    positive_evolution_gap: float  # max(0, Ev)
    truncated_expenditure_total: float  # n_N · DR̄_N, beside the budget guarantee
    amount_after_coefficient: float  # amount_after_cap · k, before the cents of step 11

    @classmethod
    def json_keys(cls) -> list[str]:
        """The keys of one groupement in the JSON of section 5, in order."""
        return [f.name for f in fields(cls) if f.name not in STATEMENT_FIELDS]

    def to_json_dict(self) -> dict[str, object]:
        row = {name: getattr(self, name) for name in self.json_keys()}
        row["final_amount"] = money_text(self.final_amount)
        return row


@dataclass(frozen=True)
class CampaignTotals:
    real_expenditure_total: float
    n_patients: int
    quality_envelope: float
    national_ceiling: float
    amount_after_cap: float
    national_coefficient: float
    final_amount: Decimal

    def to_json_dict(self) -> dict[str, object]:
        totals = asdict(self)
        totals["final_amount"] = money_text(self.final_amount)
        return totals


@dataclass(frozen=True)
class CampaignResults:
    year: int
    parameters: Parameters
    truncation_thresholds: dict[int, float]
    totals: CampaignTotals
    groupements: list[GroupementResultRow]

    def to_json_dict(self) -> dict[str, object]:
        """Exactly the JSON of section 5: money in `final_amount` as a 2-decimal string, the rest numbers."""
        return {
            "year": self.year,
            "parameters": self.parameters.to_json_dict(),
            "truncation_thresholds": {str(year): value for year, value in sorted(self.truncation_thresholds.items())},
            "totals": self.totals.to_json_dict(),
            "groupements": [row.to_json_dict() for row in self.groupements],
        }

    def csv_rows(self) -> list[list[str]]:
        """The header, then one row per groupement in the `;`-file convention of `csv_cell` (the writer,
        outside the engine, makes the cells safe for spreadsheets)."""
        names = GroupementResultRow.json_keys()
        return [names, *([csv_cell(getattr(row, name)) for name in names] for row in self.groupements)]


def money_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def csv_cell(value: object) -> str:
    """The `;`-file convention of the bundles: decimal comma, no thousands separator, booleans 0/1,
    money to the cent, floats at full precision, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return money_text(value).replace(".", ",")
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return str(value)


STATEMENT_FIELDS = (
    "quality_details",
    "indicator_points",
    "experience_points",
    "score_max",
    "phase3_factor",
    "positive_level_gap",
    "positive_evolution_gap",
    "truncated_expenditure_total",
    "amount_after_coefficient",
)
