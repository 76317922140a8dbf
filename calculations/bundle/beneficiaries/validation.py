"""Validating a beneficiaries file: which passes run, in what order, and what comes out."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..csvformat import SNIFF_BYTES, binary_kind
from ..problems import DEFAULT_LIMIT, BundleError, Problem
from ..reasons import number, reason
from . import reading
from .bytescan import MAX_LINE_BYTES, ByteFacts, header_encoding, scan_bytes, transcode_to_utf8
from .checking import PassResult, check_rows, pass_result
from .duplicates import find_duplicates, may_have_duplicates
from .progress import Progress, ProgressCallback, ProgressPart, run_with_progress
from .publishing import publish
from .report import duplicate_problems, failing_row_problems, first_problems, malformed_problem
from .rules import MAX_SUMMABLE_ROWS, Rule, rule_table

BYTES_SHARE = 0.15  # of the progress bar, when the bytes are scanned here


@dataclass(frozen=True)
class FileFacts:
    """Identity and form of a validated file."""

    size: int
    sha256: str
    encoding: str  # "utf-8" (a BOM is allowed) or "cp1252"


@dataclass
class ValidatedFile:
    """A beneficiaries file that passed every rule."""

    name: str
    rows: int
    facts: FileFacts | None
    delimiter: str
    warnings: list[Problem] = field(default_factory=list)
    profile: dict = field(default_factory=dict)
    parquet_path: Path | None = None
    path_taken: str = "fast"  # fast | exact | csv: the reading that decided (for tests and logs)


class BeneficiariesError(BundleError):
    """A rejected file: the first `limit` problems in file order, then a count per rule of the rest
    (`more`). Millions of broken rows are never materialised: only the first problems are kept."""


class _NotUtf8(Exception):
    """The reader met bytes that are not UTF-8: the file is Windows-1252 (section 3)."""


def validate_beneficiaries(
    path: Path,
    *,
    display_name: str | None = None,
    output: Path | None = None,
    output_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    byte_facts: ByteFacts | None = None,
    limit: int = DEFAULT_LIMIT,
) -> ValidatedFile:
    """Checks a local beneficiaries CSV against every rule of METHODOLOGY.md section 3 and writes its
    typed Parquet to the local path `output`, or to `output_dir/<sha256>.parquet` (a temporary name,
    then an atomic rename; an existing file of that name is never rewritten).

    Raises `BeneficiariesError` (a `BundleError`) with the problems, as `file:line: column: reason`;
    nothing is written then. `ValidatedFile.facts` (or `facts` of the error) give the SHA-256, computed
    here unless the caller already scanned the bytes (`byte_facts`, from `scan_bytes`).
    """
    path = Path(path)
    name = display_name or path.name
    report = Progress(progress)
    size = path.stat().st_size
    destination = Path(output).parent if output is not None else output_dir
    if destination is not None:
        Path(destination).mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as handle:
        kind = binary_kind(handle.read(SNIFF_BYTES))
    if kind:
        problem = Problem(name, 1, None, reason("not_csv", kind=kind), "not_csv")
        raise _with_facts(BeneficiariesError([problem]), byte_facts or scan_bytes(path), "utf-8")
    facts = byte_facts or scan_bytes(path, progress=report.part(0.0, BYTES_SHARE))
    encoding = header_encoding(path)
    try:
        if facts.long_line is not None:
            text = reason("line_length", size=number(MAX_LINE_BYTES))
            raise BeneficiariesError([Problem(name, facts.long_line, None, text, "line_length")])
        # Scratch files live beside the output so that the final rename stays on one file system.
        with tempfile.TemporaryDirectory(prefix=".beneficiaires-", dir=destination) as scratch:
            scratch = Path(scratch)
            passes = report.part(BYTES_SHARE if byte_facts is None else 0.0, 0.95)
            try:
                validated = _validate_text(path, name, encoding, facts, scratch, passes, limit=limit)
            except _NotUtf8:
                encoding = "cp1252"
                validated = _validate_text(path, name, encoding, facts, scratch, passes, limit=limit)
            validated.facts = FileFacts(size, facts.sha256, encoding)
            if output is None and output_dir is not None:
                output = Path(output_dir) / f"{facts.sha256}.parquet"
            if output is not None:
                publish(scratch / "rows.parquet", Path(output))
                validated.parquet_path = Path(output)
    except BundleError as error:
        _with_facts(error, facts, encoding)
        raise
    report(1.0, "terminé", force=True)
    return validated


def _with_facts(error: BundleError, facts: ByteFacts, encoding: str) -> BundleError:
    error.facts = FileFacts(facts.size, facts.sha256, encoding)  # the caller records a rejected file by its checksum
    return error


def _validate_text(path, name, encoding, facts, scratch, report, *, limit) -> ValidatedFile:
    source = path
    if encoding == "cp1252":
        source = scratch / "utf8.csv"
        transcode_to_utf8(path, source, progress=report.part(0.0, 0.1))
    header, problems, warnings = reading.read_header(source, name)
    if header is None:
        raise BeneficiariesError(problems, warnings)
    try:
        return _validate_rows(source, header, name, facts, scratch, report, limit=limit, warnings=warnings)
    except pl.exceptions.ComputeError as exc:
        if encoding == "utf-8" and "utf-8" in str(exc).lower():
            raise _NotUtf8 from exc
        raise


def _validate_rows(source, header, name, facts, scratch, report, *, limit, warnings) -> ValidatedFile:
    """The optimistic pass when the file allows it: one read proves it clean; anything else (a broken
    row, a repeated id hash, a row the reader refuses) goes to the diagnosis, which says what is wrong
    where. The `csv` module reads what Polars cannot read or cannot map to physical lines."""
    rules = rule_table(header.delimiter)
    hashes = scratch / "hashes.parquet"
    run = _Runner(rules, header, scratch, report, facts.size, limit)
    result, path_taken, malformed = None, "fast", []
    if reading.optimistic_possible(header, facts):
        result = run.polars(lambda: reading.optimistic_rows(source, header))
        if result is not None and (result.broken_rows or may_have_duplicates(hashes, result.rows)):
            result = None
    if result is None:
        path_taken = "exact"
        if not facts.has_quotes:
            result = run.polars(lambda: reading.split_rows(source, header))
        elif run.readable(lambda: reading.quotes_keep_lines(source, header)):
            result = run.polars(lambda: reading.quoted_rows(source, header))
    if result is None:
        # Quoted line breaks (rows are not lines), a stray quote, or a quoted file with a wrong field
        # count (which a Polars row does not show).
        path_taken = "csv"
        rows, malformed = run_with_progress(
            lambda: reading.csv_module_rows(source, header, scratch / "records", name),
            expected_bytes=facts.size,
            report=report.part(0.0, 0.5),
            label="lecture des lignes",
        )
        result = run.rows(rows, report.part(0.5, 1.0))
    totals = Counter(result.rule_counts)
    candidates = list(failing_row_problems(result, rules, width=header.width)) if result.failing is not None else []
    if path_taken != "fast" and result.rows and may_have_duplicates(hashes, result.rows):
        duplicates, shown = find_duplicates(scratch / "rows.parquet", hashes, result.rows, limit=limit)
        totals["duplicate"] += duplicates
        candidates += duplicate_problems(shown)
    for problem in malformed:
        totals[problem.rule] += 1
        candidates.append(malformed_problem(problem))
    if candidates:
        problems, more = first_problems(name, candidates, totals, limit=limit)
        raise BeneficiariesError(problems, warnings, more)
    if result.rows > MAX_SUMMABLE_ROWS:
        # 922 million rows: the profile's Int64 sum of cents could have wrapped; refused, never shown wrong.
        text = reason("too_many_rows", rows=number(result.rows), limit=number(MAX_SUMMABLE_ROWS))
        raise BeneficiariesError([Problem(name, None, None, text, "too_many_rows")], warnings)
    if result.rows == 0:
        raise BeneficiariesError([Problem(name, header.line + 1, None, reason("no_rows"), "no_rows")], warnings)
    return ValidatedFile(name, result.rows, None, header.delimiter, warnings, result.profile, None, path_taken)


@dataclass
class _Runner:
    """Runs one pass of the rules (`checking`) over rows, with progress."""

    rules: tuple[Rule, ...]
    header: reading.Header
    scratch: Path
    report: ProgressPart
    size: int
    limit: int

    def polars(self, rows) -> PassResult | None:
        """A pass over rows Polars reads from the file; None when Polars cannot read them (a row longer
        than the header, an unbalanced quote…)."""
        return self.readable(lambda: self.rows(rows(), self.report))

    @staticmethod
    def readable(work):
        """`work()`, or None when Polars fails to read the file (but for bytes that are not UTF-8)."""
        try:
            return work()
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.ShapeError) as exc:
            if "utf-8" in str(exc).lower():
                raise
            return None

    def rows(self, rows, report) -> PassResult:
        queries = check_rows(
            rows,
            self.rules,
            width=self.header.width,
            delimiter=self.header.delimiter,
            target=self.scratch / "rows.parquet",
            hashes=self.scratch / "hashes.parquet",
            limit=self.limit,
        )
        frames = run_with_progress(
            lambda: pl.collect_all(queries, engine="streaming"),
            expected_bytes=self.size,
            report=report,
            label="validation détaillée des lignes" if rows.numbered else "validation des lignes",
        )
        return pass_result(frames, self.rules)


def scan_beneficiaries(path: Path, *, warnings: list[Problem] | None = None) -> pl.LazyFrame:
    """A lazy frame of validated beneficiaries (CONTRACT columns) from a Parquet file written by
    ingestion, or from a CSV, validated fully first (BundleError with every problem when it breaks a
    rule; its warnings, such as unknown columns, are added to `warnings`)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    with tempfile.TemporaryDirectory(prefix="beneficiaires-scan-") as scratch:
        output = Path(scratch) / "beneficiaires.parquet"
        validated = validate_beneficiaries(path, output=output)
        frame = pl.read_parquet(output)
    if warnings is not None:
        warnings.extend(validated.warnings)
    return frame.lazy()
