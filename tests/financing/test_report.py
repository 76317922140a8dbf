"""The FISS report: with the real 2019–2021 payments it prints exactly the table of METHODOLOGY
section 7 (text, CSV, JSON, admin HTML, PDF); the break-even view, checked against hand-computed
figures."""

import json
import subprocess
from decimal import Decimal
from fractions import Fraction
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from calculations.models import Campaign
from financing.models import LedgerLine
from financing.selectors.report import break_even, euros, financing_report, financing_text
from financing.services.payments import import_payments
from groupements.models import Groupement
from groupements.roles import DATA_MANAGER, GROUPEMENT_USER, READER
from tests.factories import CampaignFactory, GroupementResultFactory
from tests.typography import plain

from .factories import PilotProjectFactory, make_fiss_groupements

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "data" / "versements.csv"
REPORT_URL = "admin:financing_ledgerline_financing_report"
PDF_URL = "admin:financing_ledgerline_financing_report_pdf"

# The thousands separator (and the space before €) is a no-break space U+00A0, written · here.
EXPECTED_TEXT = """\
Financement FISS : versements payés par année de paiement

|                              |        2019 |        2020 |        2021 |
|------------------------------|-------------|-------------|-------------|
| Vague 1 — crédits d'amorçage | 1·395·000·€ |           – |           – |
| Vague 1 — intéressement      |           – | 2·659·309·€ | 2·538·395·€ |
| Vague 2 — crédits d'amorçage |           – |   721·000·€ |           – |
| Vague 2 — intéressement      |           – |           – | 1·123·286·€ |
| Total                        | 1·395·000·€ | 3·380·309·€ | 3·661·681·€ |

Total 2019–2021 : 8·436·990·€
Enveloppe prévue 2022 : 7·000·000·€
Enveloppe prévue 2023 : 7·000·000·€
Total avec les années prévues (2019–2023) : 22·436·990·€
""".replace("·", "\u00a0")


@pytest.fixture
def real_payments(make_user):
    """The payments of 2019–2021: wave 1 = 18 groupements (seed credits 18 × 77 500 = 1 395 000 in
    2019), wave 2 = 10 groupements (10 × 72 100 = 721 000 in 2020), intéressement to the cent."""
    make_fiss_groupements()
    import_payments(path=FIXTURE, user=make_user(role=DATA_MANAGER))


def report_output(fmt):
    out = StringIO()
    call_command("financing_report", "--format", fmt, stdout=out)
    return out.getvalue()


def test_fixture_lines_sum_to_the_official_totals(real_payments):
    totals = {}
    for line in LedgerLine.objects.select_related("groupement__wave"):
        key = (line.groupement.wave.code, line.nature, line.year)
        totals[key] = totals.get(key, Decimal(0)) + line.amount
    assert totals == {
        ("V1", "amorcage", 2019): Decimal("1395000.00"),
        ("V1", "interessement", 2020): Decimal("2659309.00"),
        ("V1", "interessement", 2021): Decimal("2538395.00"),
        ("V2", "amorcage", 2020): Decimal("721000.00"),
        ("V2", "interessement", 2021): Decimal("1123286.00"),
    }
    # Per-groupement intéressement is to the cent: the whole-euro totals come from exact sums.
    assert sum(1 for line in LedgerLine.objects.filter(nature="interessement") if line.amount % 1) > 40


def test_text_report_is_exactly_the_methodology_table(real_payments):
    assert report_output("text") == EXPECTED_TEXT


def test_csv_report_keeps_the_cents_and_adds_the_planned_years(real_payments):
    assert report_output("csv").splitlines() == [
        "ligne;vague;nature;2019;2020;2021;2022;2023;total",
        "Vague 1 — crédits d'amorçage;V1;amorcage;1395000,00;;;;;1395000,00",
        "Vague 1 — intéressement;V1;interessement;;2659309,00;2538395,00;;;5197704,00",
        "Vague 2 — crédits d'amorçage;V2;amorcage;;721000,00;;;;721000,00",
        "Vague 2 — intéressement;V2;interessement;;;1123286,00;;;1123286,00",
        "Total versé;;;1395000,00;3380309,00;3661681,00;;;8436990,00",
        "Enveloppe prévue;;;;;;7000000,00;7000000,00;14000000,00",
        "Total général;;;1395000,00;3380309,00;3661681,00;7000000,00;7000000,00;22436990,00",
    ]


