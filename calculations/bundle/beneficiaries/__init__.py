"""The yearly national beneficiaries file (METHODOLOGY.md section 3): validation in bounded memory
and the typed frame the engine reads.

CONTRACT (used by the engine, `simulate`, and dataset ingestion). A validated beneficiaries frame has
exactly these columns:

    id_patient: String, age: Int16, sexe: Int8, ald: Int8, css: Int8, deces: Int8,
    rpps_mt: String (null when empty), depenses_cents: Int64 (exact integer cents)

`depenses_cents` keeps money exact (sums and percentiles in integers); `depenses_cents / 100` is the
nearest double of the written decimal.

By concern:

- `rules`: the rule table, each section-3 rule written once as a Polars expression;
- `bytescan`: one pass over the bytes (SHA-256, what the optimistic pass may trust, encoding);
- `reading`: the header, then rows from Polars (optimistic or as text) or from the `csv` module;
- `checking`: one streaming pass of the rules (typed Parquet, row hashes, profile, diagnosis);
- `duplicates`: duplicate ids in bounded memory; `profile`; `report`: the first problems;
- `publishing`: the atomic rename into place; `progress`; `validation`: the order of the passes.

Problems are reported as `file:line: column: reason` (physical lines, the header is line 1 or the
first non-blank line): the first 100 in file order, then a count per rule.
"""

from .bytescan import ByteFacts, scan_bytes
from .rules import BENEFICIARY_SCHEMA, REQUIRED_COLUMNS
from .validation import BeneficiariesError, FileFacts, ValidatedFile, scan_beneficiaries, validate_beneficiaries

__all__ = [
    "BENEFICIARY_SCHEMA",
    "REQUIRED_COLUMNS",
    "BeneficiariesError",
    "ByteFacts",
    "FileFacts",
    "ValidatedFile",
    "scan_beneficiaries",
    "scan_bytes",
    "validate_beneficiaries",
]
