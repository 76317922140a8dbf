"""A dataset's files in the project's storage (`common.storage`: MEDIA_ROOT or an S3-compatible bucket).

- The raw upload awaiting validation: `uploads/<sha256 of the CSV>.csv`, removed once validated.
- The typed Parquet: `datasets/<kind>/<year>/<sha256 of the CSV>_<sha256 of the Parquet, 16>.parquet`,
  written once (validated into a temporary directory, then published whole), its own SHA-256 recorded
  on the dataset and checked before every use.

`verified_beneficiaries(dataset)` (or `…_by_year` for several) is the one way to read a dataset: the
computation and the what-if simulations call it, and it refuses a Parquet that no longer has its checksum.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from calculations.models import Dataset
from calculations.selectors.datasets import dataset_label

if TYPE_CHECKING:
    import polars as pl

from common.storage import (
    FileIntegrityError,
    TemporaryFile,
    delete_stored,
    integrity_problem,
    local_sha256,
    polars_source,
    project_storage,
    store_immutable,
)

UPLOADS_DIRECTORY = "uploads"
DATASETS_DIRECTORY = "datasets"
MAX_PARALLEL_CHECKS = 4


def upload_name(sha256: str) -> str:
    return f"{UPLOADS_DIRECTORY}/{sha256}.csv"


def parquet_name(*, kind: str, year: int, source_sha256: str, parquet_sha256: str) -> str:
    return f"{DATASETS_DIRECTORY}/{kind}/{year}/{source_sha256}_{parquet_sha256[:16]}.parquet"


@dataclass(frozen=True)
class StoredParquet:
    name: str
    sha256: str
    written: bool  # False: the name already held these bytes (nothing was written)

    def discard(self) -> None:
        """Removes the file this call wrote (its dataset row was not saved)."""
        if self.written:
            delete_stored(project_storage(), self.name)


def store_parquet(local_parquet: Path, *, kind: str, year: int, source_sha256: str) -> StoredParquet:
    """Publishes a validated local Parquet (moved when the storage is on the same disk, else copied)."""
    sha256 = local_sha256(local_parquet)
    name = parquet_name(kind=kind, year=year, source_sha256=source_sha256, parquet_sha256=sha256)
    with TemporaryFile(local_parquet) as content:
        written = store_immutable(project_storage(), name, content, sha256=sha256)
    return StoredParquet(name, sha256, written)


def parquet_exists(dataset: Dataset) -> bool:
    return bool(dataset.parquet_file.name) and project_storage().exists(dataset.parquet_file.name)


def upload_exists(dataset: Dataset) -> bool:
    return bool(dataset.upload_file.name) and project_storage().exists(dataset.upload_file.name)


def parquet_integrity_problem(dataset: Dataset) -> str | None:
    """None when the dataset's Parquet has the SHA-256 recorded when it was written, else why not."""
    return integrity_problem(project_storage(), dataset.parquet_file.name, dataset.parquet_sha256)


def verify_parquets(datasets) -> None:
    """Checks each dataset's Parquet against its SHA-256, all at once (one thread per file: hashing
    releases the GIL and reads overlap); FileIntegrityError (French) naming every one that differs."""
    datasets = list(datasets)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_CHECKS, len(datasets)))) as pool:
        problems = list(pool.map(parquet_integrity_problem, datasets))
    messages = [f"{dataset_label(d)} : {problem}." for d, problem in zip(datasets, problems, strict=True) if problem]
    if messages:
        raise FileIntegrityError(messages)


def _scan(dataset: Dataset) -> pl.LazyFrame:
    # Where the file lives: a local path, or straight from the bucket (`s3://…` with its options),
    # streaming, never copied whole to disk first.
    import polars as pl  # loaded by the computations only, not by every process that lists datasets

    source, options = polars_source(project_storage(), dataset.parquet_file.name)
    return pl.scan_parquet(source, storage_options=options)


def verified_beneficiaries(dataset: Dataset) -> pl.LazyFrame:
    """The dataset's beneficiaries as a lazy frame, after checking its Parquet against its SHA-256 (what
    the what-if simulations call); FileIntegrityError when the file was changed or lost."""
    verify_parquets([dataset])
    return _scan(dataset)


def verified_beneficiaries_by_year(datasets: dict[int, Dataset]) -> dict[int, pl.LazyFrame]:
    """`verified_beneficiaries` of several datasets (a campaign's years), checked together."""
    verify_parquets(datasets.values())
    return {year: _scan(dataset) for year, dataset in datasets.items()}
