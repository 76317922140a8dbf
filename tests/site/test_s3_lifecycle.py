"""The whole year on object storage: every file of the project in a private bucket of a real S3 API
server (moto's standalone server over HTTP), nothing on the local disk but temporary files, removed.

Upload through the admin, validation, computation (Polars reading the Parquet straight from the bucket),
statements rendered into the bucket, validation and publication, access-checked download, integrity
check of the bucket, deletion. In CI (PostgreSQL + Redis) the tasks run on a real Celery worker; in the
embedded mode they run eagerly.
"""

import hashlib
import io
import time

import polars as pl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from calculations.models import Campaign, Dataset
from calculations.selectors.campaigns import campaign_results_json
from calculations.services import campaigns as campaigns
from calculations.services import datasets as datasets
from groupements import roles
from reports.models import Statement, StatementRendering
from tests.calculations.campaign_factories import exact_cents_differences, expected_golden, golden_parameters
from tests.reports.factories import portal_user

WAIT_SECONDS = 120
GOLDEN_YEARS = (2018, 2019, 2022)
REAL_BROKER = not settings.CELERY_BROKER_URL.startswith("memory")


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still waiting for {what} after {WAIT_SECONDS} s")


@pytest.fixture
def tasks(request):
    """A real worker (threads of this process) when a broker is configured, else eager tasks."""
    if REAL_BROKER:
        request.getfixturevalue("real_worker")
    return REAL_BROKER


@pytest.fixture
def parquet_reads(monkeypatch):
    """Every Parquet source Polars is asked to scan (in whichever thread)."""
    sources = []
    real_scan = pl.scan_parquet

    def scan(source, *args, **kwargs):
        sources.append(str(source))
        return real_scan(source, *args, **kwargs)

    monkeypatch.setattr(pl, "scan_parquet", scan)
    return sources


