"""The financing ledger: intéressement lines of a paid campaign (exactly once), seed credits as
`amorcage` lines, the database rules of a line."""

from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from calculations.models import Campaign
from common.errors import ActionRefused, PermissionRefused
from financing.models import LedgerLine, SeedCredit
from financing.resources import SeedCreditResource
from financing.services.ledger import mark_lines_paid, record_campaign_payments, record_seed_credit
from groupements.roles import DATA_MANAGER, READER, VALIDATOR
from tests.factories import CampaignFactory, GroupementFactory, GroupementResultFactory, WaveFactory
from tests.typography import plain, visible_text

from .factories import PilotProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_campaign():
    """Campaign 2021 with three results (final amounts written out below)."""
    campaign = CampaignFactory(year=2021, status=Campaign.Status.PAID)
    wave = WaveFactory(code="V1", label="Vague 1")
    for code, amount in (("G001", "123456.78"), ("G002", "0.00"), ("G003", "98765.43")):
        GroupementResultFactory(
            campaign=campaign, groupement=GroupementFactory(code=code, wave=wave), final_amount=Decimal(amount)
        )
    return campaign


def test_paid_campaign_lines_are_its_final_amounts_paid_in_n_plus_1(paid_campaign, make_user):
    validator = make_user(role=VALIDATOR)

    lines = record_campaign_payments(campaign=paid_campaign, user=validator)

    assert [(line.groupement.code, line.year, line.nature, line.amount, line.status) for line in lines] == [
        ("G001", 2022, "interessement", Decimal("123456.78"), "paid"),
        ("G002", 2022, "interessement", Decimal("0.00"), "paid"),
        ("G003", 2022, "interessement", Decimal("98765.43"), "paid"),
    ]
    assert all(line.campaign == paid_campaign and line.recorded_by == validator and line.paid_at for line in lines)
    # 123 456,78 + 0 + 98 765,43 = 222 222,21
    assert sum(line.amount for line in LedgerLine.objects.all()) == Decimal("222222.21")


def test_recording_payments_twice_creates_nothing_more(paid_campaign, make_user):
    validator = make_user(role=VALIDATOR)
    first = record_campaign_payments(campaign=paid_campaign, user=validator)

    second = record_campaign_payments(campaign=paid_campaign, user=validator)

    assert [line.pk for line in second] == [line.pk for line in first]
    assert LedgerLine.objects.count() == 3


def test_database_refuses_a_second_line_of_a_campaign_for_a_groupement(paid_campaign, make_user):
    record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))
    result = paid_campaign.results.get(code="G001")

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerLine.objects.create(
            groupement=result.groupement, year=2023, nature="interessement", amount=1, campaign=paid_campaign
        )


def test_payments_need_the_pay_permission_and_a_published_or_paid_campaign(paid_campaign, make_user):
    with pytest.raises(PermissionRefused, match="Droit insuffisant pour enregistrer au grand livre les versements"):
        record_campaign_payments(campaign=paid_campaign, user=make_user(role=READER))
    computed = CampaignFactory(year=2020, status=Campaign.Status.COMPUTED)
    with pytest.raises(ActionRefused, match="ni publiée ni payée"):
        record_campaign_payments(campaign=computed, user=make_user(role=VALIDATOR))
    assert not LedgerLine.objects.exists()


def test_a_superseding_version_pays_only_the_difference(paid_campaign, make_user):
    validator = make_user(role=VALIDATOR)
    record_campaign_payments(campaign=paid_campaign, user=validator)
    paid_campaign.status = Campaign.Status.SUPERSEDED
    paid_campaign.save()
    correction = CampaignFactory(year=2021, version=2, status=Campaign.Status.PAID, supersedes=paid_campaign)
    for result, amount in zip(paid_campaign.results.order_by("code"), ("123000.00", "50.00", "98765.43"), strict=True):
        GroupementResultFactory(campaign=correction, groupement=result.groupement, final_amount=Decimal(amount))

    lines = record_campaign_payments(campaign=correction, user=validator)

    # 123 000,00 − 123 456,78 = −456,78 (recovered); 50,00 − 0 = 50,00; 98 765,43 − 98 765,43 = 0
    assert [line.amount for line in lines] == [Decimal("-456.78"), Decimal("50.00"), Decimal("0.00")]
    total_paid = sum(line.amount for line in LedgerLine.objects.filter(groupement__code="G001"))
    assert total_paid == Decimal("123000.00")


