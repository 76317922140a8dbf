"""Each role through its main path in a real headless Chromium, on the demo data (`demo_setup`):
the data manager uploads a file and follows its validation, the calculator creates a correction and
launches it, the validator validates and publishes it, the groupement's director logs in, downloads
the statement, contests it, and resets the password from the e-mail.

Every page met fails the test on an English word of ENGLISH_WORDS, a raw float (RAW_FLOAT), text set in
typewriter style (tests.typography.typography_faults: a straight apostrophe, a plain space before « : »)
or a server error (Django's `got_request_exception`, whatever the page then shows)."""

import re
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.signals import got_request_exception
from django.urls import reverse

from calculations.models import Campaign, Dataset
from reports.models import Contestation
from tests.browser import needs_chromium
from tests.conftest import GOLDEN_DIR
from tests.reports.test_browser import wait_for_download
from tests.typography import plain, typography_faults

pytestmark = needs_chromium

PASSWORD = "demo-pass-1"
NEW_PASSWORD = "Une-autre-phrase-de-passe-2026"
# Words of the untranslated Django admin, of forms and of Python that must never reach a French reader.
ENGLISH_WORDS = re.compile(
    r"\b(Error|error|must|Submit|None|True|False|Delete|Add|Save|Change|required|History|Home|Log ?out|"
    r"View site|Filter|Search|Select|Welcome|Password|Username|invalid|Invalid|unknown|Unknown|Traceback|"
    r"Not Found|Forbidden|Server Error|Page not found|Details|Summary|Status|Download|Upload|Yes|No)\b"
)
RAW_FLOAT = re.compile(r"\d+[.,]\d{5,}")
TIMEOUT = 240


class Walk:
    """The browser and the checks made on every page it shows."""

    def __init__(self, browser, live_server):
        self.browser, self.base, self.pages = browser, live_server.url, []
        # Launching, validating and publishing draw every statement in the request (eager Celery).
        browser.set_page_load_timeout(TIMEOUT)
        self.server_errors = []
        got_request_exception.connect(self.record_error)

    def record_error(self, sender, request=None, **kwargs):
        self.server_errors.append(getattr(request, "path", "?"))

    def by(self):
        from selenium.webdriver.common.by import By

        return By

    def wait(self, condition, timeout=TIMEOUT):
        from selenium.webdriver.support.wait import WebDriverWait

        return WebDriverWait(self.browser, timeout).until(condition)

    def text(self) -> str:
        return self.browser.find_element(self.by().TAG_NAME, "body").text

    def check(self) -> str:
        """The page's visible text, after checking it; returns it."""
        text = self.text()
        where = self.browser.current_url
        self.pages.append(where)
        assert not ENGLISH_WORDS.findall(text), (where, ENGLISH_WORDS.findall(text), text[:3000])
        floats = [text[max(0, m.start() - 80) : m.end() + 10] for m in RAW_FLOAT.finditer(text)]
        assert not floats, (where, floats)
        assert not typography_faults(text), (where, typography_faults(text))
        assert self.server_errors == [], self.server_errors
        return text

    def get(self, path: str) -> str:
        self.browser.get(self.base + path)
        return self.check()

    def element(self, css: str):
        return self.browser.find_element(self.by().CSS_SELECTOR, css)

    def click_and_wait(self, css: str, expected_text: str) -> str:
        """Click, then wait for `expected_text` in the new page (the old one goes stale meanwhile), its
        wording compared without the typography (tests.typography.plain)."""
        from selenium.common.exceptions import WebDriverException

        def shown(browser) -> bool:
            try:
                return plain(expected_text) in plain(browser.find_element(self.by().TAG_NAME, "body").text)
            except WebDriverException:  # the old page's body gone stale, or its node gone from the document
                return False

        self.element(css).click()
        try:
            self.wait(shown)
        except Exception:
            raise AssertionError(f"« {expected_text} » not shown: {self.browser.current_url}\n{self.text()}") from None
        return self.check()

    def admin_login(self, username: str):
        self.get(reverse("admin:login"))
        self.element("#id_username").send_keys(username)
        self.element("#id_password").send_keys(PASSWORD)
        self.element("#login-form input[type=submit]").click()
        self.wait_for("#user-tools")

    def admin_logout(self):
        self.element("#logout-form button[type=submit]").click()
        self.wait_for("#login-form")  # back to a login page

    def wait_for(self, css: str):
        from selenium.webdriver.support import expected_conditions

        try:
            self.wait(expected_conditions.presence_of_element_located((self.by().CSS_SELECTOR, css)))
        except Exception:
            raise AssertionError(f"{css} not shown: {self.browser.current_url}\n{self.text()}") from None
        return self.check()

    def portal_login(self, username: str, password: str):
        self.get(reverse("portal:login"))
        self.element("#id_username").send_keys(username)
        self.element("#id_password").send_keys(password)
        return self.click_and_wait("#login-form button[type=submit]", "Relevés d’intéressement")


