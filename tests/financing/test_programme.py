"""The programme view of the break-even: paid (seed credits + intéressement, from the ledger) against the
gains observed, cumulated over every year with a published campaign; figures chosen so that the arithmetic
below is exact."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from calculations.models import Campaign
from financing.models import LedgerLine
from financing.selectors.programme import programme_view
from groupements.roles import READER
from tests.factories import CampaignFactory, GroupementFactory, GroupementResultFactory
from tests.financing.factories import PilotProjectFactory
from tests.typography import plain

pytestmark = pytest.mark.django_db
Status = Campaign.Status


def result(campaign, groupement, *, gain, efficiency):
    GroupementResultFactory(
        campaign=campaign, groupement=groupement, budget_guarantee_gain=gain, efficiency_amount=efficiency
    )


def line(groupement, year, nature, amount, *, status="paid", campaign=None):
    LedgerLine.objects.create(
        groupement=groupement, year=year, nature=nature, amount=Decimal(amount), status=status, campaign=campaign
    )


@pytest.fixture
def programme():
    a, b, c = GroupementFactory(code="A"), GroupementFactory(code="B"), GroupementFactory(code="C")
    paid_2021 = CampaignFactory(year=2021, status=Status.PAID, real_expenditure_total=100_000_000.0)
    result(paid_2021, a, gain=300_000.0, efficiency=120_000.0)
    result(paid_2021, b, gain=-50_000.0, efficiency=0.0)
    old_2022 = CampaignFactory(year=2022, version=1, status=Status.SUPERSEDED, real_expenditure_total=1.0)
    result(old_2022, a, gain=9_999_999.0, efficiency=9_999_999.0)  # superseded: never counted
    published_2022 = CampaignFactory(
        year=2022, version=2, status=Status.PUBLISHED, real_expenditure_total=110_000_000.0
    )
    result(published_2022, a, gain=400_000.5, efficiency=150_000.25)
    result(published_2022, b, gain=100_000.0, efficiency=40_000.0)
    computed_2020 = CampaignFactory(year=2020, status=Status.COMPUTED, real_expenditure_total=90_000_000.0)
    result(computed_2020, a, gain=1_000_000.0, efficiency=1_000_000.0)  # not published: no year 2020

    line(a, 2021, "amorcage", "50000.00")
    line(b, 2021, "amorcage", "50000.00")
    line(c, 2021, "amorcage", "70000.00", status="planned")  # a commitment, not paid
    line(a, 2020, "amorcage", "100000.00")  # 2020 has no published campaign
    line(a, 2022, "interessement", "120000.40", campaign=paid_2021)  # campaign 2021, paid in 2022
    line(b, 2022, "interessement", "30000.00", campaign=paid_2021)
    line(c, 2022, "interessement", "10000.00")  # imported without its campaign: paid in 2022 → campaign 2021
    line(a, 2023, "interessement", "200000.00", status="planned", campaign=published_2022)  # not paid yet
    LedgerLine.objects.create(
        pilot_project=PilotProjectFactory(),
        year=2021,
        nature="coordination",
        amount=Decimal("152520.00"),
        status="paid",
    )


def test_the_cumulative_table_against_hand_computed_figures(programme):
    first, second = programme_view()
    # 2021: seed 50 000 + 50 000 = 100 000; intéressement of campaign 2021 = 120 000,40 + 30 000 + 10 000
    # = 160 000,40; paid 260 000,40. Gain 300 000 − 50 000 = 250 000 < 260 000,40: not financed yet.
    assert (first.year, first.version) == (2021, 1)
    assert (first.seed_paid, first.incentive_paid, first.paid) == (
        Decimal("100000.00"),
        Decimal("160000.40"),
        Decimal("260000.40"),
    )
    assert (first.guarantee_gain, first.efficiency) == (250_000.0, 120_000.0)
    assert first.break_even_reduction == 260_000.40 / 100_000_000  # 0,260 %
    assert first.observed_reduction == 0.0025  # 250 000 / 100 000 000
    assert first.financed is False
    # 2022 v2: nothing paid yet for it (its intéressement line is planned); gain 400 000,5 + 100 000 = 500 000,5.
    # To date: paid 260 000,40, gain 750 000,5, efficiency 120 000 + 190 000,25 = 310 000,25,
    # expenditure 210 000 000 → point mort 0,124 %, observed 0,357 %: financed.
    assert (second.year, second.version, second.paid) == (2022, 2, Decimal("0.00"))
    assert second.paid_to_date == Decimal("260000.40")
    assert (second.guarantee_gain_to_date, second.efficiency_to_date) == (750_000.5, 310_000.25)
    assert second.real_expenditure_to_date == 210_000_000.0
    assert second.break_even_reduction == pytest.approx(260_000.40 / 210_000_000, rel=1e-15)
    assert second.observed_reduction == pytest.approx(750_000.5 / 210_000_000, rel=1e-15)
    assert second.financed is True


def report(fmt: str) -> str:
    out = StringIO()
    call_command("financing_report", "--format", fmt, stdout=out)
    return out.getvalue().replace("\u00a0", " ")


def test_financing_report_text_csv_and_json_carry_the_programme_table(programme):
    text = report("text")
    assert "Programme : versé et gains observés, cumulés sur les années avec une campagne publiée" in text
    row_2021 = next(line for line in text.splitlines() if line.startswith("| 2021 v1"))
    cells = [cell.strip() for cell in row_2021.strip("|").split("|")]
    assert cells == [
        "2021 v1", "100 000 €", "160 000 €", "260 000 €", "260 000 €", "250 000 €", "250 000 €",
        "120 000 €", "120 000 €", "0,260 %", "0,250 %", "non",
    ]  # fmt: skip
    assert (
        "Programme financé à ce jour (2021–2022) : oui – gains observés cumulés 750 001 € pour 260 000 € versés ; "
        "baisse de croissance observée 0,357 %, point mort 0,124 %." in text
    )

    csv_lines = report("csv").splitlines()
    start = csv_lines.index(next(line for line in csv_lines if line.startswith("year;version;")))
    assert csv_lines[start + 1].startswith("2021;1;100000,00;160000,40;260000,40;260000,40;250000,00;250000,00;")
    assert csv_lines[start + 2].endswith(";oui")

    data = json.loads(report("json"))["programme"]
    assert data["financed"] is True
    assert [(y["year"], y["paid_to_date"], y["budget_guarantee_gain_to_date"]) for y in data["years"]] == [
        (2021, "260000.40", "250000.00"),
        (2022, "260000.40", "750000.50"),
    ]


def test_the_admin_report_page_shows_the_programme_table(programme, client, make_user):
    client.force_login(make_user(role=READER))
    html = plain(client.get(reverse("admin:financing_ledgerline_financing_report")).content.decode())
    assert 'id="programme"' in html and "2022 v2" in html and "750 000,50 €" in html
    assert "Programme financé à ce jour (2021–2022) : oui" in html


def test_without_a_published_campaign_the_report_is_unchanged(db):
    assert programme_view() == []
    assert "Programme" not in report("text") and json.loads(report("json"))["programme"]["years"] == []
