"""Migration 0007 gives results stored before it the statement figures the engine now returns, derived
from what they hold; results of a validated (or later) campaign stay frozen by the trigger of 0005."""

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from calculations.models import GroupementResult
from tests.migrations import migrate

BEFORE = [("calculations", "0006_dataset_files_in_storage")]


@pytest.mark.django_db(transaction=True)
def test_older_results_get_their_statement_figures_and_frozen_ones_stay_frozen():
    old = migrate(BEFORE)
    wave = old.get_model("groupements", "Wave").objects.create(
        code="V1", label="Vague 1", entry_year=2019, reference_year=2018
    )
    groupement = old.get_model("groupements", "Groupement").objects.create(
        code="G001", name="MSP", wave=wave, region="Bretagne"
    )
    campaign = old.get_model("calculations", "Campaign").objects.create(
        year=2022,
        status="published",
        national_coefficient=0.75,
        parameters={"phase3_modulation": "0.25", "base_points": 100, "max_experience_points": 20},
    )
    old.get_model("calculations", "GroupementResult").objects.create(
        campaign=campaign,
        groupement=groupement,
        code="G001",
        wave="V1",
        phase=3,
        reference_year=2018,
        n_patients=4,
        n_patients_reference=4,
        below_min_patients=True,
        real_per_patient=2.5,
        expected_per_patient=2.0,
        real_per_patient_reference=2.0,
        expected_per_patient_reference=2.0,
        level_gap=-0.5,
        level_gap_se=0.0,
        evolution_gap=1.5,
        amount_per_patient=0.0,
        efficiency_amount=0.0,
        quality_score=60.0,
        quality_ratio=0.5,
        drawing_right=0.0,
        quality_value=0.0,
        quality_amount=0.0,
        amount_before_cap=100.0,
        real_expenditure_total=10.0,
        cap=200.0,
        amount_after_cap=100.0,
        budget_guarantee=0.0,
        budget_guarantee_gain=0.0,
        final_amount="75.00",
        quality_details=[{"code": "A", "points": 30.0}, {"code": "B", "points": 12.5}],
        experience_points=17.5,
    )

    migrate()

    result = GroupementResult.objects.get(code="G001")
    assert result.indicator_points == 42.5  # 30 + 12,5
    assert result.score_max == 120.0  # 100 + 20
    assert result.phase3_factor == 1 - 0.25 + 2 * 0.25 * 0.5  # 1 − μ + 2μq = 1.0
    assert (result.positive_level_gap, result.positive_evolution_gap) == (0.0, 1.5)
    assert result.truncated_expenditure_total == 10.0  # 4 × 2,5
    assert result.amount_after_coefficient == 75.0  # 100 × 0,75
    if settings.USES_POSTGRES:  # the trigger of 0005 is back in force
        with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
            GroupementResult.objects.filter(pk=result.pk).update(score_max=1.0)
    assert GroupementResult.objects.get(pk=result.pk).score_max == 120.0