def test_csv_report_writes_a_hostile_wave_as_text(real_payments):
    """Issue 16: a wave labelled `=HYPERLINK(…)` (or coded `@…`) was a live formula in the FISS CSV."""
    from groupements.models import Wave

    Wave.objects.filter(code="V1").update(code="@V1", label='=HYPERLINK("https://example.org","x")')
    import csv

    rows = list(csv.reader(StringIO(report_output("csv")), delimiter=";"))
    assert rows[1] == [
        '\'=HYPERLINK("https://example.org","x") — crédits d\'amorçage',
        "'@V1",
        "amorcage",
        "1395000,00",
        *[""] * 4,
        "1395000,00",
    ]


def test_json_report(real_payments):
    data = json.loads(report_output("json"))
    assert data["years"] == [2019, 2020, 2021]
    assert [(r["label"], r["amounts"]) for r in data["rows"]] == [
        ("Vague 1 — crédits d'amorçage", {"2019": "1395000.00"}),
        ("Vague 1 — intéressement", {"2020": "2659309.00", "2021": "2538395.00"}),
        ("Vague 2 — crédits d'amorçage", {"2020": "721000.00"}),
        ("Vague 2 — intéressement", {"2021": "1123286.00"}),
    ]
    assert data["totals"] == {"2019": "1395000.00", "2020": "3380309.00", "2021": "3661681.00"}
    # 1 395 000 + 3 380 309 + 3 661 681 = 8 436 990; + 2 × 7 000 000 = 22 436 990
    assert (data["total"], data["planned"], data["grand_total"]) == (
        "8436990.00",
        {"2022": "7000000.00", "2023": "7000000.00"},
        "22436990.00",
    )


def test_a_year_with_payments_replaces_its_planned_envelope(real_payments):
    g001 = Groupement.objects.get(code="G001")
    LedgerLine.objects.create(
        groupement=g001, year=2022, nature="interessement", amount=Decimal("100000.40"), status="paid"
    )

    report = financing_report()

    assert report.years == [2019, 2020, 2021, 2022]
    assert report.planned == {2023: Decimal("7000000")}
    # 8 436 990 + 100 000,40 + 7 000 000 = 15 536 990,40
    assert report.grand_total == Decimal("15536990.40")
    assert financing_text(report).endswith("Total avec les années prévues (2019–2023) : 15\u00a0536\u00a0990\u00a0€\n")


