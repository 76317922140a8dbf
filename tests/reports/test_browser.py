"""End to end in a real headless Chromium: a groupement user logs in and downloads its statement."""

import hashlib
import time
from pathlib import Path

import pytest
from django.urls import reverse

from reports import services
from reports.models import Statement
from tests.browser import needs_chromium
from tests.factories import PASSWORD
from tests.reports.factories import golden_campaign, portal_user

pytestmark = needs_chromium


def wait_for_download(directory: Path, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if not p.name.startswith(".") and not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download in {directory} after {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_groupement_user_logs_in_and_downloads_its_statement(browser, live_server, media_root, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    campaign = golden_campaign(status="published", codes=["G001", "G002"], datasets=False)
    services.render_campaign_statements(campaign=campaign)
    user = portal_user("G001")
    statement = Statement.objects.get(campaign=campaign, groupement__code="G001")

    browser.get(live_server.url + reverse("portal:home"))
    assert "/connexion/" in browser.current_url  # anonymous: sent to the login page
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    # Wait for the home page itself: the login page's own <h1> goes stale while it navigates.
    WebDriverWait(browser, 20).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "G001"))
    assert "G001 – MSP de Saint-Amand" in browser.find_element(By.TAG_NAME, "h1").text
    assert "3 553,13 €" in browser.find_element(By.TAG_NAME, "table").text.replace("\u00a0", " ")

    browser.find_element(By.LINK_TEXT, "2022").click()
    WebDriverWait(browser, 20).until(expected_conditions.element_to_be_clickable((By.ID, "download-statement"))).click()
    downloaded = wait_for_download(browser.downloads)
    content = downloaded.read_bytes()
    assert downloaded.name == f"releve_2022_G001_v{campaign.version}.pdf"
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == statement.sha256
