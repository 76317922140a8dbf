"""The public results file (METHODOLOGY section 9): the campaign in force of each year only, figures rounded
as the section says, secrecy below 11 patients, CSV valid against its Frictionless schema, XLSX with one
sheet per year and one defining the columns, rebuilt when a version is published or superseded, served
without login. Figures of expected_2022.v3.json."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from calculations.models import Campaign
from calculations.services import campaigns as campaign_services
from groupements.roles import VALIDATOR
from reports import public_data, services
from tests.reports.factories import golden_campaign
from tests.typography import plain

pytestmark = pytest.mark.django_db
Status = Campaign.Status


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def exported(tmp_path) -> dict[str, bytes]:
    call_command("export_public_file", outdir=tmp_path / "public")
    return {path.name: path.read_bytes() for path in (tmp_path / "public").iterdir()}


def test_only_the_version_in_force_of_each_year_is_in_the_file(tmp_path):
    golden_campaign(year=2022, version=1, status="superseded", codes=["G001", "G002"], datasets=False)
    golden_campaign(year=2022, version=2, status="published", codes=["G001"], datasets=False)
    golden_campaign(year=2021, version=1, status="paid", codes=["G003"], datasets=False)
    golden_campaign(year=2020, version=1, status="validated", codes=["G004"], datasets=False)  # not published
    golden_campaign(year=2019, version=1, status="computed", codes=["G005"], datasets=False)
    golden_campaign(year=2018, version=1, status="draft", codes=["G006"], datasets=False)  # rejected: back to draft
    golden_campaign(year=2017, version=1, status="failed", codes=["G007"], datasets=False)

    files = exported(tmp_path)
    assert sorted(files) == ["ipep_resultats.csv", "ipep_resultats.xlsx", "schema.json"]
    rows = read_csv(files["ipep_resultats.csv"])
    assert [(r["annee"], r["version"], r["code_groupement"]) for r in rows] == [
        ("2021", "1", "G003"),
        ("2022", "2", "G001"),
    ]
    assert list(rows[0]) == public_data.NAMES
    assert (
        public_data.NAMES[:3] == ["annee", "version", "code_groupement"]
        and public_data.NAMES[-1] == "sous_seuil_patients"
    )


def test_figures_are_rounded_half_up_and_booleans_are_true_false(tmp_path):
    golden_campaign(status="published", codes=["G001", "G004"], datasets=False)
    g001, g004 = read_csv(exported(tmp_path)["ipep_resultats.csv"])
    assert g001 == {
        "annee": "2022",
        "version": g001["version"],
        "code_groupement": "G001",
        "nom": "MSP de Saint-Amand",
        "vague": "V1",
        "phase": "3",
        "n_patients": "2442",
        "depense_reelle_par_patient": "2133.02",  # 2 133,0171… half-up to the cent
        "depense_attendue_par_patient": "1893.30",
        "ecart_niveau": "-239.72",  # -239,7165…
        "ecart_niveau_bas": "-367.07",  # -239,7165 − 1,959964 × 64,98
        "ecart_niveau_haut": "-112.37",
        "ecart_evolution": "-284.01",
        "ecart_evolution_bas": "-452.22",
        "ecart_evolution_haut": "-115.80",
        "gain_non_significatif": "false",
        "montant_efficience": "0.00",
        "montant_efficience_sans_ecretement": "0.00",
        "score_qualite": "38.90",  # 38,8956…
        "montant_qualite": "4192.77",
        "montant_verse": "3553.13",
        "sous_seuil_patients": "false",
    }
    assert g004["gain_non_significatif"] == "true"
    assert (g004["montant_efficience"], g004["montant_efficience_sans_ecretement"]) == ("6389.79", "41058.42")


def test_a_row_below_11_patients_keeps_its_identity_and_blanks_every_figure(tmp_path):
    campaign = golden_campaign(status="computed", codes=["G001", "G002"], datasets=False)
    campaign.results.filter(code="G001").update(n_patients=10)
    campaign.results.filter(code="G002").update(n_patients=11)
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.PUBLISHED)
    g001, g002 = read_csv(exported(tmp_path)["ipep_resultats.csv"])
    identity = ["annee", "version", "code_groupement", "nom", "vague", "phase"]
    assert all(g001[name] for name in identity) and g001["nom"] == "MSP de Saint-Amand"
    assert [name for name, value in g001.items() if value] == identity
    assert g002["n_patients"] == "11" and g002["montant_verse"] == "4432.52"  # 11: shown


def test_the_csv_validates_against_its_frictionless_schema_and_the_xlsx_has_a_sheet_per_year(tmp_path):
    from frictionless import Resource, Schema

    golden_campaign(year=2022, status="published", datasets=False)
    golden_campaign(
        year=2021,
        status="published",
        codes=["G001", "G002"],
        datasets=False,
        changes={"G002": {"n_patients": 3, "efficiency_noise": None}},  # blanks are valid too
    )
    files = exported(tmp_path)
    schema = json.loads(files["schema.json"])
    assert [field["name"] for field in schema["fields"]] == public_data.NAMES
    report = Resource(
        path="ipep_resultats.csv", basepath=str(tmp_path / "public"), schema=Schema.from_descriptor(schema)
    ).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.task.stats["rows"] == 14

    broken = tmp_path / "broken.csv"
    broken.write_bytes(files["ipep_resultats.csv"].replace(b",false,", b",peut-etre,", 1))
    invalid = Resource(path=broken.name, basepath=str(tmp_path), schema=Schema.from_descriptor(schema)).validate()
    assert not invalid.valid and invalid.flatten(["type"]) == [["type-error"]]

    workbook = load_workbook(io.BytesIO(files["ipep_resultats.xlsx"]))
    assert workbook.sheetnames == ["2021", "2022", "Colonnes"]
    assert workbook["2022"].max_row == 13 and workbook["2021"].max_row == 3
    g001 = dict(zip(public_data.NAMES, [c.value for c in workbook["2022"][2]], strict=True))
    assert g001["montant_verse"] == pytest.approx(3553.13) and g001["gain_non_significatif"] == "false"
    defined = [row[0].value for row in workbook["Colonnes"].iter_rows(min_row=2) if row[0].value in public_data.NAMES]
    assert defined == public_data.NAMES


@pytest.fixture
def no_mail(monkeypatch):
    monkeypatch.setattr(services, "notify_statement_publication", lambda *, campaign: None)


def stored_rows(media_root) -> list[tuple[str, str, str]]:
    content = (media_root / "donnees-publiques" / "ipep_resultats.csv").read_bytes()
    return [(r["annee"], r["version"], r["code_groupement"]) for r in read_csv(content)]


def test_publishing_and_superseding_rebuild_the_file_and_the_page_serves_it_without_login(
    client, make_user, media_root, no_mail, django_capture_on_commit_callbacks
):
    page = client.get(reverse("public:data"))
    assert page.status_code == 200 and "Aucune campagne n'est encore publiée" in plain(page.content.decode())
    assert client.get(reverse("public:csv")).status_code == 404

    validator = make_user(role=VALIDATOR)
    first = golden_campaign(status="validated", codes=["G001", "G004"], datasets=False, version=1)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.publish_campaign(campaign=first, user=validator)
    assert stored_rows(media_root) == [("2022", "1", "G001"), ("2022", "1", "G004")]

    second = golden_campaign(status="validated", codes=["G001"], datasets=False, version=2, supersedes=first)
    golden_campaign(year=2023, status="computed", codes=["G002"], datasets=False)  # never in the file
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.publish_campaign(campaign=second, user=validator, reason="Nombre de patients corrigé.")
    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED
    assert stored_rows(media_root) == [("2022", "2", "G001")]

    client.logout()
    html = client.get(reverse("public:data")).content.decode()
    for name in ("public:csv", "public:xlsx", "public:schema"):
        assert f'href="{reverse(name)}"' in html
    assert "2022 (version 2)" in html and "<code>gain_non_significatif</code>" in html
    assert "moins de 11 patients" in html
    download = client.get(reverse("public:csv"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert (
        b"".join(download.streaming_content) == (media_root / "donnees-publiques" / "ipep_resultats.csv").read_bytes()
    )
    manifest = services.public_manifest()
    assert manifest["campaigns"] == [
        {"year": 2022, "version": 2, "published_at": manifest["campaigns"][0]["published_at"]}
    ]


def test_on_object_storage_the_files_are_overwritten_in_the_bucket_and_served(client, s3_storage, settings):
    first = golden_campaign(status="published", codes=["G001", "G004"], datasets=False)
    services.refresh_public_file()
    Campaign.objects.filter(pk=first.pk).update(status=Status.SUPERSEDED)
    golden_campaign(status="published", codes=["G002"], datasets=False)
    services.refresh_public_file()  # the same names, new bytes

    keys = {item["Key"] for item in s3_storage.client.list_objects_v2(Bucket=s3_storage.name)["Contents"]}
    assert keys == {
        f"donnees-publiques/{name}"
        for name in ("ipep_resultats.csv", "ipep_resultats.xlsx", "schema.json", "manifeste.json")
    }
    download = client.get(reverse("public:csv"))
    rows = read_csv(b"".join(download.streaming_content))
    assert [r["code_groupement"] for r in rows] == ["G002"]
    assert not settings.MEDIA_ROOT.exists()  # nothing written to the local disk


def test_the_public_page_is_set_in_french_typography(client, media_root):
    from tests.typography import APOSTROPHE, typography_faults, visible_text

    empty = client.get(reverse("public:data")).content.decode()
    golden_campaign(status="published", codes=["G001", "G004"], datasets=False)
    services.refresh_public_file()
    html = client.get(reverse("public:data")).content.decode()
    assert typography_faults(visible_text(empty)) == typography_faults(visible_text(html)) == []
    assert f"Résultats de l{APOSTROPHE}expérimentation IPEP" in html and "<code>gain_non_significatif</code>" in html