def import_recoveries(tmp_path, user, *lines):
    path = tmp_path / "versements.csv"
    path.write_text("code_groupement;annee;nature;montant\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    import_payments(path=path, user=user)


def test_a_recovery_subtracts_from_its_wave_nature_and_payment_year(real_payments, make_user, tmp_path):
    import_recoveries(
        tmp_path, make_user(role=DATA_MANAGER), "G001;2021;interessement;-1000,60", "G019;2021;amorcage;-5000"
    )

    report = financing_report()

    # Vague 1 intéressement 2021: 2 538 395,00 − 1 000,60 = 2 537 394,40; Vague 2 amorçage 2021: −5 000,00
    # (its only line); 2021: 3 661 681,00 − 1 000,60 − 5 000,00 = 3 655 680,40;
    # 2019–2021: 1 395 000 + 3 380 309 + 3 655 680,40 = 8 430 989,40; + 2 × 7 000 000 = 22 430 989,40.
    assert report.totals == {
        2019: Decimal("1395000.00"),
        2020: Decimal("3380309.00"),
        2021: Decimal("3655680.40"),
    }
    assert (report.total, report.grand_total) == (Decimal("8430989.40"), Decimal("22430989.40"))
    assert (
        financing_text(report)
        == """\
Financement FISS : versements payés par année de paiement

|                              |        2019 |        2020 |        2021 |
|------------------------------|-------------|-------------|-------------|
| Vague 1 — crédits d'amorçage | 1·395·000·€ |           – |           – |
| Vague 1 — intéressement      |           – | 2·659·309·€ | 2·537·394·€ |
| Vague 2 — crédits d'amorçage |           – |   721·000·€ |    −5·000·€ |
| Vague 2 — intéressement      |           – |           – | 1·123·286·€ |
| Total                        | 1·395·000·€ | 3·380·309·€ | 3·655·680·€ |

Total 2019–2021 : 8·430·989·€
Enveloppe prévue 2022 : 7·000·000·€
Enveloppe prévue 2023 : 7·000·000·€
Total avec les années prévues (2019–2023) : 22·430·989·€
""".replace("·", "\u00a0")
    )
    # The CSV is for programs: cents kept, an ASCII minus.
    assert report_output("csv").splitlines() == [
        "ligne;vague;nature;2019;2020;2021;2022;2023;total",
        "Vague 1 — crédits d'amorçage;V1;amorcage;1395000,00;;;;;1395000,00",
        "Vague 1 — intéressement;V1;interessement;;2659309,00;2537394,40;;;5196703,40",
        "Vague 2 — crédits d'amorçage;V2;amorcage;;721000,00;-5000,00;;;716000,00",
        "Vague 2 — intéressement;V2;interessement;;;1123286,00;;;1123286,00",
        "Total versé;;;1395000,00;3380309,00;3655680,40;;;8430989,40",
        "Enveloppe prévue;;;;;;7000000,00;7000000,00;14000000,00",
        "Total général;;;1395000,00;3380309,00;3655680,40;7000000,00;7000000,00;22430989,40",
    ]


def test_a_recovery_alone_does_not_replace_the_planned_envelope_of_its_year(real_payments, make_user, tmp_path):
    import_recoveries(tmp_path, make_user(role=DATA_MANAGER), "G001;2022;amorcage;-500")

    report = financing_report()

    assert report.years == [2019, 2020, 2021, 2022]
    assert report.totals[2022] == Decimal("-500.00")
    assert report.planned == {2022: Decimal("7000000"), 2023: Decimal("7000000")}
    # 8 436 990 − 500 + 2 × 7 000 000 = 22 436 490
    assert report.grand_total == Decimal("22436490.00")
    assert report_output("csv").splitlines()[-1] == (
        "Total général;;;1395000,00;3380309,00;3661681,00;6999500,00;7000000,00;22436490,00"
    )


def test_planned_lines_and_pilot_project_lines_are_not_in_the_report(real_payments):
    LedgerLine.objects.create(
        groupement=Groupement.objects.get(code="G001"), year=2021, nature="amorcage", amount=5000, status="planned"
    )
    LedgerLine.objects.create(
        pilot_project=PilotProjectFactory(),
        year=2021,
        nature="coordination",
        amount=Decimal("152520"),
        salaries=Decimal("152520"),
        running_costs=Decimal("0"),
        status="paid",
    )

    assert report_output("text") == EXPECTED_TEXT


def test_empty_ledger_still_shows_the_planned_envelope(settings, db):
    settings.IPEP_PLANNED_ENVELOPE = {"2024": 5000000}
    assert report_output("text") == (
        "Financement FISS : versements payés par année de paiement\n\nAucun versement payé au grand livre.\n\n"
        "Enveloppe prévue 2024 : 5\u00a0000\u00a0000\u00a0€\nTotal avec les années prévues (2024) : 5\u00a0000\u00a0000\u00a0€\n"
    )


def test_whole_euros_are_rounded_half_up():
    assert euros(Decimal("1234.50")) == "1\u00a0235\u00a0€"
    assert euros(Decimal("1234.49")) == "1\u00a0234\u00a0€"


# --- admin page and PDF ------------------------------------------------------------------------


def test_admin_report_page_shows_the_table_to_a_reader(real_payments, client, make_user):
    client.force_login(make_user(role=READER))

    response = client.get(reverse(REPORT_URL))

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Vague 2 — intéressement",
        "3\u00a0380\u00a0309\u00a0€",
        "Total 2019–2021\u202f: 8\u00a0436\u00a0990\u00a0€",
        "22\u00a0436\u00a0990\u00a0€",
    ):
        assert text in html


@pytest.mark.parametrize("url", [REPORT_URL, PDF_URL])
def test_report_access_is_refused_without_the_view_permission(db, client, make_user, url):
    staff_without_role = make_user(role=None, is_staff=True)
    client.force_login(staff_without_role)
    assert client.get(reverse(url)).status_code == 403

    client.force_login(make_user(role=GROUPEMENT_USER))
    assert client.get(reverse(url)).status_code == 302  # not staff: sent to the admin login

    client.logout()
    assert client.get(reverse(url)).status_code == 302


