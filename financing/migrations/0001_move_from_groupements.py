"""The financing ledger moves from the `groupements` app to this one (issue 13), with its data.

Nothing is copied: the models keep their tables (`groupements_ledgerline`, `groupements_pilotproject`
and their pghistory event tables), so this migration only
1. declares the models in this app's state (the tables, constraints and indexes already exist);
2. swaps the audit triggers in one transaction: django-pgtrigger names a trigger after its model's
   app (`pgtrigger_insert_insert_<hash of "financing.LedgerLine:insert_insert">`), so the triggers of
   `financing` are installed and those of `groupements` dropped (functions included). In between
   nothing is written: every change to a ledger table is recorded exactly once, before and after;
3. moves the content types (`django_content_type.app_label`), so that permissions, the groups and
   users holding them, and the admin's log follow the models.
`groupements/migrations/0004_move_ledger_to_financing.py` then forgets the models in that app's state.
Both directions work (the reverse restores the `groupements` triggers and content types).
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ("ledgerline", "seedcredit", "innovativeactionclaim", "pilotproject", "ledgerlineevent", "pilotprojectevent")
TRACKED_MODELS = ("LedgerLine", "PilotProject")


def _audit_triggers(apps, app_label):
    """The compiled pgtrigger triggers of the tracked models of `app_label` in this migration's state."""
    return [trigger for name in TRACKED_MODELS for trigger in apps.get_model(app_label, name)._meta.triggers]


