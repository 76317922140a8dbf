"""The statement as its reader sees it: French typography (true minus, ’, narrow no-break spaces)."""

import re

import pytest
from django.template.loader import render_to_string

from reports.statements import render_statement_pdf, statement_context
from tests.reports.conftest import pdf_raw_text
from tests.reports.factories import golden_campaign
from tests.typography import MINUS, NBSP, NNBSP, typography_faults, visible_text

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