@pytest.mark.s3
@pytest.mark.slow
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_whole_year_on_object_storage(
    s3_storage, local_temp, tasks, parquet_reads, client, make_user, loaded_reference, golden_dir
):
    bucket = s3_storage
    manager, calculator, validator = (
        make_user(role=r) for r in (roles.DATA_MANAGER, roles.CALCULATOR, roles.VALIDATOR)
    )

    # Upload: the data manager sends the three national files through the admin.
    client.force_login(manager)
    for year in GOLDEN_YEARS:
        with open(golden_dir / f"beneficiaires_{year}.csv", "rb") as handle:
            response = client.post(reverse("admin:calculations_dataset_add"), {"year": year, "file": handle})
        assert response.status_code == 302, response.content.decode()[-2000:]

    # Validate: the task reads the upload from the bucket, stores the Parquet there, drops the upload.
    wait_for(lambda: Dataset.objects.filter(status=Dataset.Status.VALID).count() == 3, "three valid datasets")
    stored = {d.year: d for d in Dataset.objects.all()}
    for year, dataset in stored.items():
        source = golden_dir / f"beneficiaires_{year}.csv"
        assert dataset.sha256 == hashlib.sha256(source.read_bytes()).hexdigest() and dataset.row_count == 25_000
        assert hashlib.sha256(bucket.read(dataset.parquet_file.name)).hexdigest() == dataset.parquet_sha256
    assert bucket.object_keys() == sorted(d.parquet_file.name for d in stored.values())  # raw uploads removed
    # The same file again is a no-op: nothing new in the bucket.
    with open(golden_dir / "beneficiaires_2022.csv", "rb") as handle:
        client.post(reverse("admin:calculations_dataset_add"), {"year": 2022, "file": handle})
    assert Dataset.objects.count() == 3 and len(bucket.object_keys()) == 3

    # Compute: Polars scans each Parquet straight from the bucket; the golden cents come out.
    campaign = campaigns.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    parquet_reads.clear()  # (the validation read its local temporary Parquet)
    campaigns.launch_campaign(campaign=campaign, user=calculator)
    campaign = wait_for(
        lambda: Campaign.objects.exclude(status="computing").filter(pk=campaign.pk).first(), "the computation"
    )
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=campaign))[0] == []
    assert str(campaign.final_amount) == "244528.88"
    assert sorted(parquet_reads) == sorted(f"s3://{bucket.name}/{d.parquet_file.name}" for d in stored.values())

    # Render: twelve draft statements in the bucket, then final ones once validated; drafts removed.
    wait_for(lambda: Statement.objects.filter(campaign=campaign).count() == 12, "twelve draft statements")
    campaigns.validate_campaign(campaign=campaign, user=validator, reason="double contrôle")
    wait_for(lambda: Statement.objects.filter(campaign=campaign, draft=False).count() == 12, "twelve final statements")
    validated = StatementRendering.objects.filter(campaign=campaign).latest("pk")
    campaigns.publish_campaign(campaign=Campaign.objects.get(pk=campaign.pk), user=validator)
    # Publication draws the final statements again, with their contestation deadline.
    wait_for(
        lambda: StatementRendering.objects.filter(campaign=campaign, pk__gt=validated.pk, finished_at__isnull=False),
        "the statements drawn again at publication",
    )
    statements = {
        s.groupement.code: s for s in Statement.objects.filter(campaign=campaign).select_related("groupement")
    }
    statement_keys = sorted(s.file.name for s in statements.values())
    wait_for(
        lambda: sorted(k for k in bucket.object_keys() if k.startswith("statements/")) == statement_keys,
        "drafts removed",
    )

    # Download: through the access-checked view, the verified bytes; another groupement's id is not found.
    client.force_login(portal_user("G001"))
    response = client.get(reverse("portal:statement_download", args=[statements["G001"].pk]))
    assert response.status_code == 200
    content = response.getvalue()
    assert content == bucket.read(statements["G001"].file.name)
    assert hashlib.sha256(content).hexdigest() == statements["G001"].sha256
    assert client.get(reverse("portal:statement_download", args=[statements["G002"].pk])).status_code == 404

    # Integrity of the bucket: all 15 files conform; an altered object is named, and refused at download.
    out = io.StringIO()
    call_command("verify_integrity", stdout=out, stderr=io.StringIO())
    assert "15 fichier(s) conforme(s)" in out.getvalue() and f"compartiment S3 « {bucket.name} »" in out.getvalue()
    bucket.write(statements["G001"].file.name, content.replace(b"%PDF-", b"%PDF-\n% altered\n", 1))
    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 fichier"):
        call_command("verify_integrity", stdout=io.StringIO(), stderr=errors)
    assert f"Relevé G001 – 2022 v{campaign.version} : le fichier {statements['G001'].file.name}" in errors.getvalue()
    assert client.get(reverse("portal:statement_download", args=[statements["G001"].pk])).status_code == 409

    # Delete: an unused dataset's Parquet leaves the bucket with it.
    extra = datasets.ingest_dataset(path=golden_dir / "beneficiaires_2022.csv", year=2022)
    assert extra.pk == stored[2022].pk  # the same bytes again: the existing dataset
    spare = io.BytesIO()
    pl.read_csv(golden_dir / "beneficiaires_2018.csv", separator=";", infer_schema=False).head(50).write_csv(
        spare, separator=";"
    )
    path = local_temp.parent / "beneficiaires_2021.csv"
    path.write_bytes(spare.getvalue())
    unused = datasets.ingest_dataset(path=path, year=2021)
    assert unused.status == Dataset.Status.VALID and bucket.read(unused.parquet_file.name)
    datasets.delete_dataset(dataset=unused, user=make_user(is_superuser=True, is_staff=True))
    assert unused.parquet_file.name not in bucket.object_keys()

    # Nothing of the project on the local disk: no MEDIA_ROOT, temporary files all removed.
    assert not settings.MEDIA_ROOT.exists()
    assert list(local_temp.iterdir()) == []
