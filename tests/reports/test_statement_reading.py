"""The statement as its reader sees it: French typography (true minus, ’, narrow no-break spaces), how to
contest it and when and how it is paid, plain headings with the step in small print, tables kept whole
and two pages; the national report's parameter table whole."""

import datetime
import re
import subprocess
from decimal import Decimal

import pytest
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.utils import timezone, translation

from calculations.models import Campaign
from calculations.services import campaigns
from groupements.roles import VALIDATOR
from reports import national, services
from reports.models import Statement
from reports.statements import render_statement_pdf, statement_context
from tests.reports.conftest import pdf_raw_text, pdf_text
from tests.reports.factories import golden_campaign
from tests.typography import MINUS, NBSP, NNBSP, plain, typography_faults, visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def g001(media_root):
    campaign = golden_campaign(status="validated", codes=["G001", "G002"])
    return campaign.results.select_related("campaign", "groupement__wave").get(code="G001")


def test_the_statement_is_set_in_french_typography(g001):
    # pdftotext gives every kind of space back as a plain one: the spaces are checked on the HTML drawn.
    html = render_to_string("reports/statement.html", statement_context(g001, draft=False))
    assert typography_faults(visible_text(html)) == []
    assert f"Montant à verser au titre de 2022{NNBSP}:" in html
    raw = re.sub(r"\s+", " ", pdf_raw_text(render_statement_pdf(g001, draft=False)))
    assert f"{MINUS}239,72 €" in raw.replace(NBSP, " ")  # E, a negative amount: a true minus
    assert "Relevé d’intéressement IPEP" in raw and not re.search(r"\w'\w", raw)


# --- What to do with it: contest, be paid ------------------------------------------------------------


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def test_the_statement_says_how_to_contest_it_and_when_and_how_it_is_paid(g001, settings):
    settings.IPEP_SITE_URL = "https://ipep.example.org"
    portal = f"https://ipep.example.org/campagnes/{g001.campaign.pk}/"
    text = flat(pdf_text(render_statement_pdf(g001, draft=False)))
    assert (
        "Ce montant est versé en 2023 par le Fonds pour l'innovation du système de santé (FISS), géré par la "
        "Caisse nationale de l'Assurance maladie, par virement au groupement." in text
    )
    # Validated, not yet published: the window's rule, its dates being unknown.
    assert f"Pendant 30 jours après sa publication, sur le portail des groupements ({portal})" in text
    assert "« Contester ce relevé »" in text and "La réponse vous est envoyée par courriel." in text

    # Published on 3 April 2023 at 09:00 UTC: the window's last day, in Paris time (summer: UTC+2).
    Campaign.objects.filter(pk=g001.campaign.pk).update(
        status="published", published_at=datetime.datetime(2023, 4, 3, 9, 0, tzinfo=datetime.UTC)
    )
    g001.campaign.refresh_from_db()
    text = flat(pdf_text(render_statement_pdf(g001, draft=False)))
    assert f"Jusqu'au 3 mai 2023 à 11:00, sur le portail des groupements ({portal})" in text
    assert "Pendant 30 jours" not in text


def test_a_statement_with_nothing_to_pay_says_so(media_root):
    campaign = golden_campaign(
        status="validated", codes=["G001"], datasets=False, changes={"G001": {"final_amount": Decimal("0.00")}}
    )
    result = campaign.results.select_related("campaign", "groupement__wave").get()
    text = flat(pdf_text(render_statement_pdf(result, draft=False)))
    assert "Aucun montant n'est à verser au groupement au titre de 2022." in text and "versé en 2023" not in text


def test_publication_draws_the_statements_again_with_their_deadline(
    media_root, make_user, django_capture_on_commit_callbacks
):
    campaign = golden_campaign(status="computed", codes=["G001"], datasets=False)
    Campaign.objects.filter(pk=campaign.pk).update(status="validated")
    campaign.refresh_from_db()
    services.render_campaign_statements(campaign=campaign)
    before = Statement.objects.get(campaign=campaign)
    with django_capture_on_commit_callbacks(execute=True):
        published = campaigns.publish_campaign(campaign=campaign, user=make_user(role=VALIDATOR))
    after = Statement.objects.get(campaign=campaign)
    assert after.sha256 != before.sha256 and after.draft is False
    text = flat(pdf_text(services.verified_statement_file(after).read()))
    deadline = timezone.localtime(published.published_at + datetime.timedelta(days=30))
    with translation.override("fr"):
        assert f"Jusqu'au {date_filter(deadline, 'j F Y à H:i')}" in text


# --- Layout: plain headings, whole tables, two pages ----------------------------------------------------


def test_headings_are_plain_with_the_step_in_small_print(g001):
    html = plain(render_to_string("reports/statement.html", statement_context(g001, draft=False)))
    for heading, step in [
        ("Vos patients", "étapes 1 et 2"),
        ("Les dépenses de vos patients", "étapes 3 à 5"),
        ("Vos gains d'efficience", "étape 6"),
        ("Votre score qualité", "étape 7"),
        ("Votre droit de tirage qualité", "étape 8"),
        ("Ce que retient la phase 3", "étape 9"),
        ("Plafonds et coefficient national", "étapes 10 et 11"),
        ("Pour information : la garantie budgétaire", "étape 12"),
    ]:
        assert f'<h2>{heading} <span class="step">{step}</span></h2>' in html
    assert re.findall(r"<h2[^>]*>\s*\d", html) == []  # no « 3. Efficience (étape 6) »


@pytest.mark.parametrize("code", ["G001", "G004"])  # G004: a gain not told apart from chance, the longest page 1
def test_the_statement_fits_on_two_pages_with_every_table_whole(media_root, code):
    campaign = golden_campaign(status="validated", codes=[code])
    result = campaign.results.select_related("campaign", "groupement__wave").get()
    pdf = render_statement_pdf(result, draft=False)
    assert page_count(pdf) == 2
    pages = [flat(pdf_text(pdf, page=number)) for number in (1, 2)]

    def page_of(text: str) -> int:
        (number,) = [number for number, content in enumerate(pages, 1) if text in content]
        return number

    # First and last rows of each long table: on the same page.
    assert page_of("Indicateur Famille Sens") == page_of("Total des points des indicateurs")
    assert page_of("base_points") == page_of("truncation_percentile")
    assert page_of("Seuil d'écrêtement") == page_of("Dépense attendue moyenne (DA")
    assert page_of("Montant à verser au titre de 2022") == page_of("Contester ce relevé") == 1


def test_the_national_report_keeps_its_parameter_table_whole(media_root):
    campaign = golden_campaign(status="validated")
    pdf = national.national_report_pdf(campaign)
    pages = [flat(pdf_text(pdf, page=number)) for number in range(1, page_count(pdf) + 1)]
    names = sorted(campaign.parameters)
    (page,) = [content for content in pages if names[0] in content and "Paramètres" in content]
    assert all(name in page for name in names), [name for name in names if name not in page]
