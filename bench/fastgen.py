"""../shared/tools/gen_bundle.py with its row-by-row write of the beneficiaries files done by Polars.

    python bench/fastgen.py OUT --year 2022 --patients 68000000 ... (gen_bundle.py's own arguments)

gen_bundle.py spends nearly all of a national run (about 25 minutes a year at 68 M patients) in a
Python loop that writes one row at a time; every random draw happens outside that loop. This runs the
generator's own source with only that loop replaced (its text must match exactly, or this stops), so
the files are byte for byte those of gen_bundle.py: `verify()` checks it on a small population before
every national generation (bench/support.py).
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from support import GENERATOR

ROW_LOOP = """\
            with open(path, "w", newline="", encoding=a.encoding) as f:
                w = csv.writer(f, delimiter=a.delimiter)
                w.writerow(["id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses"])
                for i in sel:
                    w.writerow([ids[i], int(age[i]), int(sex[i]), int(ald[i]), int(css[i]), int(dies[i]),
                                rpps[mt[i]] if mt[i] >= 0 else "", fmt_money(spend[i], decimal_comma)])
"""
VECTORISED = """\
            write_beneficiaries(path, a, decimal_comma, sel, ids, age, sex, ald, css, dies, rpps, mt, spend)
"""
HEADER = ["id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses"]
CHUNK_ROWS = 4_000_000


def write_beneficiaries(path, a, decimal_comma, sel, ids, age, sex, ald, css, dies, rpps, mt, spend) -> None:
    """The rows `sel` as csv.writer writes them: `\\r\\n` line ends, nothing quoted (no field holds the
    delimiter), an empty field for no médecin traitant, `f"{x:.2f}"` money (x is already rounded to the
    cent, so its cents are rint(100·x))."""
    import polars as pl

    decimal = "," if decimal_comma else "."
    with open(path, "wb") as out:
        out.write((a.delimiter.join(HEADER) + "\r\n").encode(a.encoding))
        for start in range(0, len(sel), CHUNK_ROWS):
            rows = sel[start : start + CHUNK_ROWS]
            doctor = mt[rows]
            cents = pl.Series(np.rint(spend[rows] * 100).astype(np.int64))
            frame = pl.DataFrame(
                {
                    "id_patient": pl.Series(ids[rows].astype(str)),
                    "age": age[rows],
                    "sexe": sex[rows],
                    "ald": ald[rows],
                    "css": css[rows],
                    "deces": dies[rows].astype(np.int8),
                    "rpps_mt": pl.Series(rpps[np.maximum(doctor, 0)]),
                    "has_doctor": doctor >= 0,
                    "cents": cents,
                }
            ).select(
                *HEADER[:6],
                pl.when(pl.col("has_doctor")).then(pl.col("rpps_mt")).alias("rpps_mt"),
                pl.format(
                    "{}" + decimal + "{}",
                    pl.col("cents") // 100,
                    (pl.col("cents") % 100).cast(pl.String).str.zfill(2),
                ).alias("depenses"),
            )
            frame.write_csv(out, include_header=False, separator=a.delimiter, line_terminator="\r\n")


def run(arguments: list[str]) -> None:
    source = GENERATOR.read_text(encoding="utf-8")
    if source.count(ROW_LOOP) != 1:
        raise SystemExit(f"{GENERATOR} changed: its row loop is not the one this replaces; run it as it is")
    namespace = {"__name__": "gen_bundle", "write_beneficiaries": write_beneficiaries}
    exec(compile(source.replace(ROW_LOOP, VECTORISED), str(GENERATOR), "exec"), namespace)  # noqa: S102
    sys.argv = [str(GENERATOR), *arguments]
    namespace["main"]()


def verify(patients: int = 30_000) -> None:
    """Both generators on a small population: every file must be identical, byte for byte."""
    arguments = ["--year", "2022", "--patients", str(patients), "--groupements", "12", "--seed", "7"]
    with tempfile.TemporaryDirectory(prefix="fastgen-") as scratch:
        reference, fast = Path(scratch, "reference"), Path(scratch, "fast")
        subprocess.run([sys.executable, str(GENERATOR), str(reference), *arguments], check=True)
        subprocess.run([sys.executable, __file__, str(fast), *arguments], check=True)
        names = sorted(p.name for p in reference.iterdir())
        _, mismatch, errors = filecmp.cmpfiles(reference, fast, names, shallow=False)
        if mismatch or errors or sorted(p.name for p in fast.iterdir()) != names:
            raise SystemExit(f"bench/fastgen.py differs from gen_bundle.py on {mismatch + errors}")


if __name__ == "__main__":
    run(sys.argv[1:])
