"""Peak memory of validating garbage beneficiaries files (issue 16 item 7: a 1 GB garbage file took the
worker from 257 to 1 657 MB and counted 21 M problems).

    .venv/bin/python bench/validation_memory.py                  # 1 GB of each garbage, then a quarter
    .venv/bin/python bench/validation_memory.py --megabytes 100  # a quick run

Generates (once, under bench/data/garbage-<MB>/) files with a valid header followed by:
- `rows`: random rows: wrong field counts, bad integers and amounts, ids repeated thousands of times;
- `one-id`: well-formed rows that all share one id (every row but the first is a duplicate);
- `quotes`: rows with stray and unbalanced quotes (read by the `csv` module);
- `no-newline`: text without a single line break.
Each file is validated (`validate_beneficiaries`, as ingestion runs it) in a fresh interpreter whose
peak RSS (VmHWM) is read at the end; the RSS after the imports is the floor. Prints the problems
counted, the seconds and the peak against the limit (600 MB whatever the input size); running two
sizes shows that the peak does not follow the size.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from support import REPO, peak_rss_mb

HEADER = "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses\n"
LIMIT_MB = 600
FLAVOURS = ("rows", "one-id", "quotes", "no-newline")
BATCH = 100_000


def _rows(rng: random.Random, count: int) -> str:
    ages = ["33", "200", "x", "", "-1", "7", "125"]
    amounts = ["12,5", "1e5", "-3", "1,234", "100000000", "", "douze", "0"]
    lines = []
    for _ in range(count):
        fields = [f"G{rng.randrange(50_000)}", rng.choice(ages), rng.choice("0123"), rng.choice("01x"), "0", "0"]
        fields += [rng.choice(["", "10783041963", "123"]), rng.choice(amounts)]
        cut = rng.random()
        if cut < 0.2:
            fields = fields[: rng.randrange(1, 8)]
        elif cut < 0.3:
            fields += ["extra"] * rng.randrange(1, 4)
        lines.append(";".join(fields))
    return "\n".join(lines) + "\n"


def _one_id(rng: random.Random, count: int) -> str:
    return "P1;33;1;0;0;0;10783041963;12,50\n" * count


def _quotes(rng: random.Random, count: int) -> str:
    lines = []
    for index in range(count):
        row = f"Q{index};33;1;0;0;0;;1"
        if rng.random() < 0.01:
            row = row.replace(";", ';"', 1)  # a quote opened in the middle of a field
        lines.append(row)
    return "\n".join(lines) + "\n"


def _no_newline(rng: random.Random, count: int) -> str:
    return "garbage without end " * (2 * count)


GENERATORS = {"rows": _rows, "one-id": _one_id, "quotes": _quotes, "no-newline": _no_newline}


def generate(path: Path, flavour: str, megabytes: int) -> None:
    """Writes `megabytes` MB of the flavour (once: an existing complete file is kept)."""
    if path.is_file() and path.stat().st_size >= megabytes * 1_000_000:
        return
    print(f"generating {path} ({megabytes} MB)…", flush=True)
    rng = random.Random(7)
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(HEADER)
        while handle.tell() < megabytes * 1_000_000:
            handle.write(GENERATORS[flavour](rng, BATCH))
    partial.replace(path)


def phase(path: Path) -> dict:
    """In a fresh interpreter: validate, return the outcome and the peak memory."""
    sys.path.insert(0, str(REPO))
    from calculations.bundle.beneficiaries import validate_beneficiaries
    from calculations.bundle.problems import BundleError

    floor = peak_rss_mb()
    started = time.perf_counter()
    try:
        validated = validate_beneficiaries(path, output=path.with_suffix(".parquet"))
        outcome = f"valid, {validated.rows} rows"
        path.with_suffix(".parquet").unlink()
    except BundleError as error:
        outcome = f"rejected, {error.problem_count:,} problems ({len(error.problems)} kept)"
    return {"seconds": time.perf_counter() - started, "outcome": outcome, "floor_mb": floor, "peak_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=1000, help="size of the largest garbage files")
    parser.add_argument("--flavours", nargs="*", default=list(FLAVOURS), choices=FLAVOURS)
    parser.add_argument("--phase", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.phase:
        print(json.dumps(phase(options.phase)))
        return
    worst = 0.0
    for megabytes in (options.megabytes // 4, options.megabytes):
        directory = REPO / "bench" / "data" / f"garbage-{megabytes}"
        directory.mkdir(parents=True, exist_ok=True)
        for flavour in options.flavours:
            path = directory / f"beneficiaires_{flavour}.csv"
            generate(path, flavour, megabytes)
            completed = subprocess.run(
                [sys.executable, __file__, "--phase", str(path)], check=True, capture_output=True, text=True
            )
            result = json.loads(completed.stdout.strip().splitlines()[-1])
            worst = max(worst, result["peak_mb"])
            print(
                f"  {megabytes:5} MB {flavour:<11} {result['seconds']:7.1f} s  peak RSS {result['peak_mb']:5.0f} MB "
                f"(after imports {result['floor_mb']:4.0f} MB)  {result['outcome']}",
                flush=True,
            )
    print(f"worst peak RSS: {worst:.0f} MB (limit {LIMIT_MB} MB): {'OK' if worst < LIMIT_MB else 'OVER THE LIMIT'}")


if __name__ == "__main__":
    main()
