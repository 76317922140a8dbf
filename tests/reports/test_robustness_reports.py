"""Step 13 where people decide, besides the statement: the national report (HTML, PDF, CSV, XLSX) gives
each groupement's intervals, noise flag and efficiency without truncation, with a forest plot of the level
gaps; the portal gives a groupement its own. Figures of expected_2022.v3.json, where only G004 is flagged
(E = -10,36 ∓ 1,959964 × 109,06 and Ev = 25,32 ∓ 1,959964 × 147,24 both reach 0, efficiency 6 389,79 > 0)."""

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from groupements import roles
from reports import charts, national
from tests.reports.conftest import pdf_text
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain

pytestmark = pytest.mark.django_db

# Σ efficiency_amount_untruncated of the twelve: G003 525 817,8552 + G004 41 058,4240 + G005 222 294,7597
# + G006 250 299,6778 + G007 147 134,2786 + G011 1 174 517,1297 + G012 22 952,2962 (others 0) = 2 384 074,4214
UNTRUNCATED_TOTAL = 2384074.4213554687


@pytest.fixture
def campaign(db):
    return golden_campaign(status="validated", datasets=False)


def test_forest_rows_are_the_groupements_by_level_gap_largest_first(campaign):
    rows = national.forest_rows(national.report_rows(campaign))
    # E: G006 541,49 > G003 373,04 > G005 258,56 > G007 225,97 > G011 204,41 > G004 -10,36 > G012 -117,55
    #    > G002 -118,49 > G010 -141,72 > G009 -214,46 > G008 -234,30 > G001 -239,72
    assert [r["code"] for r in rows] == [
        "G006", "G003", "G005", "G007", "G011", "G004", "G012", "G002", "G010", "G009", "G008", "G001",
    ]  # fmt: skip
    total = national.total_row(national.report_rows(campaign))
    assert total["efficiency_noise"] == 1
    assert total["efficiency_amount_untruncated"] == pytest.approx(UNTRUNCATED_TOTAL, rel=1e-15)


def test_the_forest_plot_marks_the_flagged_gain_and_is_deterministic(campaign):
    rows = national.forest_rows(national.report_rows(campaign))
    svg = charts.forest_chart(rows, "95 %")
    assert svg.lstrip().startswith("<?xml") and svg == charts.forest_chart(rows, "95 %")
    assert charts.NOISE_COLOUR in svg  # G004's bar
    unflagged = [r for r in rows if not r["efficiency_noise"]]
    assert charts.NOISE_COLOUR not in charts.forest_chart(unflagged, "95 %")
    many = [dict(r, code=f"X{i:04d}") for i in range(300) for r in rows[:1]]
    assert "<svg" in charts.forest_chart(many, "95 %")  # no label per line beyond LABELLED_ROWS, still drawn


def test_csv_and_xlsx_give_the_intervals_the_flag_and_the_amount_without_truncation(campaign):
    lines = list(csv.reader(io.StringIO(national.national_report_csv(campaign).decode("utf-8-sig")), delimiter=";"))
    header = lines[0]
    g004 = dict(zip(header, lines[4], strict=True))
    assert g004["code"] == "G004"
    assert g004["E, borne basse de l'intervalle"] == "-224,10905812906725"
    assert g004["E, borne haute de l'intervalle"] == "203,39482438194176"
    assert g004["Ev, borne basse de l'intervalle"] == "-263,2647488667189"
    assert g004["Ev, borne haute de l'intervalle"] == "313,9103429922811"
    assert g004["gain non distinguable du hasard"] == "1"
    assert g004["montant efficience sans écrêtement"] == "41058,42402832918"
    assert dict(zip(header, lines[3], strict=True))["gain non distinguable du hasard"] == "0"  # G003
    total = dict(zip(header, lines[13], strict=True))
    assert total["gain non distinguable du hasard"] == "1"  # one flagged groupement
    assert total["montant efficience sans écrêtement"] == "2384074,4213554687"

    sheet = load_workbook(io.BytesIO(national.national_report_xlsx(campaign)))["Groupements"]
    header = [c.value for c in sheet[1]]
    g004 = dict(zip(header, [c.value for c in sheet[5]], strict=True))
    assert g004["gain non distinguable du hasard"] is True
    assert g004["E, borne basse de l'intervalle"] == pytest.approx(-224.10905812906725, rel=1e-15)
    assert g004["montant efficience sans écrêtement"] == pytest.approx(41058.42402832918, rel=1e-15)


def test_pdf_and_admin_page_show_intervals_flag_and_forest_plot(client, campaign, make_user):
    text = re.sub(r"\s+", " ", pdf_text(national.national_report_pdf(campaign)))
    assert "[-224,11 ; 203,39]" in text and "[-263,26 ; 313,91]" in text  # G004's E and Ev intervals
    assert "⚑ hasard" in text and "1 au gain non distinguable du hasard" in text
    assert "s.é. 41 058,42 €" in text and "s.é. 2 384 074,42 €" in text
    assert "intervalle de confiance à 95 %" in text and "versé quand même" in text

    client.force_login(make_user(role=roles.READER))
    html = client.get(reverse("reports:national_report", args=[campaign.pk])).content.decode()
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert 'alt="Écart de niveau E de chaque groupement et son intervalle de confiance' in html
    assert "⚑ hasard" in html and html.count('class="flag noise"') == 1


def test_the_portal_gives_a_groupement_its_own_intervals_and_flag(client, media_root):
    campaign = golden_campaign(status="published", codes=["G003", "G004"])
    client.force_login(portal_user("G004"))
    html = plain(client.get(reverse("portal:campaign", args=[campaign.pk])).content.decode())
    assert "intervalle de confiance à 95 % : de -224,11 € à 203,39 €" in html
    assert "intervalle de confiance à 95 % : de -263,26 € à 313,91 €" in html
    assert "41 058,42 €" in html
    assert "ne se distingue pas du hasard au niveau de confiance de 95 %" in html and "versé quand même" in html

    client.force_login(portal_user("G003"))
    html = plain(client.get(reverse("portal:campaign", args=[campaign.pk])).content.decode())
    assert "de 267,52 € à 478,56 €" in html and "525 817,86 €" in html
    assert 'id="noise-flag"' not in html
    assert "-224,11" not in html  # never another groupement's figures