def test_pdf_report_has_the_table(real_payments, client, make_user):
    client.force_login(make_user(role=READER))

    response = client.get(reverse(PDF_URL))

    assert response["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    lines = [" ".join(plain(line).split()) for line in text.splitlines()]
    assert "Vague 1 — crédits d'amorçage 1 395 000 € – –" in lines
    assert "Vague 1 — intéressement – 2 659 309 € 2 538 395 €" in lines
    assert "Total 1 395 000 € 3 380 309 € 3 661 681 €" in lines
    assert "Total avec les années prévues (2019–2023) : 22 436 990 €" in " ".join(lines)


def test_ledger_changelist_links_to_the_report_and_the_import(db, client, make_user):
    client.force_login(make_user(role=DATA_MANAGER))
    html = client.get(reverse("admin:financing_ledgerline_changelist")).content.decode()
    assert reverse(REPORT_URL) in html and reverse("admin:financing_ledgerline_import_payments") in html


def test_admin_import_shows_the_problems_and_writes_nothing(db, client, make_user, tmp_path):
    make_fiss_groupements()
    client.force_login(make_user(role=DATA_MANAGER))
    broken = tmp_path / "versements.csv"
    broken.write_text(
        "code_groupement;annee;nature;montant\nG001;2019;amorcage;10\nG999;2019;amorcage;1\n", encoding="utf-8"
    )

    with open(broken, "rb") as handle:
        response = client.post(reverse("admin:financing_ledgerline_import_payments"), {"file": handle})

    assert "versements.csv:3: code_groupement: groupement inconnu «\u202fG999\u202f»" in response.content.decode()
    assert not LedgerLine.objects.exists()
    with open(FIXTURE, "rb") as handle:
        response = client.post(reverse("admin:financing_ledgerline_import_payments"), {"file": handle})
    assert response.status_code == 302
    assert LedgerLine.objects.count() == 74


def test_admin_import_needs_the_add_permission(db, client, make_user):
    client.force_login(make_user(role=READER))
    assert client.get(reverse("admin:financing_ledgerline_import_payments")).status_code == 403


# --- break-even ---------------------------------------------------------------------------------


@pytest.fixture
def campaign_2021(db):
    """Two groupements; figures chosen so that the arithmetic below is exact."""
    campaign = CampaignFactory(year=2021, status=Campaign.Status.PAID, real_expenditure_total=400_000_000.0)
    GroupementResultFactory(
        campaign=campaign,
        n_patients=10_000,
        n_patients_reference=9_000,
        real_per_patient=1100.0,
        expected_per_patient=1200.0,
        real_per_patient_reference=1000.0,
        expected_per_patient_reference=1050.0,
        final_amount=Decimal("1000000.00"),
        budget_guarantee_gain=12_345.5,
    )
    GroupementResultFactory(
        campaign=campaign,
        n_patients=5_000,
        n_patients_reference=5_000,
        real_per_patient=900.0,
        expected_per_patient=950.0,
        real_per_patient_reference=850.0,
        expected_per_patient_reference=880.0,
        final_amount=Decimal("500000.00"),
        budget_guarantee_gain=-2_345.5,
    )
    for groupement in Groupement.objects.all():
        LedgerLine.objects.create(
            groupement=groupement, year=2021, nature="amorcage", amount=Decimal("50000.00"), status="paid"
        )
    return campaign


def test_break_even_against_hand_computed_figures(campaign_2021):
    figures = break_even(campaign=campaign_2021)

    # cost = 1 000 000 + 500 000 (intéressement 2021) + 2 × 50 000 (seed credits paid in 2021) = 1 600 000
    assert figures.programme_cost == Decimal("1600000.00")
    # required = 1 600 000 / 400 000 000 = 0.4 %
    assert figures.required_reduction == pytest.approx(0.004, rel=1e-12)
    # real per patient: N (10 000 × 1 100 + 5 000 × 900) / 15 000 = 15 500 000 / 15 000,
    # R (9 000 × 1 000 + 5 000 × 850) / 14 000 = 13 250 000 / 14 000 → growth 217 / 198.75 − 1 = 73/795
    assert figures.real_growth == pytest.approx(float(Fraction(73, 795)), rel=1e-12)
    # expected: N 16 750 000 / 15 000, R (9 000 × 1 050 + 5 000 × 880) / 14 000 = 13 850 000 / 14 000
    # → 234.5 / 207.75 − 1 = 107/831
    assert figures.expected_growth == pytest.approx(float(Fraction(107, 831)), rel=1e-12)
    # observed = 107/831 − 73/795 = (85 065 − 60 663) / 660 645 = 24 402 / 660 645 ≈ 3.69 % ≥ 0.4 %
    assert figures.observed_reduction == pytest.approx(float(Fraction(24402, 660645)), rel=1e-12)
    assert figures.covered is True
    assert figures.reference_real_total == 13_250_000.0
    assert figures.observed_saving == 10_000.0  # 12 345,5 − 2 345,5


def test_break_even_needs_results_and_real_expenditure(db):
    assert break_even(campaign=CampaignFactory(real_expenditure_total=None)) is None


def test_admin_report_shows_the_break_even_section(campaign_2021, client, make_user):
    client.force_login(make_user(role=READER))
    html = client.get(reverse(REPORT_URL)).content.decode()
    assert "0,40\u00a0%" in html  # required
    assert "3,69\u00a0%" in html  # observed: 24 402 / 660 645 = 3.6936 %
    assert "1\u00a0600\u00a0000,00\u00a0€" in html
