"""National report of a campaign: one line per groupement, totals, ceiling and coefficient, charts;
figures of expected_2022.json (12 groupements, k = 0.8474…, total 244 528,88 €)."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from groupements import roles
from reports import charts, national
from tests.reports.conftest import pdf_text
from tests.reports.factories import golden, golden_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(db):
    return golden_campaign(status="validated", datasets=False)


def test_totals_and_waves_add_up(campaign):
    rows = national.report_rows(campaign)
    assert [r["code"] for r in rows] == [f"G{i:03d}" for i in range(1, 13)]
    total = national.total_row(rows)
    # Σ of the twelve golden final amounts = floor(100 · C) cents = 244 528,88 (cents allocated to the ceiling).
    assert total["final_amount"] == Decimal("244528.88") == Decimal(golden()["totals"]["final_amount"])
    assert total["n_patients"] == 17755
    assert total["amount_after_cap"] == pytest.approx(288548.89368453965)
    waves = {w["wave"]: w for w in national.wave_rows(rows)}
    # V1 = G001…G007, V2 = G008…G012 (golden final amounts).
    assert waves["V1"]["count"] == 7 and waves["V1"]["final_amount"] == Decimal("3553.13") + Decimal(
        "4432.52"
    ) + Decimal("65789.53") + Decimal("6439.60") + Decimal("34840.85") + Decimal("16685.70") + Decimal("27004.00")
    assert waves["V2"]["final_amount"] == Decimal("3039.36") + Decimal("7524.14") + Decimal("7065.64") + Decimal(
        "63260.79"
    ) + Decimal("4893.62")
    assert waves["V1"]["final_amount"] + waves["V2"]["final_amount"] == Decimal("244528.88")


def test_csv_export(campaign):
    content = national.national_report_csv(campaign)
    assert content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    header = lines[0]
    assert header[:3] == ["code", "nom", "vague"] and header[-1] == "montant final"
    g001 = dict(zip(header, lines[1], strict=True))
    assert g001["code"] == "G001" and g001["nom"] == "MSP de Saint-Amand"
    assert g001["montant final"] == "3553,13"
    # Full precision, decimal comma: the engine's E, as in expected_2022.v3.json (v2 differs in the last digits).
    assert g001["écart des dépenses E"] == "-239,71652407766214"
    assert g001["sous le seuil de patients"] == "0"
    total = dict(zip(header, lines[13], strict=True))
    assert total["code"] == "TOTAL" and total["montant final"] == "244528,88" and total["patients N"] == "17755"
    summary = {line[0]: line[1] for line in lines[15:]}
    assert summary["Plafond national"] == "244528,88122"
    assert summary["Coefficient national"] == "0,8474434890307838"  # k of expected_2022.v3.json


def test_xlsx_export(campaign):
    workbook = load_workbook(io.BytesIO(national.national_report_xlsx(campaign)))
    sheet = workbook["Groupements"]
    header = [c.value for c in sheet[1]]
    assert sheet.max_row == 14  # header, 12 groupements, total
    g001 = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert g001["montant final"] == pytest.approx(3553.13) and g001["patients N"] == 2442
    total = dict(zip(header, [c.value for c in sheet[14]], strict=True))
    assert total["code"] == "TOTAL" and total["montant final"] == pytest.approx(244528.88)
    summary = {row[0].value: row[1].value for row in workbook["Synthèse"].iter_rows() if row[0].value}
    assert summary["Coefficient national"] == pytest.approx(0.8474434890307874)
    assert summary["national_ceiling_rate"] == "0.0065"


def test_pdf_report_shows_lines_totals_ceiling_and_charts(campaign):
    text = re.sub(r"\s+", " ", pdf_text(national.national_report_pdf(campaign)))
    assert "Rapport national IPEP – campagne 2022" in text
    for code, amount in [("G001", "3 553,13 €"), ("G011", "63 260,79 €"), ("G012", "4 893,62 €")]:
        assert code in text and amount in text
    assert "Plafond national 244 528,88 €" in text
    assert "Coefficient national 0,8474" in text  # ratios to 4 places
    assert "Montant final total 244 528,88 €" in text


def test_charts_are_svg_and_deterministic(campaign):
    rows = national.report_rows(campaign)
    svg = charts.amounts_chart(rows)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg == charts.amounts_chart(rows)
    assert "<svg" in charts.quality_efficiency_chart(rows) and "<svg" in charts.waves_chart(national.wave_rows(rows))
    assert charts.svg_data_uri("<svg/>") == "data:image/svg+xml;base64,PHN2Zy8+"


def test_admin_report_page_and_exports(client, campaign, make_user):
    client.force_login(make_user(role=roles.READER))
    page = client.get(reverse("reports:national_report", args=[campaign.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "244\u00a0528,88\u00a0€" in html and "G012" in html and html.count('src="data:image/svg+xml;base64,') == 4
    for name, content_type in [
        ("national_report_csv", "text/csv"),
        ("national_report_xlsx", "spreadsheetml"),
        ("national_report_pdf", "application/pdf"),
    ]:
        response = client.get(reverse(f"reports:{name}", args=[campaign.pk]))
        assert response.status_code == 200 and content_type in response["Content-Type"]


def test_national_report_command(campaign, tmp_path):
    call_command("national_report", year=2022, output=tmp_path / "r.csv")
    assert "244528,88" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


HOSTILE_NAME = '=HYPERLINK("https://example.org/x","Cliquez ici")'


def test_a_hostile_groupement_name_is_text_in_the_csv_and_the_xlsx_and_negative_figures_stay_numbers(campaign):
    from groupements.models import Groupement

    Groupement.objects.filter(code="G001").update(name=HOSTILE_NAME)

    lines = list(csv.reader(io.StringIO(national.national_report_csv(campaign).decode("utf-8-sig")), delimiter=";"))
    g001 = dict(zip(lines[0], lines[1], strict=True))
    assert g001["nom"] == "'" + HOSTILE_NAME
    assert g001["écart des dépenses E"] == "-239,71652407766214"

    sheet = load_workbook(io.BytesIO(national.national_report_xlsx(campaign)))["Groupements"]
    header = [c.value for c in sheet[1]]
    name = sheet.cell(2, header.index("nom") + 1)
    level_gap = sheet.cell(2, header.index("écart des dépenses E") + 1)
    assert (name.data_type, name.value) == ("s", "'" + HOSTILE_NAME)
    assert level_gap.data_type == "n" and level_gap.value == pytest.approx(-239.71652407766214)
