"""Dataset services: synchronous ingestion, upload + Celery validation (eager here), deduplication,
immutability, deletion, and the selectors other issues use."""

from __future__ import annotations

import csv
import hashlib
from decimal import Decimal

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError

from calculations.bundle import beneficiaries
from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA
from calculations.models import Campaign, CampaignDataset, Dataset
from calculations.models.datasets import DatasetFrozen
from calculations.selectors.datasets import (
    dataset_problem_lines,
    dataset_problem_rows,
    valid_dataset_for_year,
)
from calculations.services import datasets as services
from groupements import roles

HEADER = "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses"
pytestmark = pytest.mark.django_db


def golden_totals(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    return len(rows), sum(int(Decimal(r["depenses"].replace(",", ".")) * 100) for r in rows)


def test_ingest_golden_file(golden_dir, media_root):
    source = golden_dir / "beneficiaires_2022.csv"
    seen = []
    dataset = services.ingest_dataset(path=source, year=2022, progress=lambda fraction, step: seen.append(fraction))
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    rows, cents = golden_totals(source)
    assert dataset.status == Dataset.Status.VALID
    assert (dataset.sha256, dataset.size, dataset.row_count, dataset.original_name) == (
        sha,
        source.stat().st_size,
        rows,
        source.name,
    )
    parquet = media_root / dataset.parquet_file.name
    assert dataset.parquet_file.name == f"datasets/beneficiaires/2022/{sha}_{dataset.parquet_sha256[:16]}.parquet"
    assert hashlib.sha256(parquet.read_bytes()).hexdigest() == dataset.parquet_sha256
    frame = pl.read_parquet(parquet)
    assert dict(frame.schema) == BENEFICIARY_SCHEMA
    assert frame["depenses_cents"].sum() == cents == dataset.profile["depenses_total_cents"]
    assert dataset.profile["rows"] == rows == 25_000
    assert sum(band["count"] for band in dataset.profile["age_bands"]) == rows
    assert dataset.validated_at is not None and dataset.progress == 1.0
    assert seen == sorted(seen) and seen[-1] == 1.0
    # What the campaigns use.
    assert valid_dataset_for_year(year=2022) == dataset
    assert valid_dataset_for_year(year=2019) is None


def test_same_bytes_return_the_existing_dataset(golden_dir, media_root):
    source = golden_dir / "beneficiaires_2019.csv"
    first = services.ingest_dataset(path=source, year=2019)
    again = services.ingest_dataset(path=source, year=2019, original_name="copie.csv")
    assert again.pk == first.pk and Dataset.objects.count() == 1
    with pytest.raises(services.DatasetError, match="déjà été déposé pour l'année 2019"):
        services.ingest_dataset(path=source, year=2020)


def test_rejected_file_keeps_only_the_report(tmp_path, media_root):
    source = tmp_path / "beneficiaires_2021.csv"
    source.write_text(f"{HEADER}\nP1;33;1;0;0;0;;10\nP2;130;1;0;0;0;;10\nP1;30;3;0;0;0;;-1\n", encoding="utf-8")
    dataset = services.ingest_dataset(path=source, year=2021)
    assert dataset.status == Dataset.Status.REJECTED
    assert dataset_problem_lines(dataset) == [
        "beneficiaires_2021.csv:3: age: doit être compris entre 0 et 125, reçu «\u202f130\u202f»",
        "beneficiaires_2021.csv:4: sexe: doit être compris entre 1 et 2, reçu «\u202f3\u202f»",
        "beneficiaires_2021.csv:4: depenses: ne doit pas être négatif, reçu «\u202f-1\u202f»",
        "beneficiaires_2021.csv:4: id_patient: id_patient «\u202fP1\u202f» en double (déjà ligne 2)",
    ]
    assert dataset.problem_count == 4
    assert dataset.problem_counts == {"range": 2, "negative": 1, "duplicate": 1}
    assert dataset_problem_rows(dataset)[1] == [
        "beneficiaires_2021.csv",
        3,
        "age",
        "doit être compris entre 0 et 125, reçu «\u202f130\u202f»",
        "range",
        "hors bornes",
    ]
    assert (dataset.parquet_file.name, dataset.parquet_sha256, dataset.row_count, dataset.profile) == ("", "", None, {})
    assert not any(p.is_file() for p in (media_root / "datasets").rglob("*")), "nothing stored for a rejected file"
    assert valid_dataset_for_year(year=2021) is None


def test_problems_beyond_the_first_hundred_are_counted_per_rule(tmp_path, media_root):
    source = tmp_path / "beneficiaires_2021.csv"
    rows = [f"P{i};200;1;0;0;0;;1" for i in range(130)] + [f"Q{i};33;1;0;0;0;;1,234" for i in range(20)]
    source.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    dataset = services.ingest_dataset(path=source, year=2021)
    assert len(dataset.problems) == 100 and dataset.problem_count == 150
    assert dataset_problem_lines(dataset)[-1] == "… and 50 more (hors bornes\u202f: 30, décimales\u202f: 20)"
    assert dataset_problem_rows(dataset)[-2:] == [
        ["beneficiaires_2021.csv", "", "", "… et 30 autre(s) problème(s) de ce type", "range", "hors bornes"],
        ["beneficiaires_2021.csv", "", "", "… et 20 autre(s) problème(s) de ce type", "decimal_places", "décimales"],
    ]


def test_a_crash_is_an_error_and_never_leaves_a_dataset_validating(
    tmp_path, media_root, monkeypatch, make_user, django_capture_on_commit_callbacks
):
    source = tmp_path / "beneficiaires_2021.csv"
    source.write_text(f"{HEADER}\nP1;33;1;0;0;0;;10\n", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(beneficiaries, "validate_beneficiaries", crash)  # the service imports it when it runs
    with pytest.raises(
        services.DatasetError, match="Erreur interne pendant la validation de beneficiaires_2021.csv : disque plein"
    ):
        services.ingest_dataset(path=source, year=2021)
    assert not Dataset.objects.exists()
    upload = SimpleUploadedFile("beneficiaires_2021.csv", source.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        dataset = services.start_dataset_upload(
            uploaded_file=upload, year=2021, user=make_user(role=roles.DATA_MANAGER)
        )
    dataset.refresh_from_db()
    # Not the file's fault: « échec », the upload kept for a relaunch.
    assert dataset.status == Dataset.Status.FAILED and dataset.is_relaunchable
    assert dataset_problem_lines(dataset) == [
        "beneficiaires_2021.csv: -: Erreur interne pendant la validation de beneficiaires_2021.csv : disque plein"
    ]
    assert (media_root / dataset.upload_file.name).is_file()


def test_a_valid_dataset_is_frozen_and_a_used_one_is_never_deleted(golden_dir, media_root, make_user):
    dataset = services.ingest_dataset(path=golden_dir / "beneficiaires_2022.csv", year=2022)
    dataset.original_name = "autre.csv"
    with pytest.raises(DatasetFrozen):
        dataset.save()
    campaign = Campaign.objects.create(year=2022)
    CampaignDataset.objects.create(campaign=campaign, dataset=dataset, year=2022, sha256=dataset.sha256)
    superuser = make_user(is_superuser=True, is_staff=True)
    with pytest.raises(services.DatasetError, match="utilisé par une campagne"):
        services.delete_dataset(dataset=dataset, user=superuser)
    with pytest.raises(DatasetFrozen):
        dataset.delete()
    with pytest.raises(ProtectedError):
        Dataset.objects.filter(pk=dataset.pk).delete()
    assert (media_root / dataset.parquet_file.name).is_file()


def test_deleting_an_unused_dataset_removes_its_file(
    golden_dir, media_root, make_user, django_capture_on_commit_callbacks
):
    dataset = services.ingest_dataset(path=golden_dir / "beneficiaires_2018.csv", year=2018)
    parquet = media_root / dataset.parquet_file.name
    with pytest.raises(services.DatasetPermissionDenied):
        services.delete_dataset(dataset=dataset, user=make_user(role=roles.READER))
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_dataset(dataset=dataset, user=make_user(is_superuser=True, is_staff=True))
    assert not Dataset.objects.exists() and not parquet.exists()


def test_upload_is_stored_then_validated_by_the_task(
    golden_dir, media_root, make_user, django_capture_on_commit_callbacks
):
    manager = make_user(role=roles.DATA_MANAGER)
    content = (golden_dir / "beneficiaires_2022.csv").read_bytes()
    upload = SimpleUploadedFile("beneficiaires_2022.csv", content, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dataset = services.start_dataset_upload(uploaded_file=upload, year=2022, user=manager)
        assert dataset.status == Dataset.Status.UPLOADED
        assert (media_root / dataset.upload_file.name).read_bytes() == content
    assert len(callbacks) == 1  # the validation is queued once the row is committed
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID and dataset.row_count == 25_000
    assert dataset.sha256 == hashlib.sha256(content).hexdigest() and dataset.uploaded_by == manager
    assert dataset.upload_file.name == "" and not any((media_root / "uploads").iterdir()), "raw bytes are not kept"
    # A redelivered task message does nothing.
    assert services.validate_uploaded_dataset(dataset_id=dataset.pk).status == Dataset.Status.VALID
    # The same bytes again: the existing dataset, no new upload kept.
    again = services.start_dataset_upload(uploaded_file=SimpleUploadedFile("x.csv", content), year=2022, user=manager)
    assert again.pk == dataset.pk and not any((media_root / "uploads").iterdir())


def test_upload_needs_the_permission(make_user, media_root):
    upload = SimpleUploadedFile("b.csv", b"id_patient\n")
    for role in (roles.READER, roles.CALCULATOR, roles.VALIDATOR):
        with pytest.raises(services.DatasetPermissionDenied):
            services.start_dataset_upload(uploaded_file=upload, year=2022, user=make_user(role=role))
    with pytest.raises(services.DatasetError, match="Année invalide"):
        services.start_dataset_upload(uploaded_file=upload, year=1815, user=make_user(role=roles.DATA_MANAGER))
    assert not Dataset.objects.exists()


class ChunkOnlyUpload(SimpleUploadedFile):
    """An upload that refuses to be read whole: every read must name a size of at most one chunk."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sizes = []

    def read(self, size=-1):
        assert size is not None and 0 < size <= services.COPY_CHUNK_SIZE, f"read({size}) would load the whole file"
        self.sizes.append(size)
        return self.file.read(size)


def test_upload_is_copied_chunk_by_chunk(make_user, media_root):
    content = (HEADER + "\n").encode() + b"P1;33;1;0;0;0;;10\n" * 600_000  # 10.8 MB: three chunks
    upload = ChunkOnlyUpload("beneficiaires_2020.csv", content)
    dataset = services.start_dataset_upload(uploaded_file=upload, year=2020, user=make_user(role=roles.DATA_MANAGER))
    assert len(upload.sizes) >= 3
    assert (media_root / dataset.upload_file.name).read_bytes() == content
    assert dataset.sha256 == hashlib.sha256(content).hexdigest() and dataset.size == len(content)


def test_relaunch_a_queued_upload(golden_dir, media_root, make_user, django_capture_on_commit_callbacks):
    manager = make_user(role=roles.DATA_MANAGER)
    upload = SimpleUploadedFile("beneficiaires_2018.csv", (golden_dir / "beneficiaires_2018.csv").read_bytes())
    dataset = services.start_dataset_upload(
        uploaded_file=upload, year=2018, user=manager
    )  # callbacks not run: stays queued
    with django_capture_on_commit_callbacks(execute=True):
        services.relaunch_dataset_validation(dataset=dataset, user=manager)
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID
    with pytest.raises(services.DatasetError, match="Seul un dépôt en attente"):
        services.relaunch_dataset_validation(dataset=dataset, user=manager)


def test_latest_valid_dataset_of_a_year_is_used(media_root):
    older = Dataset.objects.create(year=2022, original_name="a.csv", sha256="a" * 64, status="valid")
    newer = Dataset.objects.create(year=2022, original_name="b.csv", sha256="b" * 64, status="valid")
    Dataset.objects.create(year=2022, original_name="c.csv", sha256="c" * 64, status="rejected")
    Dataset.objects.filter(pk=older.pk).update(validated_at="2024-01-01T00:00:00Z")
    Dataset.objects.filter(pk=newer.pk).update(validated_at="2025-01-01T00:00:00Z")
    assert valid_dataset_for_year(year=2022) == newer


def test_known_bytes_found_after_the_validation_return_the_existing_dataset(golden_dir, media_root):
    """Hashing runs beside the validation unless a dataset of the same size exists: then the duplicate
    is found at the end, and the Parquet just written (which nobody uses) is removed."""
    source = golden_dir / "beneficiaires_2018.csv"
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    known = Dataset.objects.create(year=2018, original_name="ancien.csv", sha256=sha, size=1, status="rejected")
    assert services.ingest_dataset(path=source, year=2018) == known
    assert not any(p.is_file() for p in (media_root / "datasets").rglob("*"))


def test_a_dataset_being_validated_cannot_be_deleted_under_the_worker(
    golden_dir, media_root, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    # Deleted while the task validates, the row used to come back (valid, with its Parquet) when the task saved its outcome.
    superuser = make_user(is_superuser=True, is_staff=True)
    content = (golden_dir / "beneficiaires_2018.csv").read_bytes()
    upload = SimpleUploadedFile("beneficiaires_2018.csv", content, content_type="text/csv")
    real_validate = services._validate
    refusals = []

    def validate_while_someone_deletes(source, **kwargs):
        being_validated = Dataset.objects.get()
        assert being_validated.status == Dataset.Status.VALIDATING
        with pytest.raises(services.DatasetError, match="en cours de validation") as refused:
            services.delete_dataset(dataset=being_validated, user=superuser)
        refusals.append(refused.value)
        return real_validate(source, **kwargs)

    monkeypatch.setattr(services, "_validate", validate_while_someone_deletes)
    with django_capture_on_commit_callbacks(execute=True):
        dataset = services.start_dataset_upload(
            uploaded_file=upload, year=2018, user=make_user(role=roles.DATA_MANAGER)
        )
    assert len(refusals) == 1
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID and (media_root / dataset.parquet_file.name).is_file()


def test_a_validation_whose_worker_died_long_ago_can_be_deleted(media_root, make_user, settings):
    from datetime import timedelta

    from django.utils import timezone

    started = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    dataset = Dataset.objects.create(
        year=2022,
        original_name="b.csv",
        sha256="b" * 64,
        status=Dataset.Status.VALIDATING,
        validation_started_at=started,
    )
    services.delete_dataset(dataset=dataset, user=make_user(is_superuser=True, is_staff=True))
    assert not Dataset.objects.exists()