def drop_groupements_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for trigger in _audit_triggers(apps, "groupements"):
        schema_editor.execute(trigger.uninstall_sql, params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {schema_editor.quote_name(trigger.sql.pgid)}()", params=None)


def restore_groupements_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for trigger in _audit_triggers(apps, "groupements"):
        schema_editor.execute(trigger.install_sql, params=None)


def move_content_types(apps, source, target):
    """Give the content types of the moved models to `target`. When `target` already has one (a
    database where `migrate` ran the post_migrate hooks in between), the permissions held by groups
    and users are carried over to the target's permission of the same codename, and the admin log
    entries to the target content type, before the source one is deleted."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    for model in MOVED_MODELS:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.filter(content_type=old):
            kept = Permission.objects.filter(content_type=new, codename=permission.codename).first()
            if kept is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            kept.group_set.add(*permission.group_set.all())
            kept.user_set.add(*permission.user_set.all())
            permission.delete()
        LogEntry.objects.filter(content_type=old).update(content_type=new)
        old.delete()


def content_types_to_financing(apps, schema_editor):
    move_content_types(apps, "groupements", "financing")


def content_types_to_groupements(apps, schema_editor):
    move_content_types(apps, "financing", "groupements")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("groupements", "0003_ledger"),
        ("calculations", "0003_campaign_lifecycle"),
        ("pghistory", "0007_auto_20250421_0444"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # 1. The models, in this app's state only: their tables are those of groupements 0003.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LedgerLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveIntegerField(db_index=True, verbose_name='année de paiement')),
                        ('nature', models.CharField(choices=[('amorcage', "crédits d'amorçage"), ('interessement', 'intéressement'), ('coordination', 'coordination'), ('actions_innovantes', 'actions innovantes')], max_length=20, verbose_name='nature')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant')),
                        ('status', models.CharField(choices=[('planned', 'prévu'), ('paid', 'payé')], default='planned', max_length=10, verbose_name='statut')),
                        ('label', models.CharField(blank=True, max_length=300, verbose_name='libellé')),
                        ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='enregistrée le')),
                        ('paid_at', models.DateTimeField(blank=True, null=True, verbose_name='payée le')),
                        ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_lines', to='calculations.campaign', verbose_name='campagne')),
                        ('groupement', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_lines', to='groupements.groupement', verbose_name='groupement')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='enregistrée par')),
                    ],
                    options={
                        'verbose_name': 'ligne de financement',
                        'verbose_name_plural': 'grand livre des financements',
                        'db_table': 'groupements_ledgerline',
                        'ordering': ['year', 'nature', 'groupement__code', 'pilot_project__code', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='InnovativeActionClaim',
                    fields=[
                    ],
                    options={
                        'verbose_name': 'demande actions innovantes',
                        'verbose_name_plural': 'demandes actions innovantes',
                        'ordering': ['pilot_project__code', 'year', 'pk'],
                        'proxy': True,
                        'indexes': [],
                        'constraints': [],
                    },
                    bases=('financing.ledgerline',),
                ),
                migrations.CreateModel(
                    name='SeedCredit',
                    fields=[
                    ],
                    options={
                        'verbose_name': "crédit d'amorçage",
                        'verbose_name_plural': "crédits d'amorçage",
                        'ordering': ['year', 'groupement__code'],
                        'proxy': True,
                        'indexes': [],
                        'constraints': [],
                    },
                    bases=('financing.ledgerline',),
                ),
                migrations.CreateModel(
                    name='PilotProject',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=20, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=200, verbose_name='nom')),
                        ('start_year', models.PositiveIntegerField(verbose_name='première année')),
                        ('end_year', models.PositiveIntegerField(verbose_name='dernière année')),
                        ('groupement', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='pilot_projects', to='groupements.groupement', verbose_name='groupement suivi')),
                    ],
                    options={
                        'verbose_name': 'projet pilote',
                        'verbose_name_plural': 'projets pilotes',
                        'db_table': 'groupements_pilotproject',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='LedgerLineEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('year', models.PositiveIntegerField(verbose_name='année de paiement')),
                        ('nature', models.CharField(choices=[('amorcage', "crédits d'amorçage"), ('interessement', 'intéressement'), ('coordination', 'coordination'), ('actions_innovantes', 'actions innovantes')], max_length=20, verbose_name='nature')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant')),
                        ('status', models.CharField(choices=[('planned', 'prévu'), ('paid', 'payé')], default='planned', max_length=10, verbose_name='statut')),
                        ('label', models.CharField(blank=True, max_length=300, verbose_name='libellé')),
                        ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='enregistrée le')),
                        ('paid_at', models.DateTimeField(blank=True, null=True, verbose_name='payée le')),
                        ('campaign', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='calculations.campaign', verbose_name='campagne')),
                        ('groupement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='groupements.groupement', verbose_name='groupement')),
                        ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                        ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='financing.ledgerline')),
                        ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='enregistrée par')),
                        ('pilot_project', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='financing.pilotproject', verbose_name='projet pilote')),
                    ],
                    options={
                        'db_table': 'groupements_ledgerlineevent',
                        'abstract': False,
                    },
                ),
                migrations.AddField(
                    model_name='ledgerline',
                    name='pilot_project',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_lines', to='financing.pilotproject', verbose_name='projet pilote'),
                ),
                migrations.CreateModel(
                    name='PilotProjectEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('code', models.CharField(max_length=20, verbose_name='code')),
                        ('name', models.CharField(max_length=200, verbose_name='nom')),
                        ('start_year', models.PositiveIntegerField(verbose_name='première année')),
                        ('end_year', models.PositiveIntegerField(verbose_name='dernière année')),
                        ('groupement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='groupements.groupement', verbose_name='groupement suivi')),
                        ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                        ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='financing.pilotproject')),
                    ],
                    options={
                        'db_table': 'groupements_pilotprojectevent',
                        'abstract': False,
                    },
                ),
                migrations.AddConstraint(
                    model_name='pilotproject',
                    constraint=models.CheckConstraint(condition=models.Q(('end_year__gte', models.F('start_year'))), name='pilot_end_after_start'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('groupement__isnull', False), ('nature__in', ('amorcage', 'interessement')), ('pilot_project__isnull', True)), models.Q(('groupement__isnull', True), ('nature__in', ('coordination', 'actions_innovantes')), ('pilot_project__isnull', False)), _connector='OR'), name='ledger_beneficiary_matches_nature', violation_error_message='Une ligne concerne soit un groupement (amorçage, intéressement), soit un projet pilote (coordination, actions innovantes).'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.CheckConstraint(condition=models.Q(('campaign__isnull', True), ('nature', 'interessement'), _connector='OR'), name='ledger_campaign_only_for_incentive', violation_error_message="Seule une ligne d'intéressement provient d'une campagne."),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0), ('campaign__isnull', False), _connector='OR'), name='ledger_amount_not_negative', violation_error_message='Le montant ne peut pas être négatif.'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.UniqueConstraint(fields=('campaign', 'groupement', 'nature'), name='ledger_unique_campaign_groupement_nature'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.UniqueConstraint(condition=models.Q(('campaign__isnull', True), ('groupement__isnull', False)), fields=('groupement', 'year', 'nature'), name='ledger_unique_groupement_year_nature', violation_error_message='Une ligne de même nature existe déjà pour ce groupement et cette année.'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerline',
                    constraint=models.UniqueConstraint(condition=models.Q(('nature', 'coordination')), fields=('pilot_project', 'year'), name='ledger_unique_pilot_coordination_year', violation_error_message='La ligne de coordination de ce projet existe déjà pour cette année.'),
                ),
            ],
            database_operations=[],
        ),
        # 2. The audit triggers under their new names, then the old ones dropped (same transaction).
        pgtrigger.migrations.AddTrigger(
            model_name='pilotproject',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "groupements_pilotprojectevent" ("code", "end_year", "groupement_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_year") VALUES (NEW."code", NEW."end_year", NEW."groupement_id", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."start_year"); RETURN NULL;', hash='584048536489c3b5a2cc31761d4b87a698b619ab', operation='INSERT', pgid='pgtrigger_insert_insert_14bc1', table='groupements_pilotproject', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pilotproject',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "groupements_pilotprojectevent" ("code", "end_year", "groupement_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_year") VALUES (NEW."code", NEW."end_year", NEW."groupement_id", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."start_year"); RETURN NULL;', hash='d153cf4d3303a55d725aceefc07396b15be4221b', operation='UPDATE', pgid='pgtrigger_update_update_cf66c', table='groupements_pilotproject', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pilotproject',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "groupements_pilotprojectevent" ("code", "end_year", "groupement_id", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_year") VALUES (OLD."code", OLD."end_year", OLD."groupement_id", OLD."id", OLD."name", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."start_year"); RETURN NULL;', hash='71d59509473d2a67485f7df1d32b6e4b4f4bcd30', operation='DELETE', pgid='pgtrigger_delete_delete_e24cb', table='groupements_pilotproject', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerline',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "groupements_ledgerlineevent" ("amount", "campaign_id", "groupement_id", "id", "label", "nature", "paid_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pilot_project_id", "recorded_at", "recorded_by_id", "status", "year") VALUES (NEW."amount", NEW."campaign_id", NEW."groupement_id", NEW."id", NEW."label", NEW."nature", NEW."paid_at", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."pilot_project_id", NEW."recorded_at", NEW."recorded_by_id", NEW."status", NEW."year"); RETURN NULL;', hash='a6d68ef5a4eb15166185d1b5077668549e6ad314', operation='INSERT', pgid='pgtrigger_insert_insert_760be', table='groupements_ledgerline', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerline',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "groupements_ledgerlineevent" ("amount", "campaign_id", "groupement_id", "id", "label", "nature", "paid_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pilot_project_id", "recorded_at", "recorded_by_id", "status", "year") VALUES (NEW."amount", NEW."campaign_id", NEW."groupement_id", NEW."id", NEW."label", NEW."nature", NEW."paid_at", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."pilot_project_id", NEW."recorded_at", NEW."recorded_by_id", NEW."status", NEW."year"); RETURN NULL;', hash='c350135cbc0290cf14b7cd0c070c0dbcd3bece30', operation='UPDATE', pgid='pgtrigger_update_update_69f4b', table='groupements_ledgerline', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerline',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "groupements_ledgerlineevent" ("amount", "campaign_id", "groupement_id", "id", "label", "nature", "paid_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pilot_project_id", "recorded_at", "recorded_by_id", "status", "year") VALUES (OLD."amount", OLD."campaign_id", OLD."groupement_id", OLD."id", OLD."label", OLD."nature", OLD."paid_at", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."pilot_project_id", OLD."recorded_at", OLD."recorded_by_id", OLD."status", OLD."year"); RETURN NULL;', hash='dcb6a6acc3379aba325ffe924d45c11365417c18', operation='DELETE', pgid='pgtrigger_delete_delete_3eae9', table='groupements_ledgerline', when='AFTER')),
        ),
        migrations.RunPython(drop_groupements_triggers, restore_groupements_triggers),
        # 3. Permissions (and the groups holding them) follow the models.
        migrations.RunPython(content_types_to_financing, content_types_to_groupements),
    ]
