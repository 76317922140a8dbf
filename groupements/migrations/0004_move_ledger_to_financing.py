"""The financing ledger now belongs to the `financing` app (financing/migrations/0001_move_from_groupements.py
declared its models there, swapped the audit triggers and moved the content types). Here the models
leave this app's state only: their tables, rows and audit events stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("groupements", "0003_ledger"),
        ("financing", "0001_move_from_groupements"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Events first (they point at the tracked models), then the proxies, then their base.
            state_operations=[
                migrations.DeleteModel(name="LedgerLineEvent"),
                migrations.DeleteModel(name="PilotProjectEvent"),
                migrations.DeleteModel(name="InnovativeActionClaim"),
                migrations.DeleteModel(name="SeedCredit"),
                migrations.DeleteModel(name="LedgerLine"),
                migrations.DeleteModel(name="PilotProject"),
            ],
            database_operations=[],
        ),
    ]
