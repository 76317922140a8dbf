"""The campaign page's step-13 panel: the count of flagged groupements and what the noise gate would change
(the engine's own recomputation, tests/calculations/engine/test_gate.py)."""

import html
import re

import pytest
from django.urls import reverse

from groupements.roles import READER
from tests.reports.factories import golden_campaign
from tests.typography import plain

pytestmark = pytest.mark.django_db


def panel(client, campaign) -> str:
    page = html.unescape(client.get(reverse("admin:calculations_campaign_change", args=[campaign.pk])).content.decode())
    start = page.index('id="campaign-noise-gate"')
    return re.sub(r"<[^>]+>", " ", page[start : page.index("</div>", start)]).replace("\u00a0", " ")


def test_the_campaign_page_counts_flagged_groupements_and_compares_the_gate_off_and_on(client, make_user):
    campaign = golden_campaign(status="computed", datasets=False)
    client.force_login(make_user(role=READER))
    text = re.sub(r"\s+", " ", panel(client, campaign))
    assert "1 groupement sur 12 a un gain d'efficience qui ne se distingue pas du hasard" in plain(text)
    assert "signalement seul, ces gains sont versés" in text
    # Total paid: the national ceiling either way (244 528,88 €), difference 0.
    assert "Total versé 244 528,88 € 244 528,88 € 0,00 €" in text
    # G004 with the gate on: efficiency 0, so phase 3 pays its quality amount alone, 1 518,88 € (below its cap),
    # times k_on = C / (288 548,89 − 7 598,85 + 1 518,88) = 0,865684: 1 314,87 € (the engine's run with
    # noise_gate=on gives the same cents: tests/calculations/engine/test_gate.py).
    assert "G004 (gain signalé) 6 439,60 € 1 314,87 € \u22125 124,73 €" in text  # a true minus
    assert "Coefficient national 0,8474 0,8657" in text  # ratios to 4 places
    assert "Montant changé pour 12 groupements sur 12" in text


def test_no_panel_for_results_computed_before_step_13(client, make_user):
    campaign = golden_campaign(status="computed", datasets=False, codes=["G001", "G004"])
    campaign.results.update(efficiency_noise=None)
    client.force_login(make_user(role=READER))
    page = client.get(reverse("admin:calculations_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="campaign-noise-gate"' not in page and "G004" in page
