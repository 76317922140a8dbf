"""The admin pages work under the Content-Security-Policy in a real headless Chromium: no violation in
the console, the dataset page follows its validation (static/ipep/progress.js), the export
page's « select all » box works (static/ipep/export_select_all.js)."""

import pytest
from django.urls import reverse

from calculations.models import Dataset
from tests.browser import needs_chromium
from tests.factories import PASSWORD
from tests.reports.factories import golden_campaign

pytestmark = needs_chromium


def csp_violations(browser) -> list[str]:
    """Console messages about the policy since the last call (reading the log empties it)."""
    return [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]


@pytest.mark.django_db(transaction=True)
def test_admin_pages_work_under_the_content_security_policy(browser, live_server, media_root, make_user):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    admin = make_user(username="admin", is_staff=True, is_superuser=True)
    campaign = golden_campaign(status="computed", codes=["G001", "G002"], datasets=False)
    dataset = Dataset.objects.create(
        year=2023, original_name="beneficiaires_2023.csv", sha256="b" * 64, status=Dataset.Status.VALIDATING
    )

    browser.get(live_server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys(admin.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "user-tools")))
    assert csp_violations(browser) == []

    # The dataset page polls its status, shows the progress in place, and reloads when validation ends.
    browser.get(live_server.url + reverse("admin:calculations_dataset_change", args=[dataset.pk]))
    assert browser.find_element(By.ID, "dataset-status-label").text == "En validation"
    Dataset.objects.filter(pk=dataset.pk).update(progress=0.42, progress_step="contrôle des lignes")
    WebDriverWait(browser, 20).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "dataset-step"), "contrôle des lignes")
    )
    assert browser.find_element(By.ID, "dataset-percent").text == "42"
    assert browser.find_element(By.ID, "dataset-progress").get_attribute("value") == "42"
    Dataset.objects.filter(pk=dataset.pk).update(status=Dataset.Status.VALID, row_count=3)
    WebDriverWait(browser, 20).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "dataset-status-label"), "Valide")
    )
    assert csp_violations(browser) == []

    for url in (
        reverse("admin:calculations_campaign_change", args=[campaign.pk]),
        reverse("reports:national_report", args=[campaign.pk]),
        reverse("admin:calculations_campaign_add"),
    ):
        browser.get(live_server.url + url)
        assert browser.find_element(By.ID, "content").is_displayed()
        assert csp_violations(browser) == [], url

    # django-import-export's page: its inline handler is blocked, the static one does the job.
    browser.get(live_server.url + reverse("admin:groupements_groupement_export"))
    fields = browser.find_elements(By.CSS_SELECTOR, ".selectable-field-export-row input[type=checkbox]")
    assert fields and all(box.is_selected() for box in fields)
    browser.find_element(By.CSS_SELECTOR, "input.select-toggle").click()
    assert not any(box.is_selected() for box in fields)