def test_an_imported_line_with_the_same_amount_becomes_the_campaign_line(paid_campaign, make_user):
    g001 = paid_campaign.results.get(code="G001").groupement
    imported = LedgerLine.objects.create(
        groupement=g001, year=2022, nature="interessement", amount=Decimal("123456.78"), status="paid"
    )

    lines = record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))

    assert lines[0].pk == imported.pk
    assert LedgerLine.objects.get(pk=imported.pk).campaign == paid_campaign
    assert LedgerLine.objects.count() == 3


def test_an_imported_line_with_another_amount_blocks_the_payment(paid_campaign, make_user):
    g003 = paid_campaign.results.get(code="G003").groupement
    LedgerLine.objects.create(
        groupement=g003, year=2022, nature="interessement", amount=Decimal("98765.00"), status="paid"
    )

    with pytest.raises(ActionRefused) as refused:
        record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))
    assert refused.value.messages == [
        "Intéressement 2021 déjà présent au grand livre avec un autre montant (import) : "
        "G003 : 98\u00a0765,00\u00a0€ déjà enregistrés pour 2022, 98\u00a0765,43\u00a0€ calculés."
    ]
    assert LedgerLine.objects.count() == 1


def test_seed_credit_is_its_amorcage_ledger_line(make_user):
    manager = make_user(role=DATA_MANAGER)
    groupement = GroupementFactory(code="G001", wave=WaveFactory(code="V1"))

    credit = record_seed_credit(groupement=groupement, year=2019, amount=Decimal("77500"), user=manager)

    line = LedgerLine.objects.get()
    assert (line.pk, line.nature, line.year, line.amount, line.status, line.recorded_by) == (
        credit.pk,
        "amorcage",
        2019,
        Decimal("77500.00"),
        "planned",
        manager,
    )
    assert SeedCredit.objects.get().wave.code == "V1"
    # Recording it again updates the same line (one source of truth), then paying freezes it.
    record_seed_credit(groupement=groupement, year=2019, amount=Decimal("80000"), user=manager, status="paid")
    assert LedgerLine.objects.get().amount == Decimal("80000.00")
    with pytest.raises(ActionRefused, match="déjà payés"):
        record_seed_credit(groupement=groupement, year=2019, amount=Decimal("1"), user=manager)
    with pytest.raises(ActionRefused, match="Le montant ne peut pas être négatif."):
        record_seed_credit(groupement=groupement, year=2020, amount=Decimal("-1"), user=manager)
    with pytest.raises(PermissionRefused, match="Droit insuffisant pour enregistrer des crédits d'amorçage."):
        record_seed_credit(groupement=groupement, year=2021, amount=Decimal("1"), user=make_user(role=READER))


def test_seed_credit_proxy_lists_only_amorcage_lines():
    groupement = GroupementFactory()
    LedgerLine.objects.create(groupement=groupement, year=2020, nature="interessement", amount=5)
    SeedCredit.objects.create(groupement=groupement, year=2019, amount=7)

    assert [(c.year, c.nature) for c in SeedCredit.objects.all()] == [(2019, "amorcage")]


def test_seed_credits_import_through_the_resource(make_user):
    manager = make_user(role=DATA_MANAGER)
    GroupementFactory(code="G001")
    GroupementFactory(code="G002")
    dataset = tablib.Dataset(headers=["code_groupement", "annee", "montant"])
    dataset.append(["G001", 2019, "77500.00"])
    dataset.append(["G002", 2019, "77500.50"])

    result = SeedCreditResource().import_data(dataset, user=manager)
    again = SeedCreditResource().import_data(dataset, user=manager)

    assert not result.has_errors() and not result.has_validation_errors()
    assert (result.totals["new"], again.totals["new"], again.totals["skip"]) == (2, 0, 2)
    assert sorted((c.groupement.code, c.amount, c.recorded_by) for c in SeedCredit.objects.all()) == [
        ("G001", Decimal("77500.00"), manager),
        ("G002", Decimal("77500.50"), manager),
    ]


