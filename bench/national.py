"""National scale, end to end (issue 17): 68 M patients × 3 years ingested, then computed from the local
disk and from an S3 server, each stage beside a raw Polars baseline measured in the same run.

    .venv/bin/python bench/national.py                       # 68 M patients a year (generated once: ~25 min a year)
    .venv/bin/python bench/national.py --patients 10000000   # 10 M × 3
    .venv/bin/python bench/national.py --patients 200000     # a quick run

1. Generates (or reuses) `bench/data/national-<size>/` with ../shared/tools/gen_bundle.py
   (--year 2022 --groupements 12 --seed 7 --only-beneficiaries) and copies the golden reference files
   beside it; the files stay there between runs.
2. Ingestion, per year: `calculations.services.datasets.ingest_dataset` (what an upload runs: SHA-256,
   full validation of section 3, typed Parquet, profile, dataset row) into one SQLite database and
   MEDIA_ROOT under bench/out/, against raw Polars `read_csv` + `write_parquet` of the same file.
3. Computation from the local disk: the stored datasets' Parquet checked against their SHA-256, then
   the engine (`compute_campaign`), against raw Polars `scan_parquet` + a group-by sum by médecin
   traitant over the same files (streaming).
4. The same from an S3 server (moto's standalone server on 127.0.0.1, the Parquet files copied into a
   private bucket first): the project's storage set by IPEP_STORAGE=s3 alone, Polars reading
   `s3://…` straight from the bucket.

Every stage runs in a fresh interpreter, so its peak RSS (VmHWM) is its own. Targets on 2 cores:
computation ≤ 1.5 × its baseline, peak RSS < 4 GB, ingestion ≤ 1.3 × its baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from support import GOLDEN, REPO, YEAR, generate_beneficiaries, peak_rss_mb, size_label

S3_BUCKET = "ipep-national-bench"
S3_REGION = "eu-west-3"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "bench-key", "AWS_SECRET_ACCESS_KEY": "bench-secret"}


# --- stages (each in a fresh interpreter) ---------------------------------------------------------------


def _django(work: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'db.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipep_site.settings")
    import django

    django.setup()


def stage_ingest(work: Path, csv: Path) -> dict:
    _django(work)
    from calculations.services.datasets import ingest_dataset

    year = int(csv.stem.rsplit("_", 1)[1])
    started = time.perf_counter()
    dataset = ingest_dataset(path=csv, year=year)
    seconds = time.perf_counter() - started
    if dataset.status != "valid":
        raise SystemExit(f"{csv.name} refused: {dataset.problems[:3]}")
    return {"seconds": seconds, "rows": dataset.row_count}


def stage_ingest_baseline(work: Path, csv: Path) -> dict:
    import polars as pl

    started = time.perf_counter()
    frame = pl.read_csv(csv, separator=";", decimal_comma=True)
    frame.write_parquet(work / f"baseline-{csv.stem}.parquet")
    seconds = time.perf_counter() - started
    (work / f"baseline-{csv.stem}.parquet").unlink()
    return {"seconds": seconds, "rows": frame.height}


def _stored_datasets() -> dict:
    from calculations.models import Dataset

    return {d.year: d for d in Dataset.objects.filter(status="valid").order_by("year", "-id")}


def stage_compute(work: Path, bundle: Path) -> dict:
    """The campaign from the stored datasets: checksums first (as a launch does), then the engine."""
    _django(work)
    from calculations.bundle.reference import read_reference_bundle
    from calculations.engine import Parameters, compute_campaign
    from calculations.engine.parameters import BUNDLE_SOURCE
    from calculations.services.dataset_files import verified_beneficiaries_by_year

    reference = read_reference_bundle(bundle, YEAR)
    datasets = _stored_datasets()
    started = time.perf_counter()
    beneficiaries = verified_beneficiaries_by_year({y: datasets[y] for y in reference.years_needed()})
    checked = time.perf_counter()
    parameters = Parameters.merge((BUNDLE_SOURCE, reference.parameters))
    results = compute_campaign(reference.with_beneficiaries(beneficiaries), parameters)
    finished = time.perf_counter()
    rows = sum(datasets[y].row_count for y in reference.years_needed())
    return {
        "seconds": finished - started,
        "checksum_seconds": checked - started,
        "engine_seconds": finished - checked,
        "rows": rows,
        "final_amount": str(results.totals.final_amount),
    }


def stage_compute_baseline(work: Path, bundle: Path) -> dict:
    """Raw Polars over the same stored files, wherever the storage keeps them."""
    _django(work)
    import polars as pl

    from common.storage import polars_source, project_storage

    started = time.perf_counter()
    rows = 0
    for dataset in _stored_datasets().values():
        source, options = polars_source(project_storage(), dataset.parquet_file.name)
        summed = (
            pl.scan_parquet(source, storage_options=options)
            .group_by("rpps_mt")
            .agg(pl.col("depenses_cents").sum(), pl.len())
            .collect(engine="streaming")
        )
        rows += summed["len"].sum()
    return {"seconds": time.perf_counter() - started, "rows": rows}


STAGES = {
    "ingest": stage_ingest,
    "ingest-baseline": stage_ingest_baseline,
    "compute": stage_compute,
    "compute-baseline": stage_compute_baseline,
}


def run_stage(stage: str, work: Path, target: Path, env: dict | None = None) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--work", str(work), "--target", str(target)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- orchestration ---------------------------------------------------------------------------------------


def prepare_bundle(directory: Path, patients: int) -> list[Path]:
    generate_beneficiaries(directory, patients)
    for source in GOLDEN.iterdir():
        if not (source.name.startswith("beneficiaires_") or source.name.startswith("expected")):
            shutil.copyfile(source, directory / source.name)
    return sorted(directory.glob("beneficiaires_*.csv"))


def fresh_work(directory: Path) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}"}
    subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "-v0"], check=True, env=env)
    return directory


def line(label: str, outcome: dict, baseline: dict | None = None) -> str:
    rate = outcome["rows"] / outcome["seconds"] if outcome["seconds"] else float("inf")
    text = (
        f"  {label:<34} {outcome['seconds']:8.1f} s  {rate:>13,.0f} rows/s  peak RSS {outcome['peak_rss_mb']:6.0f} MB"
    )
    if baseline is not None:
        text += f"  ratio {outcome['seconds'] / baseline['seconds']:.2f}"
    return text


def best_of(stage: str, repeat: int, work: Path, target: Path, env: dict | None = None) -> dict:
    """Best time of `repeat` runs, highest peak RSS."""
    runs = [run_stage(stage, work, target, env) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs": [round(r["seconds"], 1) for r in runs]}


def start_s3_server():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def copy_media_to_bucket(media: Path, endpoint: str) -> float:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=S3_BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    started = time.perf_counter()
    for path in media.rglob("*.parquet"):
        client.upload_file(str(path), S3_BUCKET, path.relative_to(media).as_posix())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=68_000_000, help="national population (default 68,000,000)")
    parser.add_argument("--data", type=Path, help="bundle directory (default bench/data/national-<size>)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each computation stage (best kept)")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--stage", choices=tuple(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.stage:
        outcome = STAGES[options.stage](options.work, options.target)
        outcome["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(outcome))
        return

    label = size_label(options.patients)
    bundle = options.data or REPO / "bench" / "data" / f"national-{label}"
    bundle.mkdir(parents=True, exist_ok=True)
    csvs = prepare_bundle(bundle, options.patients)
    work = fresh_work(REPO / "bench" / "out" / f"national-{label}")
    print(f"bundle {bundle}: {', '.join(f'{c.name} {c.stat().st_size / 1e9:.2f} GB' for c in csvs)}", flush=True)

    print("ingestion (one run each: the service, then raw Polars read_csv + write_parquet)", flush=True)
    totals = {"ingest": [0.0, 0, 0.0], "ingest-baseline": [0.0, 0, 0.0]}
    for csv in csvs:
        ingest = run_stage("ingest", work, csv)
        baseline = run_stage("ingest-baseline", work, csv)
        print(line(f"ingest {csv.name}", ingest, baseline), flush=True)
        print(line(f"baseline {csv.name}", baseline), flush=True)
        for key, outcome in (("ingest", ingest), ("ingest-baseline", baseline)):
            totals[key][0] += outcome["seconds"]
            totals[key][1] += outcome["rows"]
            totals[key][2] = max(totals[key][2], outcome["peak_rss_mb"])
    ingest_total, baseline_total = (
        dict(zip(("seconds", "rows", "peak_rss_mb"), totals[k], strict=True)) for k in totals
    )
    print(line("ingestion, all years", ingest_total, baseline_total) + "  (target ≤ 1.3)", flush=True)

    summary = [("ingestion", ingest_total, baseline_total, 1.3)]
    sources = [("local disk", {})]
    server = None
    if not options.skip_s3:
        server, endpoint = start_s3_server()
        upload = copy_media_to_bucket(work / "media", endpoint)
        print(f"S3 server {endpoint}: Parquet files copied into the bucket in {upload:.1f} s", flush=True)
        sources.append(
            (
                "S3 server",
                {
                    "IPEP_STORAGE": "s3",
                    "IPEP_S3_BUCKET": S3_BUCKET,
                    "IPEP_S3_ENDPOINT_URL": endpoint,
                    "IPEP_S3_REGION": S3_REGION,
                    **S3_KEYS,
                },
            )
        )
    try:
        for source, env in sources:
            print(f"computation from the {source} (best of {options.repeat})", flush=True)
            baseline = best_of("compute-baseline", options.repeat, work, bundle, env)
            compute = best_of("compute", options.repeat, work, bundle, env)
            print(line(f"campaign {YEAR}, {source}", compute, baseline) + "  (target ≤ 1.5)", flush=True)
            print(
                f"    of which SHA-256 of the Parquet files {compute['checksum_seconds']:.1f} s, engine "
                f"{compute['engine_seconds']:.1f} s (engine alone / baseline "
                f"{compute['engine_seconds'] / baseline['seconds']:.2f}); runs {compute['runs']}; "
                f"paid total {compute['final_amount']} €",
                flush=True,
            )
            print(line(f"baseline scan_parquet + group_by, {source}", baseline), flush=True)
            summary.append((f"campaign, {source}", compute, baseline, 1.5))
    finally:
        if server is not None:
            server.stop()

    print("summary")
    for name, outcome, baseline, target in summary:
        ratio = outcome["seconds"] / baseline["seconds"]
        verdict = "met" if ratio <= target and outcome["peak_rss_mb"] < 4096 else "NOT met"
        print(
            f"  {name:<24} {ratio:5.2f} × baseline (target ≤ {target}), peak RSS "
            f"{outcome['peak_rss_mb']:.0f} MB (target < 4096): {verdict}"
        )


if __name__ == "__main__":
    main()
