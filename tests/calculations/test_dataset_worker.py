"""An uploaded file is validated by a real Celery worker through the broker (not eager mode), and the
progress the admin polls is written by the worker while it runs."""

import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from calculations.models import Dataset
from calculations.services import datasets as services
from groupements import roles

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: set CELERY_BROKER_URL"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_upload_is_validated_by_a_worker(real_worker, golden_dir, media_root, make_user):
    content = (golden_dir / "beneficiaires_2022.csv").read_bytes()
    dataset = services.start_dataset_upload(
        uploaded_file=SimpleUploadedFile("beneficiaires_2022.csv", content),
        year=2022,
        user=make_user(role=roles.DATA_MANAGER),
    )
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dataset.refresh_from_db()
        seen.add(dataset.status)
        if dataset.is_final:
            break
        time.sleep(0.05)
    assert dataset.status == Dataset.Status.VALID, dataset.problems
    assert dataset.row_count == 25_000 and dataset.task_id  # run by the worker, which recorded its task id
    assert not (media_root / "uploads" / f"{dataset.sha256}.csv").exists()