def test_seed_credits_import_refuses_a_negative_amount_and_writes_nothing(make_user):
    GroupementFactory(code="G001")
    dataset = tablib.Dataset(headers=["code_groupement", "annee", "montant"])
    dataset.append(["G001", 2019, "100.00"])
    dataset.append(["G001", 2020, "-5.00"])

    result = SeedCreditResource().import_data(dataset, user=make_user(role=DATA_MANAGER), raise_errors=False)

    assert result.has_validation_errors()
    assert not LedgerLine.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"nature": "coordination"},  # a groupement line of a pilot nature
        {"nature": "amorcage", "pilot": True},  # both a groupement and a pilot project
        {"nature": "amorcage", "amount": Decimal("-1")},  # negative outside a campaign correction
        {"nature": "amorcage", "campaign": True},  # only intéressement comes from a campaign
        # A recovery (imported from versements.csv) is negative, paid, a groupement's, outside campaigns.
        {"nature": "amorcage", "recovery": True},  # not negative
        {"nature": "amorcage", "recovery": True, "amount": Decimal("-1"), "status": "planned"},
        {"nature": "interessement", "recovery": True, "amount": Decimal("-1"), "campaign": True},
        {"nature": "coordination", "recovery": True, "amount": Decimal("-1"), "pilot_only": True},
    ],
)
def test_database_rules_of_a_line(fields):
    values = {
        "groupement": GroupementFactory(),
        "year": 2020,
        "nature": fields["nature"],
        "amount": fields.get("amount", Decimal("1")),
        "recovery": fields.get("recovery", False),
        "status": fields.get("status", "paid" if fields.get("recovery") else "planned"),
    }
    if fields.get("pilot"):
        values["pilot_project"] = PilotProjectFactory()
    if fields.get("pilot_only"):
        values.update(groupement=None, pilot_project=PilotProjectFactory(), salaries=Decimal("-1"), running_costs=0)
    if fields.get("campaign"):
        values["campaign"] = CampaignFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerLine.objects.create(**values)


def test_one_line_per_groupement_year_and_nature_outside_campaigns():
    groupement = GroupementFactory()
    LedgerLine.objects.create(groupement=groupement, year=2020, nature="amorcage", amount=1)
    with pytest.raises(ValidationError, match="existe déjà pour ce groupement et cette année"):
        LedgerLine(groupement=groupement, year=2020, nature="amorcage", amount=2).full_clean()


def test_a_recovery_is_the_only_negative_line_outside_campaigns_one_per_key_beside_the_payment():
    groupement = GroupementFactory()
    LedgerLine.objects.create(groupement=groupement, year=2021, nature="amorcage", amount=10, status="paid")

    recovery = LedgerLine.objects.create(
        groupement=groupement, year=2021, nature="amorcage", amount=Decimal("-4"), recovery=True, status="paid"
    )

    assert LedgerLine.objects.filter(groupement=groupement).count() == 2
    recovery.full_clean()
    with pytest.raises(ValidationError, match="Une récupération de même nature existe déjà"):
        LedgerLine(
            groupement=groupement, year=2021, nature="amorcage", amount=Decimal("-1"), recovery=True, status="paid"
        ).full_clean()
    with pytest.raises(ValidationError, match="Le montant ne peut pas être négatif."):
        LedgerLine(
            groupement=groupement, year=2022, nature="amorcage", amount=Decimal("-1"), status="paid"
        ).full_clean()


def test_a_recovery_of_seed_credits_is_not_a_seed_credit(make_user):
    manager = make_user(role=DATA_MANAGER)
    groupement = GroupementFactory(code="G001")
    recovery = LedgerLine.objects.create(
        groupement=groupement, year=2019, nature="amorcage", amount=Decimal("-500"), recovery=True, status="paid"
    )

    credit = record_seed_credit(groupement=groupement, year=2019, amount=Decimal("77500"), user=manager)

    assert credit.pk != recovery.pk
    assert list(SeedCredit.objects.values_list("amount", flat=True)) == [Decimal("77500.00")]
    assert LedgerLine.objects.get(pk=recovery.pk).amount == Decimal("-500.00")


