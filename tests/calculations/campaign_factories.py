"""Helpers of the campaign tests: golden datasets stored as the datasets service stores them (Parquet in
the project's storage, with its SHA-256), the golden parameters, and campaigns put directly into a given
status (to test the transitions out of it). The expected results and their exact comparison come from
tests.golden."""

from __future__ import annotations

import hashlib
import json

from django.utils import timezone

from calculations.bundle.beneficiaries import scan_beneficiaries
from calculations.models import Campaign, Dataset
from calculations.services.dataset_files import store_parquet
from common.storage import scratch_directory
from tests.golden import GOLDEN_DIR, exact_cents_differences, expected_golden  # noqa: F401  (used by importers)

GOLDEN_YEARS = (2018, 2019, 2022)


def golden_parameters() -> dict:
    return json.loads((GOLDEN_DIR / "parametres.json").read_text(encoding="utf-8"), parse_float=str)


def store_golden_datasets(years=GOLDEN_YEARS) -> dict[int, Dataset]:
    """One valid beneficiaries Dataset per year, its Parquet written from the golden CSV and stored."""
    datasets = {}
    for year in years:
        source = GOLDEN_DIR / f"beneficiaires_{year}.csv"
        sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
        datasets[year] = store_valid_dataset(
            year, scan_beneficiaries(source).collect(), name=source.name, sha256=sha256, size=source.stat().st_size
        )
    return datasets


def store_valid_dataset(year: int, frame, *, name: str, sha256: str | None = None, size: int = 0) -> Dataset:
    """A valid beneficiaries Dataset of `year` holding `frame` (its Parquet stored); `sha256` defaults to a
    checksum of the frame, standing for that of the CSV it came from."""
    if sha256 is None:
        sha256 = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    with scratch_directory() as scratch:
        frame.write_parquet(scratch / "rows.parquet")
        stored = store_parquet(scratch / "rows.parquet", kind="beneficiaires", year=year, source_sha256=sha256)
    return Dataset.objects.create(
        year=year,
        original_name=name,
        size=size,
        sha256=sha256,
        row_count=frame.height,
        status=Dataset.Status.VALID,
        parquet_file=stored.name,
        parquet_sha256=stored.sha256,
        validated_at=timezone.now(),
    )


def launch_and_compute(campaign, user, capture):
    """Launch, then run the enqueued computation now (eager), without running later after-commit hooks.

    `capture` is pytest-django's django_capture_on_commit_callbacks: the statements' rendering that the
    computation schedules is left out, so these tests stay fast and about the lifecycle.
    """
    from calculations.services.campaigns import launch_campaign

    with capture() as callbacks:
        launch_campaign(campaign=campaign, user=user)
    for callback in callbacks:
        callback()
    campaign.refresh_from_db()
    return campaign


def campaign_in_status(status: str, *, year: int = 2022, version: int = 1, launched_by=None, **fields) -> Campaign:
    """A campaign put straight into `status` (bypassing the services) to test what may follow it."""
    return Campaign.objects.create(year=year, version=version, status=status, launched_by=launched_by, **fields)


def typed_parameters(parameters: dict | None = None) -> dict:
    """What a person submits in the typed parameter form: every parameter as shown (decimal comma), the
    defaults unless `parameters` gives another value."""
    from calculations.engine.parameters import DEFAULT_LITERALS
    from calculations.forms.parameters import shown

    return {name: shown(value) for name, value in {**DEFAULT_LITERALS, **(parameters or {})}.items()}


def computed_golden_campaign(user, capture) -> Campaign:
    """The golden campaign 2022 v1 created by `user`, launched and computed (its results are the golden
    file's to the cent); the golden reference must be loaded and MEDIA_ROOT set."""
    from calculations.services.campaigns import create_campaign

    store_golden_datasets()
    draft = create_campaign(year=2022, user=user, parameters=golden_parameters())
    campaign = launch_and_compute(draft, user, capture)
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    return campaign


def campaign_state(campaign: Campaign) -> tuple:
    """Everything a simulation must leave as it was: the campaign's row, results, datasets, transitions,
    its statements and, on PostgreSQL, its audit events."""
    from django.conf import settings
    from django.forms.models import model_to_dict

    from calculations.selectors.campaigns import campaign_results_json

    campaign.refresh_from_db()
    statements = list(campaign.statements.order_by("pk").values()) if hasattr(campaign, "statements") else []
    events = 0
    if settings.USES_POSTGRES:
        from pghistory.models import Events

        events = Events.objects.count()
    return (
        model_to_dict(campaign),
        json.dumps(campaign_results_json(campaign=campaign), sort_keys=True),
        list(campaign.campaign_datasets.values_list("year", "dataset", "sha256")),
        list(campaign.transitions.values_list("pk", "from_status", "to_status", "reason")),
        statements,
        events,
    )
