"""Campaign parameters (METHODOLOGY.md section 6): exact parsing, merge order, every problem at once."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from calculations.engine import ParameterError, Parameters
from calculations.engine.parameters import parse_assignments, parse_exact, read_parameters_json
from tests.golden import expected_golden

DEFAULT_RENDERING = {
    "c_ecart": "1/3",
    "c_evolution": "2/3",
    "c_partage": "1/2",
    "evolution_form": "rate",
    "truncation_percentile": 99,
    "quality_envelope_rate": "0.005",
    "phase3_modulation": "0.2",
    "phase3_quality_weight": "1/2",
    "group_cap_rate": "0.02",
    "national_ceiling_rate": "0.01",
    "min_patients": 5000,
    "socle_share_with_carte": "0.7",
    "base_points": 100,
    "max_experience_points": 20,
    "confidence_level": "0.95",
    "noise_gate": "off",
}


def problem_columns(error: ParameterError) -> list[str]:
    return [p.column for p in error.problems]


def test_defaults_are_the_table_of_section_6():
    defaults = Parameters()
    assert defaults.c_ecart == Fraction(1, 3) and defaults.c_evolution == Fraction(2, 3)
    assert defaults.quality_envelope_rate == Fraction(5, 1000)
    assert defaults.to_json_dict() == DEFAULT_RENDERING
    assert Parameters.merge().to_json_dict() == DEFAULT_RENDERING
    assert Parameters.merge() == defaults


@pytest.mark.parametrize(
    ("written", "exact"),
    [
        ("1/3", Fraction(1, 3)),
        (" 2 / 6 ", Fraction(1, 3)),
        ("0.005", Fraction(1, 200)),
        ("99.5", Fraction(199, 2)),
        (300, Fraction(300)),
        (0.0065, Fraction(65, 10000)),  # a decoded JSON number: its literal, not the binary double
        ("1e-3", Fraction(1, 1000)),  # JSON number literal text
        (Decimal("0.7"), Fraction(7, 10)),
    ],
)
def test_values_are_parsed_exactly(written, exact):
    assert parse_exact(written) == exact


@pytest.mark.parametrize("written", ["abc", "1/0", "0,5", "", "1/3/4", True, None, [1], "+1"])
def test_unparsable_values_are_refused(written):
    assert parse_exact(written) is None


def test_later_layers_win_and_literals_are_kept():
    merged = Parameters.merge(
        ("parametres.json", {"min_patients": 300, "national_ceiling_rate": "0.0065", "c_partage": "0.6"}),
        ("--param", {"c_partage": "3/5", "evolution_form": "absolute"}),
    )
    assert merged.min_patients == 300
    assert merged.national_ceiling_rate == Fraction(65, 10000)
    assert merged.c_partage == Fraction(3, 5)
    assert merged.evolution_form == "absolute"
    rendered = merged.to_json_dict()
    assert (
        rendered["c_partage"] == "3/5"
        and rendered["national_ceiling_rate"] == "0.0065"
        and rendered["min_patients"] == 300
    )
    assert list(rendered) == list(DEFAULT_RENDERING)


def test_golden_parametres_json_renders_like_the_expected_file(tmp_path):
    path = tmp_path / "parametres.json"
    path.write_text('{\n  "min_patients": 300,\n  "national_ceiling_rate": 0.0065\n}', encoding="utf-8")
    merged = Parameters.merge(("parametres.json", read_parameters_json(path)))
    assert merged.to_json_dict() == {**DEFAULT_RENDERING, "min_patients": 300, "national_ceiling_rate": "0.0065"}
    # In the order of expected_2022.v3.json (section 6: the two step-13 parameters last).
    assert list(merged.to_json_dict().items()) == list(expected_golden()["parameters"].items())


def test_decimal_percentile_keeps_its_text():
    merged = Parameters.merge(("--param", {"truncation_percentile": "99.5"}))
    assert merged.truncation_percentile == Fraction(199, 2)
    assert merged.to_json_dict()["truncation_percentile"] == "99.5"


def test_every_problem_is_reported_at_once_naming_the_parameter():
    with pytest.raises(ParameterError) as caught:
        Parameters.merge(
            ("parametres.json", {"unknown_rate": "1", "group_cap_rate": "-0.02", "c_partage": "3/2"}),
            (
                "--param",
                {
                    "phase3_modulation": "1.5",
                    "phase3_quality_weight": "2",
                    "socle_share_with_carte": "1.01",
                    "min_patients": "12.5",
                    "base_points": "100.5",
                    "max_experience_points": "1/2",
                    "truncation_percentile": "0",
                    "evolution_form": "linear",
                    "quality_envelope_rate": "five",
                    "confidence_level": "1",
                    "noise_gate": "yes",
                },
            ),
        )
    columns = problem_columns(caught.value)
    for name in (
        "unknown_rate",
        "group_cap_rate",
        "c_partage",
        "phase3_modulation",
        "phase3_quality_weight",
        "socle_share_with_carte",
        "min_patients",
        "base_points",
        "max_experience_points",
        "truncation_percentile",
        "evolution_form",
        "quality_envelope_rate",
        "confidence_level",
        "noise_gate",
    ):
        assert name in columns, name
    by_column = {p.column: p for p in caught.value.problems}
    assert by_column["unknown_rate"].file == "parametres.json"
    assert by_column["min_patients"].file == "--param"
    assert "ne doit pas être négatif" in by_column["group_cap_rate"].reason
    assert "au plus 1" in by_column["c_partage"].reason
    assert "doit être un entier" in by_column["min_patients"].reason
    assert str(by_column["truncation_percentile"]).startswith("--param: truncation_percentile: ")


def test_overriding_one_weight_alone_is_an_error():
    with pytest.raises(ParameterError) as caught:
        Parameters.merge(("--param", {"c_ecart": "1/2"}))
    assert problem_columns(caught.value) == ["c_ecart"]
    assert "7/6" in caught.value.problems[0].reason  # 1/2 + 2/3
    both = Parameters.merge(("--param", {"c_ecart": "1/2", "c_evolution": "0.5"}))
    assert both.c_ecart + both.c_evolution == 1


@pytest.mark.parametrize(
    ("percentile", "accepted"), [("100", True), ("0.0001", True), ("99.5", True), ("0", False), ("100.5", False)]
)
def test_percentile_must_be_in_0_excluded_to_100(percentile, accepted):
    if accepted:
        assert Parameters.merge(("--param", {"truncation_percentile": percentile})).truncation_percentile == Fraction(
            percentile
        )
    else:
        with pytest.raises(ParameterError) as caught:
            Parameters.merge(("--param", {"truncation_percentile": percentile}))
        assert problem_columns(caught.value) == ["truncation_percentile"]


@pytest.mark.parametrize(
    ("level", "accepted"),
    [("0.95", True), ("0.5", True), ("0.999", True), ("1/2", True), ("0", False), ("1", False), ("1.2", False)],
)
def test_confidence_level_must_be_strictly_between_0_and_1(level, accepted):
    if accepted:
        assert Parameters.merge(("--param", {"confidence_level": level})).confidence_level == Fraction(level)
    else:
        with pytest.raises(ParameterError) as caught:
            Parameters.merge(("--param", {"confidence_level": level}))
        assert problem_columns(caught.value) == ["confidence_level"]
        assert "]0, 1[" in caught.value.problems[0].reason


def test_negative_confidence_level_is_refused():
    with pytest.raises(ParameterError) as caught:
        Parameters.merge(("parametres.json", {"confidence_level": "-0.95"}))
    assert [str(p) for p in caught.value.problems] == [
        "parametres.json: confidence_level: ne doit pas être négatif, reçu -0,95"  # as written, in French
    ]


@pytest.mark.parametrize("gate", ["on", "off"])
def test_noise_gate_is_on_or_off(gate):
    merged = Parameters.merge(("--param", {"noise_gate": gate}))
    assert merged.noise_gate == gate and merged.to_json_dict()["noise_gate"] == gate


@pytest.mark.parametrize("gate", ["ON", "Off", "yes", "1", True, 1, "", "on "])
def test_noise_gate_refuses_anything_else_exactly(gate):
    with pytest.raises(ParameterError) as caught:
        Parameters.merge(("parametres.json", {"noise_gate": gate}))
    assert [str(p) for p in caught.value.problems] == [
        f"parametres.json: noise_gate: doit valoir «\u202foff\u202f» ou «\u202fon\u202f», reçu «\u202f{gate}\u202f»"
    ]


def test_rates_above_one_are_allowed_where_section_6_does_not_forbid_them():
    merged = Parameters.merge(("--param", {"group_cap_rate": "1.5", "national_ceiling_rate": "2"}))
    assert merged.group_cap_rate == Fraction(3, 2)


def test_zero_maximum_score_is_refused():
    with pytest.raises(ParameterError) as caught:
        Parameters.merge(("--param", {"base_points": "0", "max_experience_points": "0"}))
    assert "base_points" in problem_columns(caught.value)


def test_command_line_assignments():
    assert parse_assignments(["c_partage=0.6", " evolution_form = absolute "]) == {
        "c_partage": "0.6",
        "evolution_form": "absolute",
    }
    with pytest.raises(ParameterError) as caught:
        parse_assignments(["c_partage", "=3"])
    assert len(caught.value.problems) == 2


def test_parameters_json_problems(tmp_path):
    assert read_parameters_json(tmp_path / "absent.json") == {}
    broken = tmp_path / "parametres.json"
    broken.write_text('{"c_partage": }', encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        read_parameters_json(broken)
    assert caught.value.problems[0].file == "parametres.json" and caught.value.problems[0].line == 1