def test_mark_lines_paid(make_user):
    groupement = GroupementFactory()
    planned = LedgerLine.objects.create(groupement=groupement, year=2020, nature="amorcage", amount=1)

    assert mark_lines_paid(lines=[planned], user=make_user(role=DATA_MANAGER)) == 1
    planned.refresh_from_db()
    assert planned.status == "paid" and planned.paid_at is not None
    assert mark_lines_paid(lines=[planned], user=make_user(role=DATA_MANAGER)) == 0
    with pytest.raises(PermissionRefused, match="Droit insuffisant pour marquer payées"):
        mark_lines_paid(lines=[planned], user=make_user(role=READER))


def test_an_imported_recovery_of_the_payment_year_is_neither_adopted_nor_a_conflict(paid_campaign, make_user):
    """Money taken back in 2022 (of an earlier overpayment) is not the payment of campaign 2021."""
    g001 = paid_campaign.results.get(code="G001").groupement
    recovery = LedgerLine.objects.create(
        groupement=g001, year=2022, nature="interessement", amount=Decimal("-700"), recovery=True, status="paid"
    )

    lines = record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))

    assert [line.amount for line in lines] == [Decimal("123456.78"), Decimal("0.00"), Decimal("98765.43")]
    assert LedgerLine.objects.get(pk=recovery.pk).campaign is None
    # What G001 received in 2022: 123 456,78 − 700 = 122 756,78
    assert sum(line.amount for line in LedgerLine.objects.filter(groupement=g001)) == Decimal("122756.78")


# --- admin ----------------------------------------------------------------------------------------


def test_seed_credit_added_in_the_admin_goes_through_the_service(client, make_user):
    manager = make_user(role=DATA_MANAGER)
    groupement = GroupementFactory(code="G001")
    client.force_login(manager)

    response = client.post(
        reverse("admin:financing_seedcredit_add"),
        {"groupement": groupement.pk, "year": 2019, "amount": "77500", "status": "planned", "label": ""},
    )

    assert response.status_code == 302
    credit = SeedCredit.objects.get()
    assert (credit.nature, credit.amount, credit.recorded_by) == ("amorcage", Decimal("77500.00"), manager)
    duplicate = client.post(
        reverse("admin:financing_seedcredit_add"),
        {"groupement": groupement.pk, "year": 2019, "amount": "1", "status": "planned", "label": ""},
    )
    assert "existe déjà pour ce groupement et cette année" in duplicate.content.decode()


def test_a_negative_seed_credit_is_refused_by_the_admin_form(client, make_user):
    client.force_login(make_user(role=DATA_MANAGER))
    groupement = GroupementFactory(code="G001")

    response = client.post(
        reverse("admin:financing_seedcredit_add"),
        {"groupement": groupement.pk, "year": 2019, "amount": "-1", "status": "planned", "label": ""},
    )

    assert response.status_code == 200
    assert "Le montant ne peut pas être négatif." in response.content.decode()
    assert not LedgerLine.objects.exists()


def test_saving_a_paid_seed_credit_in_the_admin_shows_the_refusal(client, make_user):
    """Every field of a paid credit is read-only; saving it anyway reaches the service, whose refusal is
    shown as an error message (not a server error) and changes nothing."""
    manager = make_user(role=DATA_MANAGER)
    credit = record_seed_credit(
        groupement=GroupementFactory(code="G001"), year=2019, amount=Decimal("77500"), user=manager, status="paid"
    )
    client.force_login(manager)

    response = client.post(reverse("admin:financing_seedcredit_change", args=[credit.pk]), {}, follow=True)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Les crédits d'amorçage 2019 de G001 sont déjà payés : ils ne peuvent plus être modifiés."
    ]
    credit.refresh_from_db()
    assert (credit.amount, credit.status) == (Decimal("77500.00"), "paid")


def test_campaign_lines_cannot_be_edited_or_deleted_in_the_admin(paid_campaign, client, make_user):
    line = record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))[0]
    client.force_login(make_user(role=DATA_MANAGER))

    response = client.post(reverse("admin:financing_ledgerline_change", args=[line.pk]), {"amount": "1"})
    assert response.status_code == 403
    assert client.post(reverse("admin:financing_ledgerline_delete", args=[line.pk]), {"post": "yes"}).status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("123456.78")


