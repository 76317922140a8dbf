"""The rules of METHODOLOGY.md section 3 for the national beneficiaries file, each written once.

`rule_table(delimiter)` lists every rule: its column, a stable name (problems past the report limit
are counted per name), the Polars expression that is true when a value breaks it, and its reason.
Every reading path evaluates these same expressions: the optimistic pass only asks whether a row
breaks none, the diagnosis asks which one, on Polars-read rows or on the rows the `csv` module read.

The rules of one column are ordered: a rule is judged only when the earlier rules of its column hold
(an empty age is "required", not also "not an integer"), and a row reports at most one problem per
column, in column order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from ..reasons import number, one_of, quoted, reason

# The CONTRACT of a validated frame (see the package docstring).
BENEFICIARY_SCHEMA = {
    "id_patient": pl.String,
    "age": pl.Int16,
    "sexe": pl.Int8,
    "ald": pl.Int8,
    "css": pl.Int8,
    "deces": pl.Int8,
    "rpps_mt": pl.String,
    "depenses_cents": pl.Int64,
}
REQUIRED_COLUMNS = ("id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses")
# Integer columns and their inclusive ranges (ald, css, deces are booleans 0/1).
INTEGER_RANGES = {"age": (0, 125), "sexe": (1, 2), "ald": (0, 1), "css": (0, 1), "deces": (0, 1)}
BOOLEAN_COLUMNS = ("ald", "css", "deces")
# 0 ≤ depenses < 100 000 000 € with at most 2 decimals: every sum of cents fits an Int64 even at 68 M rows.
MONEY_PLACES = 2
MONEY_LIMIT_EUROS = 100_000_000
MONEY_LIMIT_CENTS = MONEY_LIMIT_EUROS * 10**MONEY_PLACES
INT64_MAX = 2**63 - 1
# Beyond this many rows even valid amounts could sum past an Int64 (Polars would wrap silently).
MAX_SUMMABLE_ROWS = INT64_MAX // (MONEY_LIMIT_CENTS - 1)

INTEGER_PATTERN = r"^-?[0-9]+$"
RPPS_PATTERN = r"^[0-9]{11}$"
SHOWN_VALUE_LENGTH = 40


@dataclass(frozen=True)
class Field:
    """One column of the rows being checked, as the rules see it."""

    empty: pl.Expr
    text: pl.Expr | None  # the value as written, trimmed; None when the reader typed the column
    integer_form: pl.Expr  # the text is `-?[0-9]+`
    integer: pl.Expr  # its Int64 value (null when it is not an integer or does not fit)
    cents: pl.Expr | None = None  # money: its exact cents (see `cents`)

    @classmethod
    def of_text(cls, text: pl.Expr, *, integer: pl.Expr | None = None, cents: pl.Expr | None = None) -> Field:
        """`integer` and `cents`, when given, hold the value already computed in a column."""
        integer = text.cast(pl.Int64, strict=False) if integer is None else integer
        return cls(text == "", text, text.str.contains(INTEGER_PATTERN), integer, cents)

    @classmethod
    def of_reader_integer(cls, value: pl.Expr) -> Field:
        """An integer column parsed by the CSV reader (null when empty or unparsable). Only for bytes
        without `+` or whitespace: there the reader accepts exactly `-?[0-9]+`, so its parse is the
        integer rule, and a value it could not parse fails the row as an empty one would (the
        diagnosis, on text, then says which rule it breaks)."""
        return cls(value.is_null(), None, pl.lit(True), value)


@dataclass(frozen=True)
class Rule:
    column: str
    name: str
    broken: Callable[[Field], pl.Expr]  # true when the value breaks the rule (earlier rules of the column hold)
    reason: str  # French (calculations.bundle.reasons); `{value}` is the value as written, between « »

    def explain(self, value: str) -> str:
        return self.reason.replace("{value}", quoted(value, SHOWN_VALUE_LENGTH))


def decimal_pattern(delimiter: str, places: str = "+") -> str:
    """`digits[.digits]` (or `,` in a `;` file), an optional leading `-`: no exponent, no `+`, no
    thousands separator."""
    separator = "[.,]" if delimiter == ";" else r"\."
    return rf"^-?[0-9]+({separator}[0-9]{places})?$"


def cents(text: pl.Expr, delimiter: str) -> pl.Expr:
    """Exact cents of a decimal text of at most 2 places (the integer of a Decimal(18, 2)); null when
    it does not fit, which only happens far above the money limit."""
    if delimiter == ";":
        text = text.str.replace(",", ".", literal=True)
    return text.cast(pl.Decimal(18, MONEY_PLACES), strict=False).to_physical().cast(pl.Int64)


def _integer_rules(column: str) -> tuple[Rule, ...]:
    low, high = INTEGER_RANGES[column]
    if column in BOOLEAN_COLUMNS:
        last = Rule(
            column,
            "boolean",
            lambda f: ~f.integer.is_between(low, high).fill_null(False),
            reason("boolean", value="{value}"),
        )
    else:
        last = Rule(
            column,
            "range",
            lambda f: ~f.integer.is_between(low, high).fill_null(False),
            reason("range", low=low, high=high, value="{value}"),
        )
    return (
        Rule(column, "required", lambda f: f.empty, reason("required")),
        Rule(column, "integer", lambda f: ~f.integer_form, reason("integer", value="{value}")),
        last,
    )


def _money_rules(delimiter: str) -> tuple[Rule, ...]:
    separators = one_of(".,") if delimiter == ";" else quoted(".")
    decimal = decimal_pattern(delimiter)
    two_places = decimal_pattern(delimiter, f"{{1,{MONEY_PLACES}}}")
    return (
        Rule("depenses", "required", lambda f: f.empty, reason("required")),
        Rule(
            "depenses",
            "decimal",
            lambda f: ~f.text.str.contains(decimal),
            reason("money_decimal", separators=separators, value="{value}"),
        ),
        Rule(
            "depenses",
            "decimal_places",
            lambda f: ~f.text.str.contains(two_places),
            reason("money_places", places=MONEY_PLACES, value="{value}"),
        ),
        # After the places: the cents are then exact, and `-0,00` is zero, not negative.
        Rule(
            "depenses",
            "negative",
            lambda f: f.text.str.starts_with("-") & (f.cents != 0).fill_null(True),
            reason("negative", value="{value}"),
        ),
        Rule(
            "depenses",
            "range",
            lambda f: ~(f.cents < MONEY_LIMIT_CENTS).fill_null(False),
            reason("money_range", limit=number(MONEY_LIMIT_EUROS), value="{value}"),
        ),
    )


def rule_table(delimiter: str) -> tuple[Rule, ...]:
    """Every rule of a beneficiaries file, column by column in REQUIRED_COLUMNS order (the decimal
    separator depends on the delimiter)."""
    return (
        Rule("id_patient", "required", lambda f: f.empty, reason("required")),
        *(rule for column in INTEGER_RANGES for rule in _integer_rules(column)),
        Rule(
            "rpps_mt",
            "rpps",
            lambda f: ~f.empty & ~f.text.str.contains(RPPS_PATTERN),
            reason("rpps", value="{value}"),
        ),
        *_money_rules(delimiter),
    )


def rule_fields(*, reader_integers: bool, delimiter: str) -> tuple[list[pl.Expr], dict[str, Field]]:
    """The fields of rows holding one (trimmed) column per required column, for the rules; and the
    columns to add first: the values several rules read (integers, cents), computed once, as the
    streaming engine computes a shared sub-expression again for each expression that holds it.
    `reader_integers`: the integer columns were typed by the CSV reader (see `Field.of_reader_integer`)."""
    derived: list[pl.Expr] = []
    fields: dict[str, Field] = {}
    for column in REQUIRED_COLUMNS:
        value = pl.col(column)
        if column in INTEGER_RANGES and reader_integers:
            fields[column] = Field.of_reader_integer(value)
        elif column in INTEGER_RANGES:
            derived.append(value.cast(pl.Int64, strict=False).alias(f"__integer_{column}"))
            fields[column] = Field.of_text(value, integer=pl.col(f"__integer_{column}"))
        elif column == "depenses":
            derived.append(cents(value, delimiter).alias("__cents"))
            fields[column] = Field.of_text(value, cents=pl.col("__cents"))
        else:
            fields[column] = Field.of_text(value)
    return derived, fields


def rules_by_column(rules: tuple[Rule, ...]) -> dict[str, list[Rule]]:
    grouped: dict[str, list[Rule]] = {column: [] for column in REQUIRED_COLUMNS}
    for rule in rules:
        grouped[rule.column].append(rule)
    return grouped


def breaks_none(rules: tuple[Rule, ...], fields: dict[str, Field]) -> pl.Expr:
    """True when the row breaks no rule (the optimistic pass's verdict)."""
    return ~pl.any_horizontal(*(rule.broken(fields[rule.column]) for rule in rules))


def first_broken(rules: list[Rule], field: Field) -> pl.Expr:
    """The 1-based index, among one column's `rules`, of the first rule the value breaks; 0 when none."""
    code = pl.lit(0, pl.UInt8)
    for index in range(len(rules), 0, -1):
        code = pl.when(rules[index - 1].broken(field)).then(pl.lit(index, pl.UInt8)).otherwise(code)
    return code


def typed_columns(fields: dict[str, Field]) -> list[pl.Expr]:
    """The CONTRACT columns from the fields (meaningful for rows that break no rule)."""
    rpps = fields["rpps_mt"].text
    return [
        fields["id_patient"].text.alias("id_patient"),
        *(fields[c].integer.cast(BENEFICIARY_SCHEMA[c], strict=False).alias(c) for c in INTEGER_RANGES),
        pl.when(rpps == "").then(None).otherwise(rpps).alias("rpps_mt"),
        fields["depenses"].cents.alias("depenses_cents"),
    ]