@pytest.mark.django_db(transaction=True)
def test_every_role_walks_its_main_path_in_french(browser, live_server, media_root, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.IPEP_SITE_URL = live_server.url
    started = time.monotonic()
    call_command("demo_setup", "--bundle", str(GOLDEN_DIR), "--year", "2022", "--password", PASSWORD, stdout=StringIO())
    setup_seconds = time.monotonic() - started
    walk = Walk(browser, live_server)
    By = walk.by()

    # Data manager: uploads the 2023 file and follows its validation to the end.
    upload = tmp_path / "beneficiaires_2023.csv"
    lines = (GOLDEN_DIR / "beneficiaires_2022.csv").read_text(encoding="utf-8").splitlines()[:400]
    upload.write_text("\n".join(lines) + "\n", encoding="utf-8")
    walk.admin_login("donnees")
    walk.get(reverse("admin:calculations_dataset_add"))
    year = walk.element("#id_year")
    year.clear()
    year.send_keys("2023")
    walk.element("#id_file").send_keys(str(upload))
    walk.click_and_wait("#dataset-upload input[type=submit]", "validation lancée")
    from selenium.webdriver.support import expected_conditions

    walk.wait(expected_conditions.text_to_be_present_in_element((By.ID, "dataset-status-label"), "Valide"))
    text = walk.check()
    assert "399" in text  # rows validated
    assert Dataset.objects.get(year=2023).status == Dataset.Status.VALID
    walk.admin_logout()

    # Calculator: creates the correction of 2022 (version 2) and launches its computation.
    walk.admin_login("calcul")
    walk.get(reverse("admin:calculations_campaign_add"))
    year = walk.element("#id_year")
    if not year.get_attribute("value"):
        year.send_keys("2022")
    walk.click_and_wait("input[name=_save]", "2022 v2")
    correction = Campaign.objects.get(year=2022, version=2)
    walk.get(reverse("admin:calculations_campaign_change", args=[correction.pk]))
    walk.click_and_wait("input[name=submit_launch]", "Calculée")
    walk.admin_logout()

    # Validator: validates (four eyes: not the one who launched) and publishes with the reason.
    walk.admin_login("validation")
    walk.get(reverse("admin:calculations_campaign_change", args=[correction.pk]))
    walk.click_and_wait("input[name=submit_validate]", "Statut : Validée")
    walk.element("#campaign-actions textarea[name=reason]").send_keys("Correction de démonstration.")
    walk.click_and_wait("input[name=submit_publish]", "Statut : Publiée")
    walk.get(reverse("reports:national_report", args=[correction.pk]))
    walk.admin_logout()
    assert mail.outbox and "la version 2 remplace la version 1" in mail.outbox[0].subject
    for message in mail.outbox:
        assert not ENGLISH_WORDS.findall(message.subject + message.body) and not RAW_FLOAT.findall(message.body)

    # Director of G001: logs in, sees both versions, downloads the statement, contests it.
    home = walk.portal_login("g001", PASSWORD)
    assert "Remplacé par la version 2" in home
    walk.browser.find_element(By.CSS_SELECTOR, f"a[href='{reverse('portal:campaign', args=[correction.pk])}']").click()
    walk.wait(expected_conditions.element_to_be_clickable((By.ID, "download-statement")))
    walk.check()
    walk.element("#download-statement").click()
    downloaded = wait_for_download(browser.downloads)
    assert downloaded.read_bytes().startswith(b"%PDF-")
    walk.element("textarea[name=message]").send_keys("Le nombre de patients 2022 nous paraît sous-estimé.")
    walk.click_and_wait("form button.primary", "Votre contestation a été enregistrée")
    assert Contestation.objects.filter(campaign=correction, groupement__code="G001").count() == 1
    walk.click_and_wait("form.logout button", "Connexion")

    # … and, having forgotten the password, resets it from the e-mail's link.
    outbox_before = len(mail.outbox)
    walk.click_and_wait("#password-reset-link", "Mot de passe oublié")
    walk.element("#id_email").send_keys(get_user_model().objects.get(username="g001").email)
    walk.click_and_wait("#password-reset-form button", "Courriel envoyé")
    (reset_mail,) = mail.outbox[outbox_before:]
    link = re.search(r"^(http\S+/mot-de-passe/nouveau/\S+/)$", reset_mail.body, re.MULTILINE).group(1)
    browser.get(link)
    walk.wait(expected_conditions.presence_of_element_located((By.ID, "id_new_password1")))
    walk.check()
    walk.element("#id_new_password1").send_keys(NEW_PASSWORD)
    walk.element("#id_new_password2").send_keys(NEW_PASSWORD)
    walk.click_and_wait("#password-set-form button", "Mot de passe enregistré")
    walk.portal_login("g001", NEW_PASSWORD)

    got_request_exception.disconnect(walk.record_error)
    walk_seconds = time.monotonic() - started - setup_seconds
    print(f"demo_setup {setup_seconds:.1f} s, walk {walk_seconds:.1f} s, {len(walk.pages)} pages checked")
    assert len(walk.pages) >= 20
