"""Campaign parameters (METHODOLOGY.md section 6): defaults, then parametres.json, then overrides.

Numeric values are kept as exact `Fraction`s parsed from their written text ("1/3", "0.005", a JSON
number's literal), so a campaign can be recomputed years later with exactly the same rules. Every
problem of the merged set is reported at once, each naming its parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from calculations.bundle.problems import Problem, ProblemsError
from calculations.bundle.reasons import number as shown_number
from calculations.bundle.reasons import one_of, quoted, reason

EVOLUTION_FORMS = ("rate", "absolute")
NOISE_GATES = ("off", "on")

AT_MOST_ONE = ("c_partage", "phase3_modulation", "phase3_quality_weight", "socle_share_with_carte")
INTEGER_VALUED = ("min_patients", "base_points", "max_experience_points")
# Shown as JSON numbers when whole (99, 300); every other value keeps its written text.
INTEGER_RENDERED = (*INTEGER_VALUED, "truncation_percentile")

_FRACTION_TEXT = re.compile(r"-?[0-9]+\s*/\s*[0-9]+")
# A JSON number literal, or a plain decimal such as "0.005" or "99.5".
_DECIMAL_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")

DEFAULT_SOURCE = "defaults"
BUNDLE_SOURCE = "parametres.json"
OVERRIDE_SOURCE = "--param"


class ParameterError(ProblemsError, ValueError):
    """The merged parameter set breaks the rules of section 6; carries every problem found."""


def parse_exact(value: object) -> Fraction | None:
    """The exact value of a parameter written as "a/b", a decimal, or a JSON number; None if it is none of these."""
    if isinstance(value, bool):  # JSON true/false are not numbers, although bool subclasses int
        return None
    if isinstance(value, int | Fraction | Decimal):
        return Fraction(value)
    if isinstance(value, float):
        # A JSON number already decoded to a double: its shortest repr is the literal that was written
        # in every ordinary case ("0.0065"), whereas Fraction(float) would be the binary approximation.
        return Fraction(repr(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _FRACTION_TEXT.fullmatch(text):
        numerator, denominator = (int(part) for part in text.split("/"))
        return None if denominator == 0 else Fraction(numerator, denominator)
    if _DECIMAL_TEXT.fullmatch(text):
        return Fraction(text)
    return None


def literal_text(value: object) -> str:
    """The text a value was written with, used to show it back unchanged ("1/3", "0.0065")."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Fraction):
        return str(value)
    return str(value).strip()


def _default(literal: str, *, choices: tuple[str, ...] | None = None):
    """A parameter's default, written once as its literal text; `choices` for a parameter that is a word."""
    value = literal if choices else parse_exact(literal)
    return field(default=value, metadata={"literal": literal, "choices": choices})


@dataclass(frozen=True)
class Parameters:
    """A merged, checked parameter set. Build it with `Parameters.merge`; `Parameters()` is the defaults.

    Fields are in the order of section 6, which is also the order of the output's `parameters`.
    """

    c_ecart: Fraction = _default("1/3")
    c_evolution: Fraction = _default("2/3")
    c_partage: Fraction = _default("1/2")
    evolution_form: str = _default("rate", choices=EVOLUTION_FORMS)
    truncation_percentile: Fraction = _default("99")
    quality_envelope_rate: Fraction = _default("0.005")
    phase3_modulation: Fraction = _default("0.2")
    phase3_quality_weight: Fraction = _default("1/2")
    group_cap_rate: Fraction = _default("0.02")
    national_ceiling_rate: Fraction = _default("0.01")
    min_patients: Fraction = _default("5000")
    socle_share_with_carte: Fraction = _default("0.7")
    base_points: Fraction = _default("100")
    max_experience_points: Fraction = _default("20")
    confidence_level: Fraction = _default("0.95")
    noise_gate: str = _default("off", choices=NOISE_GATES)
    # How each value was written, so the statement and the JSON show "1/3" rather than 0.333….
    literals: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LITERALS), compare=False, repr=False)

    @classmethod
    def merge(cls, *layers: tuple[str, Mapping[str, object]]) -> Parameters:
        """Defaults, then each `(source, {name: value})` layer in order (later wins); checks the merged set.

        Typical call: `Parameters.merge(("parametres.json", bundle_values), ("--param", overrides))`.
        Raises `ParameterError` listing every problem, each naming the parameter and where it came from.
        """
        raw: dict[str, object] = dict(DEFAULT_LITERALS)
        source_of = dict.fromkeys(DEFAULT_LITERALS, DEFAULT_SOURCE)
        problems: list[Problem] = []
        for source, values in layers:
            for name, value in (values or {}).items():
                if name not in DEFAULT_LITERALS:
                    problems.append(
                        _problem(
                            source,
                            name,
                            reason("unknown_parameter", value=quoted(value), known=", ".join(DEFAULT_LITERALS)),
                        )
                    )
                    continue
                raw[name] = value
                source_of[name] = source
        parsed: dict[str, object] = {}
        for name, value in raw.items():
            where = source_of[name]
            choices = CHOICES.get(name)
            if choices:
                if value not in choices:
                    text = reason("parameter_choice", allowed=one_of(choices), value=quoted(value))
                    problems.append(_problem(where, name, text))
                parsed[name] = value
                continue
            number = parse_exact(value)
            if number is None:
                problems.append(_problem(where, name, reason("parameter_number", value=quoted(value))))
                continue
            parsed[name] = number
            problems.extend(_value_problems(where, name, number, written=literal_text(value)))
        if all(isinstance(parsed.get(n), Fraction) for n in ("c_ecart", "c_evolution")):
            total = parsed["c_ecart"] + parsed["c_evolution"]
            if total != 1:
                where = source_of["c_ecart"] if source_of["c_ecart"] != DEFAULT_SOURCE else source_of["c_evolution"]
                text = reason(
                    "parameter_weights",
                    ecart=shown_number(literal_text(raw["c_ecart"])),  # as written: 0,5 rather than 1/2
                    evolution=shown_number(literal_text(raw["c_evolution"])),
                    value=shown_number(total),
                )
                problems.append(_problem(where, "c_ecart", text))
        points = [parsed.get(n) for n in ("base_points", "max_experience_points")]
        if all(isinstance(p, Fraction) for p in points) and sum(points) == 0:
            problems.append(
                _problem(
                    source_of["base_points"],
                    "base_points",
                    reason("parameter_points"),
                )
            )
        if problems:
            raise ParameterError(problems)
        literals = {name: literal_text(raw[name]) for name in DEFAULT_LITERALS}
        return cls(**parsed, literals=literals)

    def as_float(self, name: str) -> float:
        """The nearest double of a coefficient, for the IEEE-double steps of section 4."""
        return float(getattr(self, name))

    def to_json_dict(self) -> dict[str, object]:
        """The merged set as in expected_2022.v3.json: integers as numbers, other values as written ("1/3", "0.005")."""
        rendered: dict[str, object] = {}
        for name in DEFAULT_LITERALS:
            value = getattr(self, name)
            if name in INTEGER_RENDERED and value.denominator == 1:
                rendered[name] = int(value)
            elif isinstance(value, Fraction) and parse_exact(self.literals.get(name)) != value:
                rendered[name] = str(value)  # built directly, not from text: show the exact fraction
            else:
                rendered[name] = self.literals.get(name, str(value))
        return rendered


