"""Celery task of dataset ingestion: a thin wrapper around `calculations.services.datasets`."""

from celery import shared_task

from calculations.services import datasets as services


@shared_task(bind=True, name="calculations.validate_dataset", acks_late=True, ignore_result=True)
def validate_dataset_task(self, dataset_id: int) -> None:
    """Validate an uploaded national file and store its Parquet (or its problems)."""
    services.validate_uploaded_dataset(dataset_id=dataset_id, task_id=self.request.id or "")
