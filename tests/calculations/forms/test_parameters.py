"""The typed parameter form (section 6): French decimals and fractions accepted and kept exact, each
refusal on its own field in French, the engine's check as the last word."""

from fractions import Fraction

import pytest

from calculations.engine import Parameters
from calculations.engine.parameters import DEFAULT_LITERALS
from calculations.forms.parameters import GROUPS, INVALID_NUMBER, ParameterForm, shown


def typed(**changes) -> dict:
    """What a person submits: every default as shown (decimal comma), with `changes` typed over it."""
    return {**{name: shown(value) for name, value in DEFAULT_LITERALS.items()}, **changes}


def test_defaults_are_shown_with_a_decimal_comma_and_in_the_help():
    form = ParameterForm()
    assert form["quality_envelope_rate"].value() == "0,005"
    assert 'value="0,005"' in str(form["quality_envelope_rate"])
    assert form.fields["c_ecart"].help_text.endswith("Par défaut : 1/3.")
    assert form.fields["noise_gate"].help_text.endswith("Par défaut : désactivé.")
    assert form.fields["c_partage"].label == "Part du gain reversée"
    assert [title for title, _ in GROUPS] == ["Efficience", "Qualité", "Plafonds", "Robustesse"]


def test_decimal_comma_and_fractions_are_kept_exact():
    form = ParameterForm(
        data=typed(c_ecart=" 1/4 ", c_evolution="0,75", quality_envelope_rate="0,0065", min_patients="4 000")
    )
    assert form.is_valid(), form.errors
    values = form.parameter_values()
    assert (values["c_ecart"], values["c_evolution"], values["quality_envelope_rate"]) == ("1/4", "0.75", "0.0065")
    assert values["min_patients"] == "4000"
    merged = Parameters.merge(("formulaire", values))
    assert merged.c_ecart + merged.c_evolution == 1
    assert merged.quality_envelope_rate == Fraction(65, 10000)
    assert form.changed_parameters() == {
        "c_ecart": "1/4",
        "c_evolution": "0.75",
        "quality_envelope_rate": "0.0065",
        "min_patients": "4000",
    }


def test_a_campaign_s_parameters_prefill_the_form():
    form = ParameterForm(initial_parameters={"c_partage": "0.6", "min_patients": 4000, "noise_gate": "on"})
    assert 'value="0,6"' in str(form["c_partage"])
    assert form["min_patients"].value() == "4000"
    assert form["noise_gate"].value() == "on"
    unchanged = ParameterForm(
        data=typed(c_partage="0,6", min_patients="4000", noise_gate="on"),
        initial_parameters={"c_partage": "0.6", "min_patients": 4000, "noise_gate": "on"},
    )
    assert unchanged.is_valid() and unchanged.changed_parameters() == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("c_partage", "beaucoup", INVALID_NUMBER),
        ("c_partage", "1/0", INVALID_NUMBER),
        ("group_cap_rate", "-0,01", "La valeur ne peut pas être négative."),
        ("c_partage", "1,5", "La valeur doit être au plus 1 (c'est une part)."),
        ("phase3_modulation", "3/2", "La valeur doit être au plus 1 (c'est une part)."),
        ("phase3_quality_weight", "1,01", "La valeur doit être au plus 1 (c'est une part)."),
        ("socle_share_with_carte", "2", "La valeur doit être au plus 1 (c'est une part)."),
        ("min_patients", "5000,5", "Un nombre entier est attendu."),
        ("base_points", "100/3", "Un nombre entier est attendu."),
        ("max_experience_points", "20,5", "Un nombre entier est attendu."),
        ("truncation_percentile", "0", "Le centile doit être strictement supérieur à 0 et au plus 100."),
        ("truncation_percentile", "100,5", "Le centile doit être strictement supérieur à 0 et au plus 100."),
        ("confidence_level", "1", "Le niveau doit être strictement entre 0 et 1 (0,95 pour 95 %)."),
        ("confidence_level", "0", "Le niveau doit être strictement entre 0 et 1 (0,95 pour 95 %)."),
        ("national_ceiling_rate", "", "Ce champ est obligatoire."),
    ],
)
def test_each_refusal_is_on_its_own_field(field, value, message):
    form = ParameterForm(data=typed(**{field: value}))
    assert not form.is_valid()
    assert form.errors == {field: [message]}


@pytest.mark.parametrize("field", ["noise_gate", "evolution_form"])
def test_a_word_outside_the_choices_is_refused_on_its_field(field):
    form = ParameterForm(data=typed(**{field: "peut-être"}))
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert "Sélectionnez un choix valide" in form.errors[field][0]


def test_weights_that_do_not_sum_to_one_are_refused_on_both_weights():
    form = ParameterForm(data=typed(c_ecart="1/2"))  # 1/2 + 2/3 = 7/6
    assert not form.is_valid()
    message = "Les poids de l'écart et de l'évolution doivent faire 1 ensemble (ici 7/6)."
    assert form.errors == {"c_ecart": [message], "c_evolution": [message]}


def test_no_points_at_all_is_refused_on_the_base_points():
    form = ParameterForm(data=typed(base_points="0", max_experience_points="0"))
    assert not form.is_valid()
    assert form.errors == {
        "base_points": ["Points de base et points d'expérience ne peuvent pas être nuls tous les deux."]
    }


def test_every_value_the_form_accepts_the_engine_accepts():
    form = ParameterForm(
        data=typed(truncation_percentile="100", confidence_level="0,9", noise_gate="on", evolution_form="absolute")
    )
    assert form.is_valid(), form.errors
    merged = Parameters.merge(("formulaire", form.parameter_values()))
    assert (merged.truncation_percentile, merged.noise_gate, merged.evolution_form) == (100, "on", "absolute")
