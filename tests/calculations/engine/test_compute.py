"""`compute_campaign` itself: which groupements take part, which years are needed, and the errors that
stop a campaign before any amount (each naming the groupement or the year)."""

from __future__ import annotations

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, TOY_SPEND, toy_inputs


def test_missing_beneficiaries_year_is_an_error():
    inputs = toy_inputs()
    del inputs.beneficiaries[2021]
    with pytest.raises(EngineError, match="2021"):
        compute_campaign(inputs, Parameters())


def test_groupements_outside_the_calendar_take_no_part():
    inputs = toy_inputs()
    inputs.phases = inputs.phases.clear()
    with pytest.raises(EngineError, match="aucun groupement n'y participe"):
        compute_campaign(inputs, Parameters())


def test_zero_expected_spend_in_reference_year_is_an_error():
    # Everybody spends 0 € in 2021: DA̅_R = 0 and DR̄_R · DA̅_N / DA̅_R is undefined.
    spend = {2022: TOY_SPEND[2022], 2021: [(G1_DOCTOR, 0), (G2_DOCTOR, 0), (OUTSIDE_DOCTOR, 0)]}
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(spend=spend), Parameters())
    assert [p.file for p in caught.value.problems] == ["beneficiaires_2021.csv", "beneficiaires_2021.csv"]
    assert "groupement G1" in str(caught.value) and "groupement G2" in str(caught.value)


def test_groupements_come_out_by_code():
    results = compute_campaign(toy_inputs(), Parameters())
    assert [row.code for row in results.groupements] == ["G1", "G2"]
    assert results.truncation_thresholds == {2021: 240.0, 2022: 300.0}  # rank 6 of 6: the maximum


def test_negative_indicator_values_from_any_source_are_errors():
    """Rates are never negative (section 3): the files refuse them; data from elsewhere (the database) too."""
    results = [
        {"groupement": "G1", "indicator": "S1", "value_n": -50.0, "value_n_1": 45.0},
        {"groupement": "G2", "indicator": "S1", "value_n": 90.0, "value_n_1": -0.5},
    ]
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(results=results), Parameters())
    assert [str(p) for p in caught.value.problems] == [
        "resultats_indicateurs_2022.csv: valeur_n: groupement G1, indicateur S1\u202f: valeur_n est négatif (-50,0)",
        "resultats_indicateurs_2022.csv: valeur_n_1: groupement G2, indicateur S1\u202f: valeur_n_1 est négatif (-0,5)",
    ]


def test_progress_is_reported_in_french_step_by_step():
    """Issue 15: the campaign page read « 62 % – 3. truncation 2022 »."""
    steps = []
    compute_campaign(toy_inputs(), Parameters(), progress=lambda step, fraction: steps.append(step))
    assert steps == [
        "membres (étape 1)",
        "écrêtement 2021 (étape 3)",
        "patientèles 2021 (étape 2)",
        "écrêtement 2022 (étape 3)",
        "patientèles 2022 (étape 2)",
        "modèle de risque (étape 4)",
        "moyennes (étape 5)",
        "gains d'efficience (étape 6)",
        "robustesse (étape 13)",
        "qualité (étape 7)",
        "enveloppe qualité (étape 8)",
        "phases (étape 9)",
        "plafonds (étape 10)",
        "centimes (étape 11)",
        "signalements (étape 12)",
        "terminé",
    ]
