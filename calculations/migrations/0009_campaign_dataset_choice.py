"""The dataset of each year is chosen when a campaign is created (no longer taken silently at launch):
who chose it and when. Existing choices are what the campaigns used: a launched campaign keeps its
rows (chosen by its launcher, at its launch); a draft or failed campaign never launched gets the file
it would have used, the latest valid one of each year it needs."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def years_needed(apps, year):
    Wave = apps.get_model("groupements", "Wave")
    reference_years = Wave.objects.filter(phases__year=year, groupements__isnull=False).values_list(
        "reference_year", flat=True
    )
    return sorted({year, *reference_years})


def back_fill_choices(apps, schema_editor):
    Campaign = apps.get_model("calculations", "Campaign")
    CampaignDataset = apps.get_model("calculations", "CampaignDataset")
    Dataset = apps.get_model("calculations", "Dataset")
    for campaign in Campaign.objects.all().iterator():
        rows = CampaignDataset.objects.filter(campaign=campaign)
        if rows.exists():
            rows.update(chosen_by_id=campaign.launched_by_id, chosen_at=campaign.launched_at or campaign.created_at)
        elif campaign.status in ("draft", "failed"):
            for year in years_needed(apps, campaign.year):
                latest = (
                    Dataset.objects.filter(kind="beneficiaires", status="valid", year=year)
                    .order_by("-validated_at", "-pk")
                    .first()
                )
                if latest is not None:
                    CampaignDataset.objects.create(
                        campaign=campaign,
                        dataset=latest,
                        year=year,
                        sha256=latest.sha256,
                        chosen_by_id=campaign.created_by_id,
                        chosen_at=campaign.created_at,
                    )


class Migration(migrations.Migration):

    dependencies = [
        ('calculations', '0008_robustness_and_sensitivity'),
        ('groupements', '0004_move_ledger_to_financing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='campaigndataset',
            name='chosen_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='choisi le'),
        ),
        migrations.AddField(
            model_name='campaigndataset',
            name='chosen_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='choisi par'),
        ),
        migrations.AlterField(
            model_name='campaigndataset',
            name='campaign',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='campaign_datasets', to='calculations.campaign', verbose_name='campagne'),
        ),
        migrations.AlterField(
            model_name='campaigndataset',
            name='dataset',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='campaign_uses', to='calculations.dataset', verbose_name='jeu de données'),
        ),
        migrations.RunPython(back_fill_choices, migrations.RunPython.noop),
    ]