@pytest.mark.parametrize(
    "url",
    [
        "admin:financing_ledgerline_changelist",
        "admin:financing_ledgerline_export",
        "admin:financing_seedcredit_changelist",
        "admin:financing_seedcredit_import",
        "admin:financing_pilotproject_changelist",
        "admin:financing_pilotproject_add",
        "admin:financing_innovativeactionclaim_changelist",
        "admin:financing_innovativeactionclaim_add",
        "admin:financing_ledgerline_import_payments",
    ],
)
def test_ledger_admin_pages_open_for_the_data_manager(paid_campaign, client, make_user, url):
    record_campaign_payments(campaign=paid_campaign, user=make_user(role=VALIDATOR))
    PilotProjectFactory()
    client.force_login(make_user(role=DATA_MANAGER))
    assert client.get(reverse(url)).status_code == 200


def test_admin_action_marks_seed_credits_paid(client, make_user):
    manager = make_user(role=DATA_MANAGER)
    credit = record_seed_credit(groupement=GroupementFactory(), year=2019, amount=Decimal("10"), user=manager)
    client.force_login(manager)

    response = client.post(
        reverse("admin:financing_seedcredit_changelist"), {"action": "mark_paid", "_selected_action": [credit.pk]}
    )

    assert response.status_code == 302
    credit.refresh_from_db()
    assert credit.status == "paid"


def test_a_paid_line_cannot_be_changed_through_the_ledger_admin(client, make_user):
    """A paid seed credit is read-only in its own admin; the ledger admin must not be a way around it."""
    manager = make_user(role=DATA_MANAGER)
    groupement = GroupementFactory(code="G001")
    credit = record_seed_credit(groupement=groupement, year=2019, amount=Decimal("77500"), user=manager, status="paid")
    client.force_login(manager)

    data = {
        "groupement": groupement.pk,
        "year": 2019,
        "nature": "amorcage",
        "amount": "1",
        "status": "planned",
        "label": "",
    }
    response = client.post(reverse("admin:financing_ledgerline_change", args=[credit.pk]), data)

    assert response.status_code == 403
    credit.refresh_from_db()
    assert (credit.amount, credit.status) == (Decimal("77500.00"), "paid")


def test_a_negative_line_is_refused_by_the_ledger_admin_form(client, make_user):
    """A manual line is a payment; a recovery is imported from versements.csv (was a server error)."""
    client.force_login(make_user(role=DATA_MANAGER))
    groupement = GroupementFactory(code="G001")

    data = {"groupement": groupement.pk, "year": 2021, "nature": "amorcage", "amount": "-5", "status": "paid"}
    response = client.post(reverse("admin:financing_ledgerline_add"), {**data, "label": ""})

    assert response.status_code == 200
    assert (
        "Le montant ne peut pas être négatif : une récupération s'enregistre en important versements.csv "
        "(montant précédé de « - »)." in plain(visible_text(response.content.decode()))
    )
    assert not LedgerLine.objects.exists()


def test_a_line_added_as_paid_in_the_ledger_admin_has_its_payment_date(client, make_user):
    client.force_login(make_user(role=DATA_MANAGER))
    groupement = GroupementFactory(code="G001")

    data = {
        "groupement": groupement.pk,
        "year": 2019,
        "nature": "amorcage",
        "amount": "77500",
        "status": "paid",
        "label": "",
    }
    response = client.post(reverse("admin:financing_ledgerline_add"), data)

    assert response.status_code == 302
    assert LedgerLine.objects.get().paid_at is not None


def test_a_second_line_of_the_same_groupement_year_and_nature_is_refused_by_the_ledger_admin_form(client, make_user):
    """The uniqueness constraint is conditional on fields the form does not show (campaign, recovery):
    Django skips it, and the database's refusal was a server error."""
    client.force_login(make_user(role=DATA_MANAGER))
    groupement = GroupementFactory(code="G001")
    data = {"groupement": groupement.pk, "year": 2019, "nature": "amorcage", "amount": "77500", "status": "paid"}
    assert client.post(reverse("admin:financing_ledgerline_add"), {**data, "label": ""}).status_code == 302

    response = client.post(reverse("admin:financing_ledgerline_add"), {**data, "amount": "10", "label": "bis"})

    assert response.status_code == 200
    assert (
        "Une ligne de même nature existe déjà pour ce groupement et cette année (G001, 2019) : modifiez-la."
        in plain(visible_text(response.content.decode()))
    )
    assert LedgerLine.objects.count() == 1
