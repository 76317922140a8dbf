"""The end-to-end path a user times: `manage.py simulate` on a CSV bundle (validation included),
against a raw Polars `read_csv` + group-by of the same files, measured side by side (issue 17:
target ≤ 2.5 × the raw baseline at 2 M patients × 3 years).

    IPEP_SHARED=/work/shared .venv/bin/python bench/simulate.py                    # 2 M patients
    IPEP_SHARED=/work/shared .venv/bin/python bench/simulate.py --patients 200000  # a quick run

1. Generates (or reuses) a whole CSV bundle under `bench/data/simulate-<size>/` with
   ../shared/tools/gen_bundle.py (--year 2022 --groupements 12 --seed 7): the reference files and
   `beneficiaires_{2018,2019,2022}.csv`.
2. Times, `--repeat` times interleaved, each in a fresh interpreter:
   - `command`: `manage.py simulate BUNDLE --year 2022 --output …` (wall time, Django start-up included);
   - `inside`: the same `simulate()` after `django.setup()`, split into the validation of the three
     beneficiaries files and the rest (reference files and the engine);
   - `startup`: `manage.py check --fail-level CRITICAL` (what any command pays before its work);
   - `baseline`: raw Polars on the same three CSV files: `read_csv` then a group-by (sum and count
     of `depenses` by `rpps_mt`), no validation, no engine.
3. Prints each phase's best time and the ratio command / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import REPO, YEAR, generate_beneficiaries, size_label

YEARS = (2018, 2019, YEAR)
TARGET = 2.5


def phase_baseline(bundle: Path) -> dict:
    import polars as pl

    started = time.perf_counter()
    for year in YEARS:
        frame = pl.read_csv(bundle / f"beneficiaires_{year}.csv", separator=";", decimal_comma=True)
        frame.group_by("rpps_mt").agg(pl.col("depenses").sum(), pl.len())
    return {"seconds": time.perf_counter() - started}


def phase_inside(bundle: Path) -> dict:
    """`simulate()` in a set-up Django process, its validation of the beneficiaries files timed apart."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipep_site.settings")
    import django

    django.setup()
    from calculations.bundle import beneficiaries
    from calculations.management.commands import simulate

    validation = 0.0
    scan = beneficiaries.scan_beneficiaries

    def timed_scan(*args, **kwargs):
        nonlocal validation
        started = time.perf_counter()
        try:
            return scan(*args, **kwargs)
        finally:
            validation += time.perf_counter() - started

    simulate.scan_beneficiaries = timed_scan
    started = time.perf_counter()
    results = simulate.simulate(bundle, YEAR, [])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "validation": validation, "total": str(results.totals.final_amount)}


def run_command(arguments: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="simulate-bench-") as scratch:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(REPO / "manage.py"),
                *arguments,
                *([] if arguments[0] == "check" else ["--output", f"{scratch}/r.json"]),
            ],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        return {"seconds": time.perf_counter() - started}


def run_phase(name: str, bundle: Path) -> dict:
    if name == "command":
        return run_command(["simulate", str(bundle), "--year", str(YEAR)])
    if name == "startup":
        return run_command(["check", "--fail-level", "CRITICAL"])
    completed = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--bundle", str(bundle)], check=True, capture_output=True, text=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


PHASES = {"baseline": phase_baseline, "inside": phase_inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.phase:
        print(json.dumps(PHASES[options.phase](options.bundle)))
        return

    bundle = REPO / "bench" / "data" / f"simulate-{size_label(options.patients)}"
    bundle.mkdir(parents=True, exist_ok=True)
    generate_beneficiaries(bundle, options.patients, reference_files=True)
    size = sum((bundle / f"beneficiaires_{year}.csv").stat().st_size for year in YEARS)
    print(f"bundle {bundle}: 3 beneficiaries files, {size / 1e6:,.0f} MB", flush=True)

    runs: dict[str, list[dict]] = {name: [] for name in ("baseline", "command", "inside", "startup")}
    for _ in range(options.repeat):
        for name, outcomes in runs.items():
            outcomes.append(run_phase(name, bundle))
    best = {name: min(r["seconds"] for r in outcomes) for name, outcomes in runs.items()}
    for name, outcomes in runs.items():
        seconds = [r["seconds"] for r in outcomes]
        print(
            f"  {name:<9} best {best[name]:6.2f} s  median {statistics.median(seconds):6.2f} s  runs {[round(s, 2) for s in seconds]}"
        )
    inside = min(runs["inside"], key=lambda r: r["seconds"])
    print(
        f"  inside simulate(): validation of the 3 files {inside['validation']:.2f} s, "
        f"reference files and engine {inside['seconds'] - inside['validation']:.2f} s (total {inside['total']} €)"
    )
    ratio = best["command"] / best["baseline"]
    print(f"simulate command / raw Polars read_csv + group-by (best): {ratio:.2f} (target ≤ {TARGET})")
    print(
        f"  of which: start-up {best['startup']:.2f} s = {best['startup'] / best['baseline']:.2f}×, "
        f"validation {inside['validation'] / best['baseline']:.2f}×, "
        f"reference files and engine {(inside['seconds'] - inside['validation']) / best['baseline']:.2f}×"
    )


if __name__ == "__main__":
    main()
