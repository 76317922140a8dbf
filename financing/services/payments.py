"""versements.csv (METHODOLOGY section 3): historical or external payments to groupements, imported
as paid ledger lines, all or nothing.

`montant` is the only value of a bundle that may carry a leading `-`: the line is then a *recovery*
(money taken back from the groupement), stored as a negative paid line flagged `recovery`. Every other
rule of a decimal holds (no `+`, no exponent, no space after the sign, at most 2 decimals); `-0` is zero,
a payment of nothing, as `0`.

Duplicates: one payment and one recovery at most per groupement, payment year and nature. A recovery
may share its key with a payment: `annee` is the year the money moved, and the recovery of an earlier
overpayment is booked in a year that has its own payment (they are two movements; the FISS report, by
payment year, nets them). An intéressement recovery is not « already paid by a campaign »: only a
payment line can be the payment a campaign recorded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from calculations.bundle.csvformat import MAX_YEAR, MIN_YEAR, Column, TableReader
from calculations.bundle.problems import ProblemCollector
from calculations.bundle.reasons import one_of, quoted, reason
from calculations.services.transitions import actor_user, audit_context
from common.errors import require_permission
from groupements.models import Groupement

from ..models import GROUPEMENT_NATURES, PILOT_NATURES, LedgerLine, Nature
from .ledger import ADD_LEDGER

PAYMENTS_FILE = "versements.csv"
PAYMENT_COLUMNS = [
    Column("code_groupement"),
    Column("annee", "int", minimum=MIN_YEAR, maximum=MAX_YEAR),
    Column("nature"),
    Column("montant", "decimal", negative=True, places=2),  # negative: a recovery
]


@dataclass
class PaymentImportSummary:
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.counts
        return [f"versements : {c['created']} créé(s), {c['updated']} modifié(s), {c['unchanged']} inchangé(s)"]


def is_recovery(amount) -> bool:
    """A `montant` written with a leading `-` (and not zero): money taken back from the groupement."""
    return amount < 0


def _check_payment_rows(records, collector: ProblemCollector, name: str):
    """Rules beyond the column types; returns the rows to write as (record, groupement)."""
    groupements = {
        g.code: g
        for g in Groupement.objects.filter(code__in={r["code_groupement"] for r in records if r["code_groupement"]})
    }
    seen_rows: dict[tuple, int] = {}
    seen_keys: dict[tuple, int] = {}
    valid = []
    for record in records:
        code, year, nature, amount = (record[c] for c in ("code_groupement", "annee", "nature", "montant"))
        ok = None not in (code, year, nature, amount)  # a missing or unreadable value is already reported
        groupement = groupements.get(code)
        if code is not None and groupement is None:
            collector.add(
                name,
                record.line,
                "code_groupement",
                reason("unknown_groupement", value=quoted(code)),
                "unknown_groupement",
            )
            ok = False
        if nature in PILOT_NATURES:
            collector.add(
                name,
                record.line,
                "nature",
                reason("pilot_nature", value=quoted(nature)),
                "pilot_nature",
            )
            ok = False
        elif nature is not None and nature not in GROUPEMENT_NATURES:
            collector.add(
                name,
                record.line,
                "nature",
                reason("unknown_nature", value=quoted(nature), allowed=one_of(GROUPEMENT_NATURES)),
                "unknown_nature",
            )
            ok = False
        if not ok:
            continue
        row = (code, year, nature, amount)
        key = (code, year, nature, is_recovery(amount))
        if row in seen_rows:
            collector.add(name, record.line, None, reason("duplicate_row", first=seen_rows[row]), "duplicate_row")
        elif key in seen_keys:
            duplicate = "duplicate_recovery" if is_recovery(amount) else "duplicate_payment"
            collector.add(
                name,
                record.line,
                None,
                reason(duplicate, groupement=code, year=year, nature=nature, first=seen_keys[key]),
                "duplicate_key",
            )
        else:
            valid.append((record, groupement))
        seen_rows.setdefault(row, record.line)
        seen_keys.setdefault(key, record.line)
    # An intéressement already paid from a campaign must not be imported a second time; a recovery is
    # money taken back, never that payment (see the module docstring).
    from_campaigns = {
        (line.groupement_id, line.year): line.campaign
        for line in LedgerLine.objects.filter(
            nature=Nature.INCENTIVE, campaign__isnull=False, groupement__in=groupements.values()
        ).select_related("campaign")
    }
    for record, groupement in valid:
        campaign = from_campaigns.get((groupement.pk, record["annee"]))
        if record["nature"] == Nature.INCENTIVE and campaign is not None and not is_recovery(record["montant"]):
            collector.add(
                name,
                record.line,
                None,
                reason(
                    "paid_by_campaign",
                    groupement=groupement.code,
                    year=record["annee"],
                    campaign=f"{campaign.year} v{campaign.version}",
                ),
                "paid_by_campaign",
            )
    return valid


def import_payments(*, path: Path, user, display_name: str | None = None) -> PaymentImportSummary:
    """Import `versements.csv` (columns code_groupement, annee, nature, montant) as paid ledger lines.

    All or nothing: every problem is collected and `BundleError` is raised before anything is
    written. A line whose groupement, year and nature already exist (outside campaigns) as a payment,
    or as a recovery for a negative `montant`, is updated, so importing the same file twice changes
    nothing.
    """
    require_permission(user, ADD_LEDGER, "importer des versements au grand livre")
    name = display_name or Path(path).name
    collector = ProblemCollector()
    records = TableReader(Path(path), PAYMENT_COLUMNS, collector, display_name=name).read()
    valid = _check_payment_rows(records, collector, name)
    collector.problems.sort(key=lambda problem: problem.line or 0)
    collector.raise_if_any()
    summary = PaymentImportSummary(warnings=[str(w) for w in collector.warnings])
    now = timezone.now()
    with audit_context(user), transaction.atomic():
        for record, groupement in valid:
            amount = abs(record["montant"]) if record["montant"] == 0 else record["montant"]  # `-0` is 0
            recovery = is_recovery(amount)
            lookup = {
                "groupement": groupement,
                "year": record["annee"],
                "nature": record["nature"],
                "campaign__isnull": True,
                "recovery": recovery,
            }
            line = LedgerLine.objects.select_for_update().filter(**lookup).order_by("pk").first()
            if line is None:
                LedgerLine.objects.create(
                    groupement=groupement,
                    year=record["annee"],
                    nature=record["nature"],
                    amount=amount,
                    recovery=recovery,
                    status=LedgerLine.Status.PAID,
                    label=f"Import {name}",
                    recorded_by=actor_user(user),
                    paid_at=now,
                )
                summary.counts["created"] += 1
            elif line.amount != amount or line.status != LedgerLine.Status.PAID:
                line.amount = amount
                line.status = LedgerLine.Status.PAID
                line.paid_at = line.paid_at or now
                line.save(update_fields=["amount", "status", "paid_at"])
                summary.counts["updated"] += 1
            else:
                summary.counts["unchanged"] += 1
    return summary
