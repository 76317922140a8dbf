"""The engine now returns every figure a statement shows (S max, the phase-3 factor, the indicator points…),
stored with each result instead of being recomputed by the statement.

Results stored before this migration get the same figures, derived here once from what they already hold
and from their campaign's parameters (the arithmetic the statement used to do). Results of validated or
later campaigns are frozen by the trigger of 0005: it is disabled for this backfill only, in the same
transaction, and is back in force when the migration commits.
"""

import math
from fractions import Fraction

from django.db import migrations, models

TABLE = "calculations_groupementresult"
TRIGGER = "ipep_frozen_results"
FIGURES = [
    "indicator_points",
    "score_max",
    "phase3_factor",
    "positive_level_gap",
    "positive_evolution_gap",
    "truncated_expenditure_total",
    "amount_after_coefficient",
]


def _parameter(parameters: dict, name: str, default: str) -> Fraction:
    return Fraction(str(parameters.get(name, default)))


def backfill_statement_figures(apps, schema_editor):
    GroupementResult = apps.get_model("calculations", "GroupementResult")
    results = list(GroupementResult.objects.select_related("campaign"))
    if not results:
        return
    for result in results:
        parameters = result.campaign.parameters or {}
        modulation = float(_parameter(parameters, "phase3_modulation", "0.2"))
        result.indicator_points = math.fsum(float(line.get("points") or 0.0) for line in result.quality_details or [])
        result.score_max = float(
            _parameter(parameters, "base_points", "100") + _parameter(parameters, "max_experience_points", "20")
        )
        result.phase3_factor = (
            1 - modulation + 2 * modulation * result.quality_ratio if result.phase == 3 else None
        )
        result.positive_level_gap = max(0.0, result.level_gap)
        result.positive_evolution_gap = max(0.0, result.evolution_gap)
        result.truncated_expenditure_total = result.n_patients * result.real_per_patient
        coefficient = result.campaign.national_coefficient
        result.amount_after_coefficient = result.amount_after_cap * (1.0 if coefficient is None else coefficient)
    postgres = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        GroupementResult.objects.bulk_update(results, FIGURES, batch_size=500)
        if postgres:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("calculations", "0006_dataset_files_in_storage")]

    operations = [
        migrations.AddField(
            model_name="groupementresult",
            name="indicator_points",
            field=models.FloatField(default=0.0, verbose_name="points des indicateurs"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="score_max",
            field=models.FloatField(default=0.0, verbose_name="score qualité maximal"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="phase3_factor",
            field=models.FloatField(blank=True, null=True, verbose_name="modulation de l'efficience (phase 3)"),
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="positive_level_gap",
            field=models.FloatField(default=0.0, verbose_name="max(0 ; E)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="positive_evolution_gap",
            field=models.FloatField(default=0.0, verbose_name="max(0 ; Ev)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="truncated_expenditure_total",
            field=models.FloatField(default=0.0, verbose_name="dépenses réelles écrêtées N"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groupementresult",
            name="amount_after_coefficient",
            field=models.FloatField(default=0.0, verbose_name="montant après plafond × k"),
            preserve_default=False,
        ),
        migrations.RunPython(backfill_statement_figures, migrations.RunPython.noop),
    ]
