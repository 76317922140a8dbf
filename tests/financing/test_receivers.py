"""Money reacts to the campaign (financing/receivers.py): paying a campaign writes its intéressement lines
in the same transaction as the status change, and a refusal of the ledger undoes the payment, shown as
such in the admin and by `transition_campaign`."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from calculations.models import Campaign, CampaignTransition
from calculations.services import campaigns as services
from common.errors import ActionRefused
from financing.models import LedgerLine
from groupements.roles import VALIDATOR
from tests.factories import CampaignFactory, GroupementFactory, GroupementResultFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status
NBSP = "\u00a0"


@pytest.fixture
def published():
    """Campaign 2021 v1, published, two results: 1 000,10 € and 2 500,00 €."""
    campaign = CampaignFactory(year=2021, status=Status.PUBLISHED)
    for code, amount in (("G001", "1000.10"), ("G002", "2500.00")):
        GroupementResultFactory(
            campaign=campaign, groupement=GroupementFactory(code=code), final_amount=Decimal(amount)
        )
    return campaign


@pytest.fixture
def validator(make_user):
    return make_user(role=VALIDATOR, username="validation")


def conflicting_import(campaign):
    """An intéressement of G002 for 2022 imported from versements.csv with another amount."""
    return LedgerLine.objects.create(
        groupement=campaign.results.get(code="G002").groupement,
        year=2022,
        nature="interessement",
        amount=Decimal("2400.00"),
        status="paid",
    )


CONFLICT = (
    "Intéressement 2021 déjà présent au grand livre avec un autre montant (import) : "
    f"G002 : 2{NBSP}400,00{NBSP}€ déjà enregistrés pour 2022, 2{NBSP}500,00{NBSP}€ calculés."
)


def test_paying_a_campaign_writes_its_lines_paid_in_n_plus_1_by_the_payer(published, validator):
    paid = services.pay_campaign(campaign=published, user=validator)

    lines = LedgerLine.objects.filter(campaign=paid).order_by("groupement__code")
    assert [(line.groupement.code, line.year, line.amount, line.status, line.recorded_by) for line in lines] == [
        ("G001", 2022, Decimal("1000.10"), "paid", validator),
        ("G002", 2022, Decimal("2500.00"), "paid", validator),
    ]
    # 1 000,10 + 2 500,00 = 3 500,10: the campaign's final total, to the cent
    assert sum(line.amount for line in lines) == Decimal("3500.10")


@pytest.mark.parametrize("transition", ["validate", "publish", "reject", "launch"])
def test_other_transitions_write_no_money(published, validator, transition):
    from calculations.signals import campaign_transitioned

    campaign_transitioned.send(sender=Campaign, campaign=published, transition=transition, previous="", actor=validator)

    assert not LedgerLine.objects.exists()


def test_a_ledger_refusal_undoes_the_payment(published, validator):
    imported = conflicting_import(published)

    with pytest.raises(ActionRefused) as refused:
        services.pay_campaign(campaign=published, user=validator)

    assert refused.value.messages == [CONFLICT]
    published.refresh_from_db()
    assert (published.status, published.paid_at) == (Status.PUBLISHED, None)
    assert not CampaignTransition.objects.filter(to_status=Status.PAID).exists()
    assert list(LedgerLine.objects.all()) == [imported]  # nothing written, the imported line not adopted


def test_the_admin_pay_button_shows_the_ledger_refusal(published, validator, client):
    conflicting_import(published)
    client.force_login(validator)

    response = client.post(
        reverse("admin:calculations_campaign_transition", args=[published.pk]), {"transition": "pay"}, follow=True
    )

    assert response.status_code == 200
    assert CONFLICT in [str(message) for message in response.context["messages"]]
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED


def test_the_transition_command_prints_the_ledger_refusal(published, validator, capsys):
    conflicting_import(published)

    with pytest.raises(CommandError, match="transition refusée"):
        call_command("transition_campaign", "--year", "2021", "--to", "paid", "--user", "validation")

    assert capsys.readouterr().err.strip() == CONFLICT
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED
