"""Who chose the dataset of each year of a campaign, and when (the choice is now made at creation).
Schema only: the back-fill is 0010 (PostgreSQL refuses to build this migration's index in the
transaction that writes the rows)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('calculations', '0008_robustness_and_sensitivity'),
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
    ]
