"""The dataset of each year is chosen when a campaign is created (no longer taken silently at launch):
who chose it and when. Existing choices are what the campaigns used: a launched campaign keeps its
rows (chosen by its launcher, at its launch); a draft or failed campaign never launched gets the file
it would have used, the latest valid one of each year it needs."""

from django.db import migrations


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
        ('calculations', '0009_campaign_dataset_choice'),
        ('groupements', '0004_move_ledger_to_financing'),
    ]

    operations = [
        migrations.RunPython(back_fill_choices, migrations.RunPython.noop),
    ]
