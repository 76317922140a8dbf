"""Benchmark of the calculation engine at national scale (issue 4).

    .venv/bin/python bench/engine.py                    # 10 M patients a year (generated once, ~5 min)
    .venv/bin/python bench/engine.py --patients 200000  # a quick run

1. Generates (or reuses) `bench/data/engine-<size>/` with ../shared/tools/gen_bundle.py
   (--year 2022 --groupements 12 --seed 7 --only-beneficiaries) and copies the golden reference
   files beside it (everything in golden-2022 except beneficiaires_*.csv and expected_*).
2. Converts each beneficiaires_Y.csv to Parquet with the validated schema, through
   `calculations.bundle.beneficiaries.scan_beneficiaries` (the contract path) by default, or with a
   direct typed Polars conversion (`--conversion direct`).
3. Times, each in its own subprocess so that peak RSS (VmHWM, else ru_maxrss) is per phase:
   (a) the engine through the `simulate` code path on the Parquet files;
   (b) baselines: Polars scanning the same Parquet files with one group_by sum per year, by médecin
       traitant (`rpps_mt`, the key the engine needs) and by a tiny key (`sexe`).
   Phases run --repeat times, interleaved; the best time and the highest peak RSS are reported.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from support import GOLDEN, REPO, YEAR, generate_beneficiaries, peak_rss_mb, size_label


def prepare_bundle(directory: Path, patients: int, conversion: str) -> list[Path]:
    """Generate (once) the national files, copy the reference files, convert to Parquet; the Parquet paths."""
    if generate_beneficiaries(directory, patients):
        for stale in directory.glob("beneficiaires_*.parquet"):
            stale.unlink()
    for source in GOLDEN.iterdir():
        if not (source.name.startswith("beneficiaires_") or source.name.startswith("expected")):
            shutil.copyfile(source, directory / source.name)
    parquet_paths = []
    for csv_path in sorted(directory.glob("beneficiaires_*.csv")):
        parquet = csv_path.with_suffix(".parquet")
        parquet_paths.append(parquet)
        if parquet.is_file() and parquet.stat().st_mtime >= csv_path.stat().st_mtime:
            continue
        started = time.perf_counter()
        partial = parquet.with_suffix(".parquet.partial")
        convert_to_parquet(csv_path, partial, conversion)
        partial.replace(parquet)
        print(
            f"  {csv_path.name} -> {parquet.name} ({conversion} conversion) in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return parquet_paths


def convert_to_parquet(csv_path: Path, parquet: Path, conversion: str) -> None:
    import polars as pl

    from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA, scan_beneficiaries
    from calculations.bundle.problems import BundleError

    if conversion == "contract":
        try:
            frame = scan_beneficiaries(csv_path)
        except BundleError as error:
            sys.exit(error.report())
        frame.select(list(BENEFICIARY_SCHEMA)).cast(BENEFICIARY_SCHEMA).sink_parquet(parquet)
        return
    # Direct typed conversion of a generator file (';' and decimal comma): no validation at all.
    cents = pl.col("depenses").str.replace(",", ".").cast(pl.Decimal(18, 2)).mul(100).cast(pl.Int64)
    (
        pl.scan_csv(csv_path, separator=";", infer_schema=False)
        .select(
            "id_patient",
            pl.col("age").cast(pl.Int16),
            *(pl.col(c).cast(pl.Int8) for c in ("sexe", "ald", "css", "deces")),
            pl.col("rpps_mt").replace("", None),
            cents.alias("depenses_cents"),
        )
        .sink_parquet(parquet)
    )


def run_engine_phase(bundle: Path) -> dict:
    from calculations.management.commands.simulate import simulate

    started = time.perf_counter()
    results = simulate(bundle, YEAR, [])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "final_amount": str(results.totals.final_amount),
        "n_patients": results.totals.n_patients,
    }


def run_baseline_phase(bundle: Path, key: str) -> dict:
    import polars as pl

    started = time.perf_counter()
    groups = 0
    for parquet in sorted(bundle.glob("beneficiaires_*.parquet")):
        summed = pl.scan_parquet(parquet).group_by(key).agg(pl.col("depenses_cents").sum()).collect(engine="streaming")
        groups += summed.height
    return {"seconds": time.perf_counter() - started, "groups": groups}


def run_phase(phase: str, bundle: Path) -> dict:
    """One phase in a fresh interpreter (so its peak RSS is its own)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--bundle", str(bundle)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure(phases: tuple[str, ...], bundle: Path, repeat: int) -> dict[str, dict]:
    """Each phase `repeat` times, interleaved (a load change on a shared machine hits every phase alike);
    best time and highest peak RSS per phase."""
    runs: dict[str, list[dict]] = {phase: [] for phase in phases}
    for _ in range(repeat):
        for phase in phases:
            runs[phase].append(run_phase(phase, bundle))
    summary = {}
    for phase, outcomes in runs.items():
        best = min(outcomes, key=lambda r: r["seconds"])
        summary[phase] = {
            **best,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in outcomes),
            "all_seconds": [round(r["seconds"], 2) for r in outcomes],
        }
    return summary


def count_patients(parquet_paths: list[Path]) -> dict[str, int]:
    import polars as pl

    return {p.stem.rsplit("_", 1)[1]: pl.scan_parquet(p).select(pl.len()).collect().item() for p in parquet_paths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--patients", type=int, default=10_000_000, help="national population size (default 10,000,000)"
    )
    parser.add_argument("--data", type=Path, help="bundle directory (default bench/data/engine-<size>)")
    parser.add_argument(
        "--conversion",
        choices=("contract", "direct"),
        default="contract",
        help="CSV to Parquet through scan_beneficiaries (contract) or a direct typed Polars read",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phase", choices=("engine", "baseline-rpps_mt", "baseline-sexe"), help=argparse.SUPPRESS)
    parser.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.phase:
        if options.phase == "engine":
            outcome = run_engine_phase(options.bundle)
        else:
            outcome = run_baseline_phase(options.bundle, options.phase.split("-", 1)[1])
        outcome["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(outcome))
        return

    directory = options.data or REPO / "bench" / "data" / f"engine-{size_label(options.patients)}"
    directory.mkdir(parents=True, exist_ok=True)
    parquet_paths = prepare_bundle(directory, options.patients, options.conversion)
    rows = count_patients(parquet_paths)
    print(f"bundle {directory}: rows per year {rows}", flush=True)
    phases = measure(("baseline-rpps_mt", "baseline-sexe", "engine"), directory, options.repeat)
    for phase, outcome in phases.items():
        print(
            f"  {phase:<17} best {outcome['seconds']:6.2f} s  runs {outcome['all_seconds']}  "
            f"peak RSS {outcome['peak_rss_mb']:7.0f} MB",
            flush=True,
        )
    engine = phases["engine"]
    print(
        f"engine: {engine['seconds']:.2f} s, peak RSS {engine['peak_rss_mb']:.0f} MB, "
        f"{engine['n_patients']:,} patients in groupements, paid total {engine['final_amount']} €"
    )
    for key in ("rpps_mt", "sexe"):
        baseline = phases[f"baseline-{key}"]
        print(
            f"ratio engine / baseline group_by({key}) sum: {engine['seconds'] / baseline['seconds']:.2f} "
            f"({baseline['seconds']:.2f} s, peak RSS {baseline['peak_rss_mb']:.0f} MB)"
        )


if __name__ == "__main__":
    main()
