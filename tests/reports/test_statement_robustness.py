"""Step 13 on the statement's first page: both gaps with their confidence interval, one plain sentence when
the gain cannot be told apart from chance, the efficiency amount without truncation beside the one paid.

Figures are the engine's for the golden bundle (expected_2022.v3.json); the intervals are redone by hand
below: E ∓ z·se_N and Ev ∓ z·se_Ev, z = 1,959964 at 95 % and 1,644854 at 90 %.
"""

import re

import pytest

from calculations.management.commands.simulate import simulate
from calculations.models import GroupementResult
from reports.statements import render_statement_pdf
from tests.golden import GOLDEN_DIR
from tests.reports.conftest import pdf_text
from tests.reports.factories import GoldenCampaignFactory, golden_campaign, golden_groupement

pytestmark = pytest.mark.django_db


def page_one(result) -> str:
    return re.sub(r"\s+", " ", pdf_text(render_statement_pdf(result, draft=False), page=1))


def stored(campaign, code):
    return campaign.results.select_related("campaign", "groupement__wave").get(code=code)


def simulated_campaign(code, *assignments):
    """A validated 2022 campaign holding the engine's result of `code` computed with `assignments`."""
    results = simulate(GOLDEN_DIR, 2022, list(assignments))
    campaign = GoldenCampaignFactory(status="validated", parameters=results.parameters.to_json_dict())
    row = next(row for row in results.groupements if row.code == code)
    GroupementResult.from_engine_row(row, campaign=campaign, groupement=golden_groupement(code)).save()
    return stored(campaign, code), row


def test_page_one_gives_both_gaps_with_their_interval_and_the_amount_without_truncation(media_root):
    text = page_one(stored(golden_campaign(status="validated", codes=["G003"]), "G003"))
    # E = 373,04; z·se_N = 1,959964 × 53,8372 = 105,52 → 267,52 to 478,56
    assert "Écart de niveau E" in text and "373,04 €" in text
    assert "intervalle de confiance à 95 % : de 267,52 € à 478,56 €" in text
    # Ev = 314,48; se_Ev = √((1 947,5693 / 1 575,7548)² × 50,0482² + 53,8372²) = 82,0049;
    # z·se_Ev = 160,73 → 153,75 to 475,20
    assert "Différence d'évolution Ev" in text and "314,48 €" in text
    assert "intervalle de confiance à 95 % : de 153,75 € à 475,20 €" in text
    assert "ne se distingue pas du hasard" not in text  # both intervals above zero: not flagged
    # efficiency on truncated spend 2 274 × 166,9990 = 379 755,68; untruncated 2 274 × 231,2304 = 525 817,86
    assert "Montant d'efficience retenu" in text and "379 755,68 €" in text
    assert "Montant d'efficience sans écrêtement" in text and "525 817,86 €" in text
    assert "L'écrêtement limite la dépense prise en compte pour chaque patient à 20 679,18 € en 2022" in text


def test_the_noise_flag_is_one_plain_sentence_on_page_one_and_the_gain_is_still_paid_with_the_gate_off(media_root):
    result = stored(golden_campaign(status="validated", codes=["G004"]), "G004")
    assert result.efficiency_noise is True
    text = page_one(result)
    # E = -10,36 ∓ 1,959964 × 109,0591 → -224,11 to 203,39; Ev = 25,32 ∓ 1,959964 × 147,2412 → -263,26 to 313,91:
    # both intervals reach zero while the efficiency amount is positive.
    assert "intervalle de confiance à 95 % : de -224,11 € à 203,39 €" in text
    assert "intervalle de confiance à 95 % : de -263,26 € à 313,91 €" in text
    assert "Le gain d'efficience de ce groupement ne se distingue pas du hasard au niveau de confiance de 95 %" in text
    assert "Il est versé quand même" in text and "ramené à 0 €" not in text
    assert "6 389,79 €" in text and "41 058,42 €" in text  # 757 × 8,4409 and 757 × 54,2383
    assert "Montant à verser au titre de 2022 : 6 439,60 €" in text


def test_with_the_gate_on_the_statement_says_the_flagged_gain_is_not_paid(media_root):
    result, row = simulated_campaign("G004", "noise_gate=on")
    assert row.efficiency_amount == 0.0 and row.efficiency_noise is True
    text = page_one(result)
    assert "ne se distingue pas du hasard au niveau de confiance de 95 %" in text
    assert "un tel gain n'est pas versé : le montant d'efficience est ramené à 0 €" in text
    assert "Il est versé quand même" not in text
    # paid efficiency 0; the figure without truncation is never gated (41 058,42 = 757 × 54,2383)
    assert "Montant d'efficience retenu calculé sur les dépenses écrêtées, puis ramené à 0 €" in text
    assert "0,00 €" in text and "41 058,42 €" in text


def test_the_interval_follows_the_campaign_confidence_level(media_root):
    result, _ = simulated_campaign("G003", "confidence_level=0.9")
    text = page_one(result)
    # z = 1,644854: E 373,04 ∓ 1,644854 × 53,8372 (88,55) → 284,49 to 461,59; Ev 314,48 ∓ 1,644854 × 82,0049
    # (134,89) → 179,59 to 449,36
    assert "intervalle de confiance à 90 % : de 284,49 € à 461,59 €" in text
    assert "intervalle de confiance à 90 % : de 179,59 € à 449,36 €" in text
    assert "95 %" not in text


def test_without_truncation_the_two_amounts_are_equal_and_the_statement_says_so(media_root):
    result, row = simulated_campaign("G003", "truncation_percentile=100")
    assert row.efficiency_amount == row.efficiency_amount_untruncated
    text = page_one(result)
    assert "Cette campagne n'écrête pas les dépenses (percentile 100) : les deux montants sont égaux." in text


def test_a_result_computed_before_step_13_shows_no_interval(media_root):
    result = stored(golden_campaign(status="computed", codes=["G003"]), "G003")
    for field in ("level_gap_low", "level_gap_high", "evolution_gap_low", "evolution_gap_high", "efficiency_noise"):
        setattr(result, field, None)
    text = re.sub(r"\s+", " ", pdf_text(render_statement_pdf(result, draft=True)))
    assert "intervalle de confiance" not in text and "sans écrêtement" not in text
    assert "379 755,68 €" in text  # the rest of the statement is unchanged
