"""The move of the ledger from `groupements` to `financing` (financing/migrations/0001_move_from_groupements.py
and groupements/migrations/0004_move_ledger_to_financing.py): a database migrated before the move migrates
after it with nothing lost — rows of every ledger table, their audit events and triggers, the
permissions held by the roles, by other groups and by users, the admin's log."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction

from financing.models import InnovativeActionClaim, LedgerLine, PilotProject, SeedCredit
from groupements.roles import ALL_ROLES, ROLE_PERMISSIONS, sync_role_permissions
from tests.migrations import migrate

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USES_POSTGRES, reason="triggers and audit events exist on PostgreSQL only: set DATABASE_URL"
    ),
]

# Before the move: groupements up to its ledger migration, no financing app in the database.
BEFORE_THE_MOVE = [("groupements", "0003_ledger"), ("financing", None)]
MOVED = ("ledgerline", "seedcredit", "innovativeactionclaim", "pilotproject", "ledgerlineevent", "pilotprojectevent")


def moved(name: str) -> str:
    """`groupements.view_ledgerline` → `financing.view_ledgerline`; other permissions unchanged."""
    app_label, codename = name.split(".")
    return f"financing.{codename}" if app_label == "groupements" and codename.split("_", 1)[1] in MOVED else name


def permission_names(permissions) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions.select_related("content_type")}


def ledger_triggers(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass ORDER BY tgname", [table]
        )
        return {row[0] for row in cursor.fetchall()}


def write_the_ledger_before_the_move(apps) -> dict:
    """Rows in every ledger table through the models as they were (app `groupements`), as a
    production database holds them; returns their ids and what must survive."""
    Wave, Groupement = apps.get_model("groupements", "Wave"), apps.get_model("groupements", "Groupement")
    LedgerLineThen, PilotProjectThen = (
        apps.get_model("groupements", "LedgerLine"),
        apps.get_model("groupements", "PilotProject"),
    )
    SeedCreditThen = apps.get_model("groupements", "SeedCredit")
    Campaign = apps.get_model("calculations", "Campaign")
    ContentTypeThen, PermissionThen = (
        apps.get_model("contenttypes", "ContentType"),
        apps.get_model("auth", "Permission"),
    )
    UserThen, GroupThen = apps.get_model(*settings.AUTH_USER_MODEL.split(".")), apps.get_model("auth", "Group")

    manager = UserThen.objects.create(username="gestion", is_staff=True)
    groupement = Groupement.objects.create(
        code="G001",
        name="MSP G001",
        region="Bretagne",
        wave=Wave.objects.create(code="V1", label="Vague 1", entry_year=2019, reference_year=2018),
    )
    paid_campaign = Campaign.objects.create(year=2021, version=1, status="paid")
    project = PilotProjectThen.objects.create(
        code="P01", name="Projet pilote P01", start_year=2021, end_year=2022, groupement=groupement
    )
    line = LedgerLineThen.objects.create  # every nature, both statuses, with and without a campaign
    ids = {
        "seed": SeedCreditThen.objects.create(
            groupement=groupement, year=2019, nature="amorcage", amount=Decimal("77500.00"), recorded_by=manager
        ).pk,
        "imported": line(
            groupement=groupement, year=2021, nature="interessement", amount=Decimal("2538.39"), status="paid"
        ).pk,
        "campaign": line(
            groupement=groupement,
            year=2022,
            nature="interessement",
            amount=Decimal("123456.78"),
            status="paid",
            campaign=paid_campaign,
            label="Intéressement 2021 (campagne v1)",
        ).pk,
        "coordination": line(
            pilot_project=project, year=2021, nature="coordination", amount=Decimal("152520.00"), status="planned"
        ).pk,
        "claim": line(
            pilot_project=project, year=2021, nature="actions_innovantes", amount=Decimal("1500.50"), label="Atelier"
        ).pk,
        "project": project.pk,
        "campaign_id": paid_campaign.pk,
        "manager": manager.pk,
    }
    LedgerLineThen.objects.filter(pk=ids["seed"]).update(status="paid")  # an update event before the move

    # Permissions as they were: the roles (synced under groupements.*), another group, a user's own.
    accounting = GroupThen.objects.create(name="Comptabilité")
    accounting.permissions.add(
        PermissionThen.objects.get(content_type__app_label="groupements", codename="change_ledgerline")
    )
    manager.user_permissions.add(
        PermissionThen.objects.get(content_type__app_label="groupements", codename="view_pilotproject")
    )
    ids["roles"] = {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
        }
        for group in GroupThen.objects.filter(name__in=ALL_ROLES)
    }
    ids["log"] = (
        apps.get_model("admin", "LogEntry")
        .objects.create(
            user_id=manager.pk,
            content_type=ContentTypeThen.objects.get(app_label="groupements", model="ledgerline"),
            object_id=str(ids["seed"]),
            object_repr="Amorçage G001 2019",
            action_flag=CHANGE,
            change_message="Statut",
        )
        .pk
    )
    return ids


@pytest.mark.django_db(transaction=True)
def test_a_database_migrated_before_the_move_keeps_every_row_permission_and_audit_event():
    old_apps = migrate(BEFORE_THE_MOVE)
    try:
        assert ContentType.objects.filter(app_label="groupements", model="ledgerline").exists()
        assert len(ledger_triggers("groupements_ledgerline")) == 3  # groupements' audit triggers
        before = write_the_ledger_before_the_move(old_apps)
        # As on a database where a post_migrate ran in between: financing already has one content type.
        stray = ContentType.objects.create(app_label="financing", model="pilotproject")
        Permission.objects.create(content_type=stray, codename="view_pilotproject", name="Can view projet pilote")
    finally:
        migrate()

    # Rows: every table, every nature, through the models of their new app.
    assert (LedgerLine.objects.count(), PilotProject.objects.count()) == (5, 1)
    seed = SeedCredit.objects.get(pk=before["seed"])
    assert (seed.groupement.code, seed.year, seed.amount, seed.status, seed.recorded_by_id) == (
        "G001",
        2019,
        Decimal("77500.00"),
        "paid",
        before["manager"],
    )
    campaign_line = LedgerLine.objects.get(pk=before["campaign"])
    assert (campaign_line.nature, campaign_line.campaign_id, campaign_line.amount, campaign_line.year) == (
        "interessement",
        before["campaign_id"],
        Decimal("123456.78"),
        2022,
    )
    assert LedgerLine.objects.get(pk=before["imported"]).campaign_id is None
    project = PilotProject.objects.get(pk=before["project"])
    assert sorted(project.ledger_lines.values_list("nature", "amount")) == [
        ("actions_innovantes", Decimal("1500.50")),
        ("coordination", Decimal("152520.00")),
    ]
    assert InnovativeActionClaim.objects.get().pk == before["claim"]
    # Issue 15: the claim recorded before the list of approved actions names the project's « REPRISE »
    # action (to be requalified), the coordination line is split all salaries; amounts unchanged.
    reprise = InnovativeActionClaim.objects.get().approved_action
    assert (reprise.pilot_project_id, reprise.code, reprise.convention_reference) == (
        project.pk,
        "REPRISE",
        "à compléter",
    )
    assert reprise.covers(2021)
    coordination = project.ledger_lines.get(nature="coordination")
    assert (coordination.amount, coordination.salaries, coordination.running_costs) == (
        Decimal("152520.00"),
        Decimal("152520.00"),
        Decimal("0.00"),
    )

    # Audit: the events recorded before the move are the lines' history now ...
    events = LedgerLine.pgh_event_model.objects.filter(pgh_obj_id=before["seed"]).order_by("pgh_id")
    assert [(e.pgh_label, e.status) for e in events] == [("insert", "planned"), ("update", "paid")]
    assert PilotProject.pgh_event_model.objects.filter(pgh_obj_id=project.pk).count() == 1
    # ... and the triggers of the financing models record each change once (groupements' were dropped).
    for model, table in ((LedgerLine, "groupements_ledgerline"), (PilotProject, "groupements_pilotproject")):
        assert ledger_triggers(table) == {trigger.get_pgid(model) for trigger in model._meta.triggers}
    campaign_line.label = "corrigé"
    campaign_line.save()
    project.name = "Projet pilote P01 (renommé)"
    project.save()
    assert [e.pgh_label for e in LedgerLine.pgh_event_model.objects.filter(pgh_obj=campaign_line)] == [
        "insert",
        "update",
    ]
    assert [e.name for e in PilotProject.pgh_event_model.objects.filter(pgh_obj=project).order_by("pgh_id")] == [
        "Projet pilote P01",
        "Projet pilote P01 (renommé)",
    ]

    # Permissions: the content types moved, so every holder keeps its permissions, under financing.*.
    assert not ContentType.objects.filter(app_label="groupements", model__in=MOVED).exists()
    assert ContentType.objects.filter(app_label="financing", model__in=MOVED).count() == len(MOVED)
    assert {"groupements.view_ledgerline", "groupements.view_pilotproject"} <= before["roles"]["Lecteur"]
    assert "groupements.add_seedcredit" in before["roles"]["Gestionnaire de données"]
    for role, held in before["roles"].items():
        assert permission_names(Group.objects.get(name=role).permissions) == {moved(name) for name in held}, role
    assert permission_names(Group.objects.get(name="Comptabilité").permissions) == {"financing.change_ledgerline"}
    manager = get_user_model().objects.get(pk=before["manager"])
    assert manager.has_perm("financing.view_pilotproject") and not manager.has_perm("groupements.view_pilotproject")
    assert Permission.objects.filter(content_type__app_label="financing", codename="view_pilotproject").count() == 1
    assert LogEntry.objects.get(pk=before["log"]).content_type.app_label == "financing"

    # The roles' sync after migrate (groupements.roles) then finds exactly what it grants.
    sync_role_permissions()
    existing = permission_names(Permission.objects.all())
    for role in ALL_ROLES:
        assert permission_names(Group.objects.get(name=role).permissions) == ROLE_PERMISSIONS[role] & existing, role
    assert {"financing.add_ledgerline", "financing.change_seedcredit"} <= permission_names(
        Group.objects.get(name="Gestionnaire de données").permissions
    )


@pytest.mark.django_db(transaction=True)
def test_recoveries_migration_keeps_every_line_and_lets_only_a_recovery_be_negative_outside_campaigns():
    """financing/migrations/0004_recovery_lines.py on a database holding lines of every kind, among them
    a campaign's negative correction: nothing is rewritten, the constraints hold, the audit records
    the new column."""
    old_apps = migrate([("financing", "0003_approved_actions_and_coordination_split")])
    try:
        Wave, Groupement = old_apps.get_model("groupements", "Wave"), old_apps.get_model("groupements", "Groupement")
        LedgerLineThen, Campaign = (
            old_apps.get_model("financing", "LedgerLine"),
            old_apps.get_model("calculations", "Campaign"),
        )
        wave = Wave.objects.create(code="V1", label="Vague 1", entry_year=2019, reference_year=2018)
        g001 = Groupement.objects.create(code="G001", name="MSP G001", region="Bretagne", wave=wave)
        first = Campaign.objects.create(year=2021, version=1, status="superseded")
        correction = Campaign.objects.create(year=2021, version=2, status="paid", supersedes=first)
        line = LedgerLineThen.objects.create
        line(groupement=g001, year=2021, nature="amorcage", amount=Decimal("77500.00"), status="paid")
        line(
            groupement=g001, year=2022, nature="interessement", amount=Decimal("1000.00"), status="paid", campaign=first
        )
        line(
            groupement=g001,
            year=2022,
            nature="interessement",
            amount=Decimal("-250.00"),
            status="paid",
            campaign=correction,
        )
    finally:
        migrate()

    assert sorted(LedgerLine.objects.values_list("amount", "recovery")) == [
        (Decimal("-250.00"), False),
        (Decimal("1000.00"), False),
        (Decimal("77500.00"), False),
    ]
    g001 = LedgerLine.objects.filter(nature="amorcage").get().groupement
    recovery = LedgerLine.objects.create(
        groupement=g001, year=2021, nature="amorcage", amount=Decimal("-500.00"), recovery=True, status="paid"
    )
    assert LedgerLine.pgh_event_model.objects.get(pgh_obj_id=recovery.pk).recovery is True
    refused = [
        {"amount": Decimal("-1.00"), "year": 2023},  # negative, neither a campaign's nor a recovery
        {"amount": Decimal("-1.00"), "recovery": True},  # a second recovery of the key
        {"amount": Decimal("1.00"), "recovery": True, "year": 2023},  # a recovery is negative
        {"amount": Decimal("-1.00"), "recovery": True, "year": 2023, "status": "planned"},  # and paid
    ]
    for fields in refused:
        values = {"groupement": g001, "year": 2021, "nature": "amorcage", "status": "paid", **fields}
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerLine.objects.create(**values)
    assert LedgerLine.objects.count() == 4
