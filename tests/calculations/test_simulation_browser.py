"""A reader runs two what-if simulations of the golden campaign in a real headless Chromium: types a
decimal comma in the pre-filled form, follows the progress bar (static/ipep/progress.js)
until the difference table appears, sorts it, and checks that the simulation with the campaign's own
parameters equals the campaign to the cent. No Content-Security-Policy violation."""

import pytest
from django.urls import reverse

from calculations.models import Campaign, Simulation
from calculations.services import campaigns as campaign_services
from calculations.services import simulations as simulation_services
from common.formatting import format_money
from groupements.roles import CALCULATOR, READER
from tests.browser import needs_chromium
from tests.calculations.campaign_factories import golden_parameters, store_golden_datasets
from tests.factories import PASSWORD

pytestmark = needs_chromium


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ").strip()


@pytest.mark.django_db(transaction=True)
def test_a_reader_simulates_in_the_browser_and_reads_the_table(
    browser, live_server, media_root, loaded_reference, make_user, monkeypatch
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    from reports import services as reports

    monkeypatch.setattr(reports, "render_campaign_statements", lambda *, campaign: None)  # not what is tested
    calculator = make_user(role=CALCULATOR)
    store_golden_datasets()
    campaign = campaign_services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    campaign_services.launch_campaign(campaign=campaign, user=calculator)  # eager: computed on commit
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    # The page must show the progress first: the task runs when the test says so, not at commit.
    queued = []
    monkeypatch.setattr(simulation_services, "_enqueue", queued.append)

    reader = make_user(role=READER)
    browser.get(live_server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys(reader.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    wait = WebDriverWait(browser, 30)
    wait.until(expected_conditions.presence_of_element_located((By.ID, "user-tools")))

    def run_from_campaign_page(**typed) -> list[list[str]]:
        browser.get(live_server.url + reverse("admin:calculations_campaign_change", args=[campaign.pk]))
        browser.find_element(By.ID, "campaign-simulate").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "simulation-form")))
        assert browser.find_element(By.NAME, "national_ceiling_rate").get_attribute("value") == "0,0065"
        assert browser.find_element(By.NAME, "min_patients").get_attribute("value") == "300"
        for name, value in typed.items():
            field = browser.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        browser.find_element(By.NAME, "simulate").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "simulation-progress")))
        assert browser.find_element(By.ID, "simulation-status-label").text == "En attente"
        simulation_services.run_simulation(simulation_id=queued.pop())
        wait.until(expected_conditions.presence_of_element_located((By.ID, "simulation-total")))  # reloaded
        return table_rows()

    def table_rows() -> list[list[str]]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#simulation-table tbody tr")
        return [[plain(cell.text) for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]

    rows = run_from_campaign_page(national_ceiling_rate="0,02")
    assert rows[0][:4] == ["Total", "244 528,88 €", "288 548,88 €", "+44 020,00 €"]
    assert rows[1][:4] == ["G001", "3 553,13 €", "4 192,77 €", "+639,64 €"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#simulation-table td.changed")) > 0
    # Sort on the difference of the final amount, largest first: the totals stay on top.
    browser.find_element(By.CSS_SELECTOR, '#simulation-table a[href^="?tri=final_amount.difference"]').click()
    browser.find_element(By.CSS_SELECTOR, '#simulation-table a[href^="?tri=-final_amount.difference"]').click()
    wait.until(lambda driver: "▼" in driver.find_element(By.ID, "simulation-table").text)
    assert [row[0] for row in table_rows()][:2] == ["Total", "G003"]

    rows = run_from_campaign_page()  # the campaign's own parameters
    stored = {r.code: plain(format_money(r.final_amount)) for r in campaign.results.all()}
    total, *lines = rows
    assert total[:4] == ["Total", "244 528,88 €", "244 528,88 €", "0,00 €"]
    assert {line[0]: (line[1], line[2], line[3]) for line in lines} == {
        code: (amount, amount, "0,00 €") for code, amount in stored.items()
    }
    assert browser.find_elements(By.CSS_SELECTOR, "#simulation-table td.changed") == []
    assert Simulation.objects.filter(campaign=campaign, status=Simulation.Status.DONE).count() == 2
    violations = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert violations == []
