"""Integrated-care pilot projects: fixed coordination lines, innovative-action claims within the
annual room (locked), the garantie budgétaire shown for information."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from calculations.models import Campaign
from common.errors import ActionRefused, PermissionRefused
from financing.models import ApprovedInnovativeAction, InnovativeActionClaim, LedgerLine, PilotProject
from financing.selectors.pilots import pilot_budget_guarantees, pilot_years
from financing.services.pilots import (
    innovative_actions_room,
    record_coordination_lines,
    record_innovative_action_claim,
)
from groupements.roles import DATA_MANAGER, READER
from tests.factories import CampaignFactory, GroupementFactory, GroupementResultFactory
from tests.typography import APOSTROPHE, NNBSP

from .factories import PilotProjectFactory

NBSP = "\u00a0"


def approved_action(project, code="A7-01", first_year=None, last_year=None):
    """An action of the project's convention (annex 7), valid over the project's years unless told."""
    action, _ = ApprovedInnovativeAction.objects.get_or_create(
        pilot_project=project,
        code=code,
        defaults={
            "label": "Télésurveillance des patients insuffisants cardiaques",
            "convention_reference": f"Convention {project.code}, annexe 7",
            "first_year": first_year or project.start_year,
            "last_year": last_year or project.end_year,
        },
    )
    return action


def claim(project, user, amount, year=2022, label="Télésurveillance", action="A7-01"):
    """Record a claim naming `action` (by default the project's A7-01, created if needed; None: no action)."""
    return record_innovative_action_claim(
        project=project,
        year=year,
        amount=Decimal(amount),
        label=label,
        user=user,
        action=approved_action(project) if action == "A7-01" else action,
    )


@pytest.mark.django_db
def test_claims_fill_the_annual_room_and_the_next_one_is_refused_with_the_room_left(project, manager):
    claim(project, manager, "120000")
    claim(project, manager, "80000")

    with pytest.raises(ActionRefused) as refused:
        claim(project, manager, "10000")

    # 208 333 − 120 000 − 80 000 = 8 333
    assert refused.value.messages == [
        f"Dépassement : il reste 8{NBSP}333,00{NBSP}€ sur 208{NBSP}333,00{NBSP}€ pour 2022."
    ]
    assert InnovativeActionClaim.objects.count() == 2
    claim(project, manager, "8333")  # exactly the room left is accepted
    assert innovative_actions_room(project=project, year=2022) == Decimal("0.00")
    with pytest.raises(ActionRefused) as refused:
        claim(project, manager, "0.01")
    assert refused.value.messages == [f"Dépassement : il reste 0,00{NBSP}€ sur 208{NBSP}333,00{NBSP}€ pour 2022."]


@pytest.mark.django_db
def test_each_year_has_its_own_room(project, manager):
    claim(project, manager, "208333", year=2021)
    claim(project, manager, "208333", year=2022)
    assert [(year.year, year.innovative_used, year.innovative_room) for year in pilot_years(project=project)][-2:] == [
        (2021, Decimal("208333.00"), Decimal("0.00")),
        (2022, Decimal("208333.00"), Decimal("0.00")),
    ]


@pytest.mark.django_db
def test_a_claim_is_an_actions_innovantes_ledger_line(project, manager):
    recorded = claim(project, manager, "1500.50")
    line = LedgerLine.objects.get(pk=recorded.pk)
    assert (
        line.pilot_project,
        line.groupement,
        line.nature,
        line.year,
        line.amount,
        line.status,
        line.recorded_by,
    ) == (
        project,
        None,
        "actions_innovantes",
        2022,
        Decimal("1500.50"),
        "planned",
        manager,
    )


@pytest.mark.django_db
def test_changing_a_claim_does_not_count_it_twice(project, manager):
    first = claim(project, manager, "200000")
    changed = record_innovative_action_claim(
        project=project,
        year=2022,
        amount=Decimal("208333"),
        label="revu",
        user=manager,
        claim=first,
        action=first.approved_action,
    )
    assert (changed.pk, changed.amount) == (first.pk, Decimal("208333"))
    LedgerLine.objects.filter(pk=first.pk).update(status="paid")
    with pytest.raises(ActionRefused, match="déjà payée"):
        record_innovative_action_claim(
            project=project, year=2022, amount=Decimal("1"), label="x", user=manager, claim=first, action=None
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "year, amount, message",
    [
        (2023, "10", "couvre les années 2018 à 2022, pas 2023"),
        (2022, "0", "doit être positif"),
        (2022, "-5", "doit être positif"),
    ],
)
def test_claims_outside_the_project_years_or_not_positive_are_refused(project, manager, year, amount, message):
    with pytest.raises(ActionRefused, match=message):
        claim(project, manager, amount, year=year)
    assert not LedgerLine.objects.exists()


@pytest.mark.django_db
def test_claims_need_the_add_permission(project, make_user):
    with pytest.raises(PermissionRefused, match="Droit insuffisant pour enregistrer une demande d'actions innovantes."):
        claim(project, make_user(role=READER), "10")


@pytest.mark.django_db
def test_coordination_lines_are_fixed_and_created_once(project, manager):
    lines = record_coordination_lines(project=project, user=manager)
    again = record_coordination_lines(project=project, user=manager)

    assert [(line.year, line.amount) for line in lines] == [(year, Decimal("152520.00")) for year in range(2018, 2023)]
    assert [line.pk for line in again] == [line.pk for line in lines]
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerLine.objects.create(pilot_project=project, year=2018, nature="coordination", amount=Decimal("152520"))


# --- admin ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_claim_form_shows_the_room_left(project, manager, client):
    claim(project, manager, "208000")
    client.force_login(manager)

    response = client.post(
        reverse("admin:financing_innovativeactionclaim_add"),
        {
            "pilot_project": project.pk,
            "year": 2022,
            "approved_action": approved_action(project).pk,
            "amount": "500",
            "label": "Atelier",
        },
    )

    assert response.status_code == 200
    assert (
        f"Dépassement{NNBSP}: il reste 333,00{NBSP}€ sur 208{NBSP}333,00{NBSP}€ pour 2022." in response.content.decode()
    )
    response = client.post(
        reverse("admin:financing_innovativeactionclaim_add"),
        {
            "pilot_project": project.pk,
            "year": 2022,
            "approved_action": approved_action(project).pk,
            "amount": "333",
            "label": "Atelier",
        },
    )
    assert response.status_code == 302
    assert InnovativeActionClaim.objects.get(label="Atelier").recorded_by == manager


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values, message",
    [
        ({"nature": "actions_innovantes", "amount": "10"}, f"s{APOSTROPHE}enregistrent comme demandes"),
        (
            {"nature": "coordination", "amount": "100000"},
            f"La ligne de coordination est fixe{NNBSP}: 152{NBSP}520,00{NBSP}€ par an.",
        ),
    ],
)
def test_ledger_admin_refuses_pilot_lines_that_bypass_the_rules(project, manager, client, values, message):
    client.force_login(manager)
    data = {"pilot_project": project.pk, "year": 2022, "status": "planned", "label": "", **values}
    response = client.post(reverse("admin:financing_ledgerline_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerLine.objects.exists()


@pytest.fixture
def followed_project(db):
    """P02 follows G010: campaign 2021 paid; 2022 published (v1) and a v2 being computed."""
    groupement = GroupementFactory(code="G010")
    project = PilotProjectFactory(code="P02", start_year=2021, end_year=2022, groupement=groupement)
    paid_2021 = CampaignFactory(year=2021, version=1, status=Campaign.Status.PAID)
    published_2022 = CampaignFactory(year=2022, version=1, status=Campaign.Status.PUBLISHED)
    computed_2022 = CampaignFactory(year=2022, version=2, status=Campaign.Status.COMPUTED)
    GroupementResultFactory(
        campaign=paid_2021,
        groupement=groupement,
        n_patients=6000,
        real_per_patient=950.0,
        budget_guarantee=6_000_000.0,
        budget_guarantee_gain=300_000.0,
    )
    GroupementResultFactory(
        campaign=published_2022,
        groupement=groupement,
        n_patients=6200,
        real_per_patient=1010.0,
        budget_guarantee=6_200_000.0,
        budget_guarantee_gain=-62_000.0,
    )
    GroupementResultFactory(
        campaign=computed_2022,
        groupement=groupement,
        n_patients=6200,
        real_per_patient=1000.0,
        budget_guarantee=1.0,
        budget_guarantee_gain=1.0,
    )
    return project


def test_budget_guarantee_shown_per_year_from_the_campaign_in_force(followed_project):
    rows = pilot_budget_guarantees(project=followed_project)

    assert [
        (r.year, r.campaign.version, r.n_patients, r.budget_guarantee, r.real_expenditure, r.gain) for r in rows
    ] == [
        (2021, 1, 6000, 6_000_000.0, 5_700_000.0, 300_000.0),  # 6 000 × 950 = 5 700 000; gain 6 000 000 − 5 700 000
        (2022, 1, 6200, 6_200_000.0, 6_262_000.0, -62_000.0),  # 6 200 × 1 010 = 6 262 000: a loss, never paid
    ]
    assert pilot_budget_guarantees(project=PilotProjectFactory(code="P03")) == []
    assert not LedgerLine.objects.exists()


def test_pilot_admin_page_shows_the_guarantee_to_a_reader(followed_project, client, make_user):
    client.force_login(make_user(role=READER))
    html = client.get(reverse("admin:financing_pilotproject_change", args=[followed_project.pk])).content.decode()
    assert "jamais payée" in html
    assert f"6{NBSP}262{NBSP}000,00{NBSP}€" in html and f"\u221262{NBSP}000,00{NBSP}€" in html  # a true minus


# --- concurrency (PostgreSQL row lock) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_cannot_exceed_the_room(make_user):
    if not settings.USES_POSTGRES:
        pytest.skip("row locks (select_for_update) are only meaningful on PostgreSQL: set DATABASE_URL")
    manager = make_user(role=DATA_MANAGER)
    project = PilotProjectFactory(code="P09", start_year=2022, end_year=2022)
    approved_action(project)
    outcomes = []

    def worker():
        try:
            claim(project, manager, "150000")
            outcomes.append("ok")
        except ActionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    # Hold the project row so that both claims wait on the lock and then run one after the other.
    with transaction.atomic():
        PilotProject.objects.select_for_update().get(pk=project.pk)
        for thread in threads:
            thread.start()
        threading.Event().wait(0.5)
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["ok", "refused"]
    assert InnovativeActionClaim.objects.filter(pilot_project=project).count() == 1
