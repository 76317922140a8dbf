"""Benchmark of the ingestion of a national beneficiaries file (issue 5).

    .venv/bin/python bench/ingest.py                     # 10 M rows (generated once, a few minutes)
    .venv/bin/python bench/ingest.py --patients 200000   # a quick run

1. Generates (or reuses) `bench/data/ingest-<size>/beneficiaires_2022.csv` with
   ../shared/tools/gen_bundle.py (--year 2022 --groupements 12 --seed 7 --only-beneficiaries).
2. Times, each phase in its own subprocess so that its peak RSS (VmHWM) is its own, `--repeat` times
   interleaved (a load change on a shared machine hits every phase alike):
   - `ingest`: `calculations.services.datasets.ingest_dataset` (what `manage.py ingest_file` runs:
     SHA-256, deduplication, full validation of section 3, typed Parquet, profile, dataset row) on a
     fresh SQLite database and MEDIA_ROOT each time (otherwise the second run is a deduplicated no-op);
   - `command`: the same through `manage.py ingest_file` (wall time including Django's start-up);
   - `baseline`: raw Polars, `pl.read_csv(path, separator=";", decimal_comma=True).write_parquet(...)`,
     no validation at all;
   - `import-export`: django-import-export importing the first 20,000 rows into a throwaway model
     (table created in a temporary SQLite database), row by row as it does by default (`import_id_fields
     = id_patient`), and with `use_bulk=True`.
3. Prints the rows per second, the ratios and the peak RSS. Targets: ingest ≤ 1.5 × baseline, peak RSS
   < 3 GB, ≥ 100 × the row rate of django-import-export.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import REPO, YEAR, generate_beneficiaries, peak_rss_mb, size_label

IMPORT_EXPORT_ROWS = 20_000


def prepare_file(directory: Path, patients: int) -> Path:
    generate_beneficiaries(directory, patients)
    return directory / f"beneficiaires_{YEAR}.csv"


# --- phases (each runs in a fresh interpreter) ------------------------------------------------------


def _django(database: Path, media: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipep_site.settings")
    import django

    django.setup()


def phase_ingest(path: Path, work: Path) -> dict:
    _django(work / "db.sqlite3", work / "media")
    from calculations.services.datasets import ingest_dataset

    started = time.perf_counter()
    dataset = ingest_dataset(path=path, year=YEAR)
    seconds = time.perf_counter() - started
    if dataset.status != "valid":
        raise SystemExit(f"ingest rejected the file: {dataset.problems[:3]}")
    return {"seconds": seconds, "rows": dataset.row_count, "path_taken": "service", "sha256": dataset.sha256}


def phase_baseline(path: Path, work: Path) -> dict:
    import polars as pl

    started = time.perf_counter()
    frame = pl.read_csv(path, separator=";", decimal_comma=True)
    frame.write_parquet(work / "baseline.parquet")
    return {"seconds": time.perf_counter() - started, "rows": frame.height}


def phase_import_export(path: Path, work: Path, bulk: bool) -> dict:
    """django-import-export on the first rows, into a model whose table exists only in this database."""
    _django(work / "import_export.sqlite3", work / "media")
    import polars as pl
    import tablib
    from django.db import connection, models
    from import_export import fields, resources

    class BenchBeneficiary(models.Model):
        id_patient = models.CharField(max_length=20, unique=True)
        age = models.PositiveSmallIntegerField()
        sexe = models.PositiveSmallIntegerField()
        ald = models.BooleanField()
        css = models.BooleanField()
        deces = models.BooleanField()
        rpps_mt = models.CharField(max_length=11, blank=True)
        depenses = models.DecimalField(max_digits=15, decimal_places=2)

        class Meta:
            app_label = "calculations"
            db_table = "bench_beneficiary"

        def __str__(self):
            return self.id_patient

    with connection.schema_editor() as editor:
        editor.create_model(BenchBeneficiary)

    class BeneficiaryResource(resources.ModelResource):
        depenses = fields.Field(attribute="depenses", column_name="depenses")

        class Meta:
            model = BenchBeneficiary
            import_id_fields = ("id_patient",)
            fields = ("id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses")
            use_bulk = bulk
            batch_size = 1000

        def before_import_row(self, row, **kwargs):
            row["depenses"] = row["depenses"].replace(",", ".")

    head = pl.read_csv(path, separator=";", infer_schema=False, n_rows=IMPORT_EXPORT_ROWS)
    dataset = tablib.Dataset(*head.rows(), headers=head.columns)
    started = time.perf_counter()
    result = BeneficiaryResource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    stored = BenchBeneficiary.objects.count()
    if result.has_errors() or stored != head.height:
        raise SystemExit(f"import-export stored {stored} of {head.height} rows")
    return {"seconds": seconds, "rows": stored}


PHASES = {
    "ingest": phase_ingest,
    "baseline": phase_baseline,
    "import-export": lambda path, work: phase_import_export(path, work, bulk=False),
    "import-export-bulk": lambda path, work: phase_import_export(path, work, bulk=True),
}


def run_phase(phase: str, path: Path, template_db: Path) -> dict:
    """One phase in a fresh interpreter, on a fresh copy of the migrated database and an empty MEDIA_ROOT."""
    with tempfile.TemporaryDirectory(prefix="ingest-bench-", dir=REPO / "bench" / "out") as scratch:
        work = Path(scratch)
        shutil.copyfile(template_db, work / "db.sqlite3")
        shutil.copyfile(template_db, work / "import_export.sqlite3")
        if phase == "command":
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "MEDIA_ROOT": str(work / "media")}
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    str(REPO / "manage.py"),
                    "ingest_file",
                    str(path),
                    "--year",
                    str(YEAR),
                    "--no-progress",
                ],
                check=True,
                capture_output=True,
                env=env,
            )
            return {"seconds": time.perf_counter() - started, "peak_rss_mb": float("nan")}
        completed = subprocess.run(
            [sys.executable, __file__, "--phase", phase, "--file", str(path), "--work", str(work)],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(completed.stdout.strip().splitlines()[-1])


def migrated_template(directory: Path) -> Path:
    template = directory / "template.sqlite3"
    if not template.is_file():
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}"}
        subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "-v0"], check=True, env=env)
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--patients", type=int, default=10_000_000, help="rows of the national file (default 10,000,000)"
    )
    parser.add_argument("--data", type=Path, help="directory of the generated file (default bench/data/ingest-<size>)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.phase:
        outcome = PHASES[options.phase](options.file, options.work)
        outcome["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(outcome))
        return

    directory = options.data or REPO / "bench" / "data" / f"ingest-{size_label(options.patients)}"
    directory.mkdir(parents=True, exist_ok=True)
    path = prepare_file(directory, options.patients)
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    template = migrated_template(out)
    print(f"file {path}: {path.stat().st_size / 1e6:,.0f} MB", flush=True)

    runs: dict[str, list[dict]] = {phase: [] for phase in ("baseline", "ingest", "command")}
    for _ in range(options.repeat):
        for phase in runs:
            runs[phase].append(run_phase(phase, path, template))
    runs["import-export"] = [run_phase("import-export", path, template)]
    runs["import-export-bulk"] = [run_phase("import-export-bulk", path, template)]

    summary = {}
    for phase, outcomes in runs.items():
        seconds = [r["seconds"] for r in outcomes]
        rows = outcomes[0].get("rows") or runs["ingest"][0]["rows"]
        summary[phase] = {
            "best": min(seconds),
            "median": statistics.median(seconds),
            "rows": rows,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in outcomes),
            "runs": [round(s, 2) for s in seconds],
        }
        s = summary[phase]
        rss = "" if s["peak_rss_mb"] != s["peak_rss_mb"] else f"peak RSS {s['peak_rss_mb']:6.0f} MB"
        print(
            f"  {phase:<19} best {s['best']:7.2f} s  median {s['median']:7.2f} s  runs {s['runs']}  "
            f"{rows / s['best']:>12,.0f} rows/s  {rss}",
            flush=True,
        )

    ingest, baseline = summary["ingest"], summary["baseline"]
    print(
        f"ingest / baseline (best): {ingest['best'] / baseline['best']:.2f}  (median: {ingest['median'] / baseline['median']:.2f};"
        f" target ≤ 1.5)"
    )
    print(
        f"ingest peak RSS: {ingest['peak_rss_mb']:.0f} MB (target < 3000 MB); baseline {baseline['peak_rss_mb']:.0f} MB"
    )
    rate = ingest["rows"] / ingest["best"]
    for phase in ("import-export", "import-export-bulk"):
        other = summary[phase]["rows"] / summary[phase]["best"]
        print(f"ingest rows/s / {phase} rows/s: {rate / other:,.0f}× (target ≥ 100×)")


if __name__ == "__main__":
    main()
