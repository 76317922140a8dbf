"""Fixtures of the reports tests: PDF text extraction, a published campaign with its statements."""

import shutil
import subprocess

import pytest

from reports import services
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain


def pdf_text(pdf: bytes, *, page: int | None = None) -> str:
    """pdftotext of `pdf` (of its page `page` only, when given), French typography undone for wording
    tests (no-break spaces, narrow ones too, become plain spaces: the amount format is `3 553,13 €`;
    ’ becomes ', the true minus a hyphen). `pdf_raw_text` keeps them."""
    return plain(pdf_raw_text(pdf, page=page))


def pdf_raw_text(pdf: bytes, *, page: int | None = None) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return text


@pytest.fixture
def published(db, media_root):
    """A published 2022 campaign for G001 and G002 with final statements, and one portal user each."""
    campaign = golden_campaign(status="published", codes=["G001", "G002"])
    services.render_campaign_statements(campaign=campaign)
    return {"campaign": campaign, "g001_user": portal_user("G001"), "g002_user": portal_user("G002")}