def _problem(source: str, name: str, reason: str) -> Problem:
    return Problem(source, None, name, reason, "parameter")


def _value_problems(source: str, name: str, number: Fraction, *, written: str) -> Iterable[Problem]:
    """The rules of section 6 `number` breaks, each showing the value as it was `written` (« 1,5 », not 3/2)."""
    shown = shown_number(written)
    if number < 0:
        yield _problem(source, name, reason("parameter_negative", value=shown))
        return
    if name in AT_MOST_ONE and number > 1:
        yield _problem(source, name, reason("parameter_at_most_one", value=shown))
    if name in INTEGER_VALUED and number.denominator != 1:
        yield _problem(source, name, reason("parameter_integer", value=shown))
    if name == "truncation_percentile" and not 0 < number <= 100:
        yield _problem(source, name, reason("parameter_percentile", value=shown))
    if name == "confidence_level" and not 0 < number < 1:
        yield _problem(source, name, reason("parameter_confidence", value=shown))


def parse_assignments(assignments: Iterable[str], source: str = OVERRIDE_SOURCE) -> dict[str, str]:
    """`["name=value", …]` from the command line as a dict; raises ParameterError for items without '='."""
    values, problems = split_assignments(assignments, source)
    if problems:
        raise ParameterError(problems)
    return values


def split_assignments(
    assignments: Iterable[str], source: str = OVERRIDE_SOURCE
) -> tuple[dict[str, str], list[Problem]]:
    """The `name=value` items as a dict, and a problem for each item without '=' (so that a caller can
    still check the others and report everything at once)."""
    values: dict[str, str] = {}
    problems = []
    for item in assignments:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            problems.append(_problem(source, item, reason("parameter_assignment")))
            continue
        values[name.strip()] = value.strip()
    return values, problems


def read_parameters_json(path: Path) -> dict[str, object]:
    """parametres.json with numbers kept as their literal text ({} when the file is absent)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        content = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=str, parse_int=str)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParameterError(
            [
                Problem(
                    path.name,
                    getattr(exc, "lineno", None),
                    None,
                    reason("json", line=getattr(exc, "lineno", 1), column=getattr(exc, "colno", 1)),
                    "json",
                )
            ]
        ) from exc
    if not isinstance(content, dict):
        raise ParameterError([Problem(path.name, 1, None, reason("json_object"), "json")])
    return content


# name -> default literal, in the order of section 6 (also the order of the output's `parameters`).
DEFAULT_LITERALS: dict[str, str] = {
    f.name: f.metadata["literal"] for f in fields(Parameters) if "literal" in f.metadata
}
# Parameters that are a word among a few, not a number.
CHOICES: dict[str, tuple[str, ...]] = {
    f.name: f.metadata["choices"] for f in fields(Parameters) if f.metadata.get("choices")
}
