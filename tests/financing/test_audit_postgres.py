"""The audit trail of the ledger (django-pghistory triggers, PostgreSQL only): every change of a ledger
line or a pilot project is recorded with who made it — in the admin, through a service or a command —
and shown on the object's « Historique » admin page."""

import html
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from pghistory.models import Events

from financing.models import LedgerLine, PilotProject
from financing.services.ledger import record_seed_credit
from groupements.roles import DATA_MANAGER, READER
from tests.factories import GroupementFactory

from .factories import PilotProjectFactory, make_fiss_groupements
from .test_payments import FIXTURE

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USES_POSTGRES, reason="pghistory records nothing on SQLite: set DATABASE_URL to PostgreSQL"
    ),
    pytest.mark.django_db,
]


def history_page(client, admin_name, pk):
    return html.unescape(client.get(reverse(f"admin:{admin_name}_history", args=[pk])).content.decode())


def test_a_ledger_line_changed_in_the_admin_is_recorded_with_its_author_and_shown(client, make_user):
    manager = make_user(role=DATA_MANAGER, username="gestionnaire")
    groupement = GroupementFactory(code="G001")
    client.force_login(manager)
    data = {"groupement": groupement.pk, "year": 2019, "nature": "amorcage", "status": "planned", "label": ""}

    client.post(reverse("admin:financing_ledgerline_add"), {**data, "amount": "77500"})
    line = LedgerLine.objects.get()
    response = client.post(reverse("admin:financing_ledgerline_change", args=[line.pk]), {**data, "amount": "80000"})

    assert response.status_code == 302
    insert, update = Events.objects.tracks(line).order_by("pgh_id")
    assert (insert.pgh_label, update.pgh_label) == ("insert", "update")
    assert update.pgh_diff["amount"] == [77500.0, 80000.0]
    assert update.pgh_context["user"] == manager.pk
    assert update.pgh_context["url"].endswith(f"/financing/ledgerline/{line.pk}/change/")
    client.force_login(make_user(role=READER))
    page = history_page(client, "financing_ledgerline", line.pk)
    assert page.count('class="audit-event"') == 2
    assert "modification" in page and "gestionnaire" in page and "77\u00a0500,00\u00a0€ → 80\u00a0000,00\u00a0€" in page


def test_seed_credit_changes_through_the_service_are_recorded_with_their_author(make_user):
    manager = make_user(role=DATA_MANAGER)
    groupement = GroupementFactory()
    credit = record_seed_credit(groupement=groupement, year=2019, amount=Decimal("10"), user=manager)
    record_seed_credit(groupement=groupement, year=2019, amount=Decimal("12"), user=manager)

    events = LedgerLine.pgh_event_model.objects.filter(pgh_obj=credit).order_by("pgh_id")
    assert [(e.pgh_label, e.amount, e.pgh_context.metadata["user"]) for e in events] == [
        ("insert", Decimal("10.00"), manager.pk),
        ("update", Decimal("12.00"), manager.pk),
    ]


def test_payments_imported_by_the_command_name_the_command_line(tmp_path):
    make_fiss_groupements()
    copy = tmp_path / "versements.csv"
    shutil.copy(FIXTURE, copy)

    call_command("import_payments", str(copy))

    events = LedgerLine.pgh_event_model.objects.select_related("pgh_context")
    assert events.count() == LedgerLine.objects.count() == 74
    assert {e.pgh_context.metadata["actor"] for e in events} == {"ligne de commande"}


def test_a_pilot_project_history_is_shown(client, make_user):
    project = PilotProjectFactory(code="P01", name="Projet pilote P01")
    project.end_year = 2023
    project.save()

    assert [e.pgh_label for e in PilotProject.pgh_event_model.objects.filter(pgh_obj=project)] == ["insert", "update"]
    client.force_login(make_user(role=READER))
    page = history_page(client, "financing_pilotproject", project.pk)
    assert page.count('class="audit-event"') == 2 and "2022 → 2023" in page
