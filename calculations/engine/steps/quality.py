"""Step 7 — the quality score S from indicator results, deciles and patient-experience points."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from calculations.bundle.reasons import reason

from ..errors import EngineError, engine_problem
from ..parameters import Parameters


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    family: str  # socle | carte
    direction: str  # hausse | baisse
    value_n: float  # x_N
    value_n_1: float | None  # x_{N−1}
    d2: float
    d3: float
    d7: float
    d8: float
    label: str = ""


@dataclass(frozen=True)
class IndicatorScore:
    """One line of the statement's quality table: an indicator's result and the points it earned."""

    code: str
    label: str
    family: str
    direction: str
    value_n: float
    value_n_1: float | None
    d2: float
    d3: float
    d7: float
    d8: float
    fraction: float  # f ∈ [−1, 1]
    points: float  # p · f
    max_points: float  # p

    def to_json_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Quality:
    score: float  # S (may be negative)
    ratio: float  # q = clamp(S / S_max, 0, 1)
    score_max: float  # S_max = base_points + max_experience_points
    indicator_points: float  # Σ p·f over the indicators
    experience_points: float
    indicators: tuple[IndicatorScore, ...]  # socle first, then carte, each by code


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def indicator_fraction(result: IndicatorResult) -> float:
    """The share f ∈ [−1, 1] of an indicator's points earned (step 7).

    hausse: target T = d8, threshold I = d3; at or past T → 1; between → linear progress from I to T;
    below I → the year's progress (x_N − x_{N−1}) over (T − I), clamped to [−1, 1], 0 without x_{N−1}.
    baisse mirrors it with T = d2, I = d7 (lower is better).
    """
    x = result.value_n
    if result.direction == "hausse":
        target, threshold = result.d8, result.d3
        if x >= target:
            return 1.0
        if x >= threshold:
            return (x - threshold) / (target - threshold)
        if result.value_n_1 is None:
            return 0.0
        return _clamp((x - result.value_n_1) / (target - threshold), -1.0, 1.0)
    target, threshold = result.d2, result.d7
    if x <= target:
        return 1.0
    if x <= threshold:
        return (threshold - x) / (threshold - target)
    if result.value_n_1 is None:
        return 0.0
    return _clamp((result.value_n_1 - x) / (threshold - target), -1.0, 1.0)


def indicator_points(socle_count: int, carte_count: int, parameters: Parameters) -> tuple[float, float]:
    """Points per socle and per carte indicator: B split over socle alone, or share·B / (1−share)·B with carte ones.

    Computed as exact fractions then rounded once, so 30 points over 2 carte indicators are exactly 15.
    """
    base = parameters.base_points
    if carte_count == 0:
        return float(base / socle_count), 0.0
    share = parameters.socle_share_with_carte
    return float(share * base / socle_count), float((1 - share) * base / carte_count)


def quality_score(
    groupement: str, results: list[IndicatorResult], experience_points: float, parameters: Parameters
) -> Quality:
    """Step 7: S = Σ p·f over the groupement's indicators + experience points; q = clamp(S / S_max, 0, 1)."""
    socle = [r for r in results if r.family == "socle"]
    carte = [r for r in results if r.family == "carte"]
    if not socle:
        raise EngineError(
            [
                engine_problem(
                    "resultats_indicateurs.csv",
                    reason("no_socle_result", groupement=groupement),
                    "code_indicateur",
                )
            ]
        )
    socle_points, carte_points = indicator_points(len(socle), len(carte), parameters)
    scores = tuple(indicator_score(r, socle_points) for r in sorted(socle, key=lambda r: r.code)) + tuple(
        indicator_score(r, carte_points) for r in sorted(carte, key=lambda r: r.code)
    )
    earned = [s.points for s in scores]
    score = math.fsum([*earned, experience_points])
    maximum = float(parameters.base_points + parameters.max_experience_points)
    return Quality(
        score=score,
        ratio=_clamp(score / maximum, 0.0, 1.0),
        score_max=maximum,
        indicator_points=math.fsum(earned),
        experience_points=experience_points,
        indicators=scores,
    )


def indicator_score(result: IndicatorResult, max_points: float) -> IndicatorScore:
    """An indicator worth `max_points` (p) earns p · f."""
    fraction = indicator_fraction(result)
    return IndicatorScore(
        code=result.code,
        label=result.label,
        family=result.family,
        direction=result.direction,
        value_n=result.value_n,
        value_n_1=result.value_n_1,
        d2=result.d2,
        d3=result.d3,
        d7=result.d7,
        d8=result.d8,
        fraction=fraction,
        points=max_points * fraction,
        max_points=max_points,
    )
