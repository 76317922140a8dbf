"""What the benchmarks share: the generated national files and the peak-memory reading.

Not named `common`: the bench directory is first on sys.path when a script runs, and would hide the
project's `common` package.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the clone; a worktree elsewhere names it with IPEP_SHARED (the generator lives only there).
SHARED = Path(os.environ.get("IPEP_SHARED", REPO.parent / "shared"))
GENERATOR = SHARED / "tools" / "gen_bundle.py"
# The golden bundle: ../shared when present, else the copy kept in demo/ (as the tests do).
GOLDEN = SHARED / "data" / "golden-2022"
if not GOLDEN.is_dir():
    GOLDEN = REPO / "demo" / "golden-2022"
YEAR = 2022
SEED = 7
GROUPEMENTS = 12
GENERATED_MARKER = ".generated"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def size_label(patients: int) -> str:
    return f"{patients // 1_000_000}m" if patients % 1_000_000 == 0 else str(patients)


def generate_beneficiaries(directory: Path, patients: int, *, reference_files: bool = False) -> bool:
    """Generate `beneficiaires_Y.csv` files (and the reference files of the bundle with
    `reference_files`) into `directory` with gen_bundle.py, unless the files of these same arguments
    are already there (a file put there by hand, without marker, is kept). Returns whether files were
    generated."""
    arguments = [
        "--year",
        str(YEAR),
        "--patients",
        str(patients),
        "--groupements",
        str(GROUPEMENTS),
        "--seed",
        str(SEED),
        *([] if reference_files else ["--only-beneficiaries"]),
    ]
    marker = directory / GENERATED_MARKER
    present = (directory / f"beneficiaires_{YEAR}.csv").is_file()
    if present and (not marker.is_file() or marker.read_text() == " ".join(arguments)):
        return False
    if not GENERATOR.is_file():
        raise SystemExit(f"{GENERATOR} not found: set IPEP_SHARED to the directory holding tools/gen_bundle.py")
    print(f"generating {patients:,} patients a year in {directory} (a few minutes for 10 M)…", flush=True)
    started = time.perf_counter()
    # gen_bundle.py's own draws, its row-by-row write done by Polars (bench/fastgen.py): checked byte for
    # byte against the unmodified generator on a small population first.
    fastgen = Path(__file__).with_name("fastgen.py")
    subprocess.run([sys.executable, "-c", "import fastgen; fastgen.verify()"], cwd=fastgen.parent, check=True)
    subprocess.run([sys.executable, str(fastgen), str(directory), *arguments], check=True)
    marker.write_text(" ".join(arguments))
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return True


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM restarts at exec, whereas ru_maxrss of a child process
    also counts the parent's pages it was forked with."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
