"""Dataset admin: upload by data managers only, streamed reads, read-only page with profile or
problems, status endpoint polled while validating, problems CSV, deletion guard."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.urls import reverse

from calculations.models import Campaign, CampaignDataset, Dataset
from calculations.services import datasets as services
from groupements import roles
from tests.typography import plain

pytestmark = pytest.mark.django_db


NBSP = "\u00a0"
HEADER = "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses"
ADD_URL = reverse("admin:calculations_dataset_add")


def logged_in(client, user):
    client.force_login(user)
    return client


def upload(client, path, year, capture):
    with open(path, "rb") as handle, capture(execute=True):
        return client.post(ADD_URL, {"year": year, "file": handle})


def test_data_manager_uploads_and_sees_the_profile(
    client, make_user, golden_dir, media_root, django_capture_on_commit_callbacks
):
    logged_in(client, make_user(role=roles.DATA_MANAGER))
    assert client.get(ADD_URL).status_code == 200
    response = upload(client, golden_dir / "beneficiaires_2022.csv", 2022, django_capture_on_commit_callbacks)
    dataset = Dataset.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:calculations_dataset_change", args=[dataset.pk]
    )
    assert dataset.status == Dataset.Status.VALID
    page = client.get(response["Location"]).content.decode()
    assert 'Statut : <span id="dataset-status-label">Valide</span>' in plain(page)
    assert f"25{NBSP}000" in page
    assert f"53{NBSP}431{NBSP}939,87{NBSP}€" in page  # sum of the golden 2022 depenses
    assert 'id="dataset-problems"' not in page
    # Django's filesizeformat in French: 1 043 112 bytes / 1024 = 1018.66 Kio.
    assert dataset.size == 1_043_112
    assert (
        f'<td class="field-size_display">1018,7{NBSP}Kio</td>'
        in client.get(reverse("admin:calculations_dataset_changelist")).content.decode()
    )
    # The same bytes again: back to the existing dataset.
    response = upload(client, golden_dir / "beneficiaires_2022.csv", 2022, django_capture_on_commit_callbacks)
    assert response["Location"].endswith(f"/{dataset.pk}/change/") and Dataset.objects.count() == 1


@pytest.mark.parametrize("role", [roles.READER, roles.CALCULATOR, roles.VALIDATOR])
def test_other_roles_cannot_upload(client, make_user, role, golden_dir, media_root):
    logged_in(client, make_user(role=role))
    assert client.get(ADD_URL).status_code == 403
    with open(golden_dir / "beneficiaires_2022.csv", "rb") as handle:
        assert client.post(ADD_URL, {"year": 2022, "file": handle}).status_code == 403
    assert not Dataset.objects.exists()


def test_the_upload_view_never_reads_the_file_whole(client, make_user, tmp_path, media_root, monkeypatch):
    """The request body goes to a temporary file (settings); the service then reads sized chunks only."""
    sizes = []
    original = TemporaryUploadedFile.read

    def sized_read(self, *args, **kwargs):
        size = args[0] if args else kwargs.get("size", kwargs.get("n", -1))
        assert size is not None and 0 < size <= services.COPY_CHUNK_SIZE, f"read({size}) would load the whole upload"
        sizes.append(size)
        return self.file.read(size)

    monkeypatch.setattr(TemporaryUploadedFile, "read", sized_read, raising=False)
    path = tmp_path / "beneficiaires_2020.csv"
    path.write_bytes((HEADER + "\n").encode() + b"P1;33;1;0;0;0;;10\n" * 500_000)  # 9 MB
    logged_in(client, make_user(role=roles.DATA_MANAGER))
    with open(path, "rb") as handle:
        response = client.post(ADD_URL, {"year": 2020, "file": handle})
    assert response.status_code == 302
    assert len(sizes) >= 3 and original is not None
    assert Dataset.objects.get().size == path.stat().st_size


def test_status_endpoint_while_validating_and_access(client, make_user, media_root):
    dataset = Dataset.objects.create(
        year=2022,
        original_name="b.csv",
        sha256="a" * 64,
        status="validating",
        progress=0.42,
        progress_step="validation des lignes",
    )
    url = reverse("admin:calculations_dataset_status", args=[dataset.pk])
    logged_in(client, make_user(role=roles.READER))
    assert client.get(url).json() == {
        "id": dataset.pk,
        "status": "validating",
        "status_label": "En validation",
        "progress": 0.42,
        "percent": 42,
        "step": "validation des lignes",
        "final": False,
        "row_count": None,
        "problem_count": 0,
    }
    page = client.get(reverse("admin:calculations_dataset_change", args=[dataset.pk])).content.decode()
    assert 'id="dataset-progress" value="42"' in page and url in page
    client.logout()
    logged_in(client, make_user(role=roles.GROUPEMENT_USER))
    assert client.get(url).status_code == 302  # not staff: to the login page


def test_rejected_dataset_shows_and_downloads_its_problems(client, make_user, tmp_path, media_root):
    source = tmp_path / "beneficiaires_2021.csv"
    source.write_text(f"{HEADER}\nP1;33;1;0;0;0;;10\nP2;33;1;0;0;0;123;10,001\n", encoding="utf-8")
    dataset = services.ingest_dataset(path=source, year=2021)
    logged_in(client, make_user(role=roles.READER))
    page = client.get(reverse("admin:calculations_dataset_change", args=[dataset.pk])).content.decode()
    assert "beneficiaires_2021.csv:3: rpps_mt: le RPPS doit comporter 11 chiffres, reçu «\u202f123\u202f»" in page
    assert "<td>décimales</td>" in page and "<td>decimal_places</td>" not in page  # the rules in French
    response = client.get(reverse("admin:calculations_dataset_problems", args=[dataset.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").splitlines() == [
        "fichier;ligne;colonne;motif;regle;libelle_regle",
        "beneficiaires_2021.csv;3;rpps_mt;le RPPS doit comporter 11 chiffres, reçu «\u202f123\u202f»;rpps;RPPS",
        "beneficiaires_2021.csv;3;depenses;au plus 2 décimales (un montant en euros et centimes), reçu «\u202f10,001\u202f»;decimal_places;décimales",
    ]


def test_the_problems_csv_writes_a_hostile_file_name_as_text(client, make_user, tmp_path, media_root):
    """Issue 16: `problemes.csv` wrote the uploaded file's name raw (a live formula in a spreadsheet)."""
    name = '=HYPERLINK("https:,,example.org","x")+beneficiaires.csv'
    source = tmp_path / name
    source.write_text(f"{HEADER}\nP1;33;1;0;0;0;123;10\n", encoding="utf-8")
    dataset = services.ingest_dataset(path=source, year=2021)
    logged_in(client, make_user(role=roles.READER))
    response = client.get(reverse("admin:calculations_dataset_problems", args=[dataset.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][:3] == ["'" + name, "2", "rpps_mt"]


def test_nobody_edits_a_dataset_and_a_used_one_cannot_be_deleted(client, make_user, golden_dir, media_root):
    dataset = services.ingest_dataset(path=golden_dir / "beneficiaires_2018.csv", year=2018)
    campaign = Campaign.objects.create(year=2022)
    CampaignDataset.objects.create(campaign=campaign, dataset=dataset, year=2018, sha256=dataset.sha256)
    logged_in(client, make_user(is_superuser=True, is_staff=True))
    change_url = reverse("admin:calculations_dataset_change", args=[dataset.pk])
    assert client.post(change_url, {"original_name": "autre.csv"}).status_code == 403
    assert (
        client.post(reverse("admin:calculations_dataset_delete", args=[dataset.pk]), {"post": "yes"}).status_code == 403
    )
    dataset.refresh_from_db()
    assert dataset.original_name == "beneficiaires_2018.csv"
    response = client.post(
        reverse("admin:calculations_dataset_changelist"),
        {"action": "delete_selected", "_selected_action": [dataset.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403) and Dataset.objects.filter(pk=dataset.pk).exists()


def test_a_bulk_deletion_refused_for_one_dataset_deletes_none(
    client, make_user, media_root, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    idle = Dataset.objects.create(year=2023, original_name="a.csv", sha256="a" * 64, status=Dataset.Status.REJECTED)
    busy = Dataset.objects.create(
        year=2022,
        original_name="b.csv",
        sha256="b" * 64,
        status=Dataset.Status.VALIDATING,
        validation_started_at=timezone.now(),
    )
    logged_in(client, make_user(is_superuser=True, is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:calculations_dataset_changelist"),
            {"action": "delete_selected", "_selected_action": [idle.pk, busy.pk], "post": "yes"},
        )
    assert response.status_code == 403
    assert set(Dataset.objects.values_list("pk", flat=True)) == {idle.pk, busy.pk}


def test_the_upload_form_defaults_to_the_latest_campaign_year_and_its_help_reads_as_french(
    client, make_user, loaded_reference
):
    import html

    logged_in(client, make_user(role=roles.DATA_MANAGER))
    page = html.unescape(client.get(ADD_URL).content.decode())
    # The golden calendar goes to 2023, its indicator results to 2022: campaign 2022 is the latest possible.
    assert 'name="year" value="2022"' in page
    assert "séparé par des points-virgules ou des virgules, encodé en UTF-8" in page
    assert "`" not in page
    reference_page = html.unescape(client.get(reverse("reference_import", args=["wave"])).content.decode())
    assert "`" not in reference_page


def test_a_failed_validation_shows_its_reason_and_the_data_manager_relaunches_or_deletes_it(
    client, make_user, golden_dir, media_root, django_capture_on_commit_callbacks
):
    from django.contrib.admin.models import DELETION, LogEntry
    from django.core.files.uploadedfile import SimpleUploadedFile

    manager = make_user(role=roles.DATA_MANAGER)
    content = (golden_dir / "beneficiaires_2018.csv").read_bytes()
    dataset = services.start_dataset_upload(  # queued, not run: then its validation breaks
        uploaded_file=SimpleUploadedFile("beneficiaires_2018.csv", content), year=2018, user=manager
    )
    Dataset.objects.filter(pk=dataset.pk).update(status=Dataset.Status.VALIDATING, task_id="t1")
    services._fail_validation(dataset.pk, "t1", "erreur interne pendant la validation : connexion perdue")
    logged_in(client, manager)
    change_url = reverse("admin:calculations_dataset_change", args=[dataset.pk])

    html = client.get(change_url).content.decode()
    assert 'Statut : <span id="dataset-status-label">Échec</span>' in plain(html)
    assert "le fichier déposé est conservé" in html and "connexion perdue" in html
    assert "Relancer la validation" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:calculations_dataset_relaunch", args=[dataset.pk]))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID and dataset.row_count == 25_000

    failed = Dataset.objects.create(year=2023, original_name="c.csv", sha256="c" * 64, status=Dataset.Status.FAILED)
    assert (
        client.post(reverse("admin:calculations_dataset_delete", args=[failed.pk]), {"post": "yes"}).status_code == 302
    )
    assert not Dataset.objects.filter(pk=failed.pk).exists()
    assert LogEntry.objects.get(object_id=str(failed.pk), action_flag=DELETION).user == manager
    reader = make_user(role=roles.READER)
    rejected = Dataset.objects.create(year=2023, original_name="d.csv", sha256="d" * 64, status=Dataset.Status.REJECTED)
    logged_in(client, reader)
    assert (
        client.post(reverse("admin:calculations_dataset_delete", args=[rejected.pk]), {"post": "yes"}).status_code
        == 403
    )
