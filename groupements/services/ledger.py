"""Business actions on the financing ledger (METHODOLOGY section 7): intéressement lines of a paid
campaign, seed credits, status changes and the import of `versements.csv`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from calculations.bundle.csvformat import MAX_YEAR, MIN_YEAR, Column, TableReader
from calculations.bundle.problems import ProblemCollector
from calculations.services.transitions import actor_user
from common.formatting import format_money

from ..models import Groupement, LedgerLine, SeedCredit
from ..models.ledger import GROUPEMENT_NATURES, PILOT_NATURES, Nature

PAY_CAMPAIGN = "calculations.pay_campaign"
CHANGE_LEDGER = "groupements.change_ledgerline"
ADD_LEDGER = "groupements.add_ledgerline"


def require_permission(user, permission: str) -> None:
    """PermissionDenied unless `user` has the role permission (the ledger and pilot-project services)."""
    if user is None or not user.has_perm(permission):
        raise PermissionDenied(f"Permission requise : {permission}.")


def record_campaign_payments(*, campaign, user) -> list[LedgerLine]:
    """The intéressement lines of a campaign being marked paid: one per groupement result, payment
    year N+1, status paid, amount = `GroupementResult.final_amount`. Exactly once: calling it again
    returns the lines already recorded and creates none (unique campaign + groupement + nature).

    When the campaign supersedes campaigns that were already paid, each line is the difference
    between the new final amount and what those versions already paid the groupement (so a
    correction never pays twice; it may be negative, a recovery).
    """
    require_permission(user, PAY_CAMPAIGN)
    if not campaign.status_properties.payable:
        raise ValidationError(
            f"La campagne {campaign.year} v{campaign.version} n'est ni publiée ni payée : ses versements ne peuvent pas être enregistrés."
        )
    from calculations.models import Campaign

    with transaction.atomic():
        # Serialises concurrent calls for the same campaign (the second one then finds the lines).
        list(Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk", flat=True))
        earlier_versions = []
        previous = campaign.supersedes
        while previous is not None:
            earlier_versions.append(previous.pk)
            previous = previous.supersedes
        already_paid = {
            row["groupement"]: row["total"]
            for row in LedgerLine.objects.filter(campaign__in=earlier_versions, nature=Nature.INCENTIVE)
            .values("groupement")
            .annotate(total=Sum("amount"))
        }
        existing = {
            line.groupement_id: line for line in LedgerLine.objects.filter(campaign=campaign, nature=Nature.INCENTIVE)
        }
        results = list(campaign.results.select_related("groupement").order_by("code"))
        imported = _adopt_imported_lines(
            campaign=campaign, results=results, existing=existing, already_paid=already_paid
        )
        existing.update(imported)
        lines = []
        now = timezone.now()
        for result in results:
            line = existing.get(result.groupement_id)
            if line is None:
                line = LedgerLine.objects.create(
                    groupement=result.groupement,
                    year=campaign.year + 1,
                    nature=Nature.INCENTIVE,
                    amount=result.final_amount - already_paid.get(result.groupement_id, Decimal("0.00")),
                    campaign=campaign,
                    status=LedgerLine.Status.PAID,
                    label=f"Intéressement {campaign.year} (campagne v{campaign.version})",
                    recorded_by=actor_user(user),
                    paid_at=now,
                )
            lines.append(line)
    return lines


def _adopt_imported_lines(*, campaign, results, existing, already_paid) -> dict:
    """Intéressement lines of year N+1 imported from versements.csv before the campaign was marked
    paid: one with exactly the campaign's amount is the same payment and is attached to the
    campaign; any other amount is a conflict that must be resolved by hand."""
    missing = {r.groupement_id: r for r in results if r.groupement_id not in existing}
    imported = (
        LedgerLine.objects.select_for_update(of=("self",))
        .order_by("pk")
        .filter(nature=Nature.INCENTIVE, campaign__isnull=True, year=campaign.year + 1, groupement__in=list(missing))
    )
    adopted, conflicts = {}, []
    for line in imported.select_related("groupement"):
        expected = missing[line.groupement_id].final_amount - already_paid.get(line.groupement_id, Decimal("0.00"))
        if line.amount == expected:
            line.campaign = campaign
            line.save(update_fields=["campaign"])
            adopted[line.groupement_id] = line
        else:
            conflicts.append(
                f"{line.groupement.code} : {format_money(line.amount)} déjà enregistrés pour {line.year}, {format_money(expected)} calculés"
            )
    if conflicts:
        raise ValidationError(
            f"Intéressement {campaign.year} déjà présent au grand livre avec un autre montant (import) : "
            + " ; ".join(conflicts)
            + "."
        )
    return adopted


def paid_seed_credit_refusal(credit: LedgerLine) -> str:
    return f"Les crédits d'amorçage {credit.year} de {credit.groupement.code} sont déjà payés : ils ne peuvent plus être modifiés."


def record_seed_credit(
    *, groupement, year: int, amount: Decimal, user, status: str = LedgerLine.Status.PLANNED
) -> SeedCredit:
    """Record (or update) the crédits d'amorçage of a groupement for a payment year: its `amorcage`
    ledger line. A paid seed credit is not changed."""
    amount = Decimal(amount)
    if amount < 0:
        raise ValidationError({"amount": "Le montant ne peut pas être négatif."})
    with transaction.atomic():
        credit = (
            SeedCredit.objects.select_for_update()
            .filter(groupement=groupement, year=year, campaign__isnull=True)
            .order_by("pk")
            .first()
        )
        require_permission(user, "groupements.add_seedcredit" if credit is None else "groupements.change_seedcredit")
        if credit is None:
            credit = SeedCredit(groupement=groupement, year=year, recorded_by=actor_user(user))
        elif credit.status == LedgerLine.Status.PAID:
            raise ValidationError(paid_seed_credit_refusal(credit))
        credit.amount = amount
        credit.status = status
        credit.full_clean()
        credit.save()
    return credit


def mark_lines_paid(*, lines, user) -> int:
    """Mark planned ledger lines paid (now); returns how many changed."""
    require_permission(user, CHANGE_LEDGER)
    ids = [line.pk for line in lines]
    return LedgerLine.objects.filter(pk__in=ids, status=LedgerLine.Status.PLANNED).update(
        status=LedgerLine.Status.PAID, paid_at=timezone.now()
    )


# ---------------------------------------------------------------------------------------------
# versements.csv (METHODOLOGY section 3): historical or external payments to groupements.

PAYMENTS_FILE = "versements.csv"
PAYMENT_COLUMNS = [
    Column("code_groupement"),
    Column("annee", "int", minimum=MIN_YEAR, maximum=MAX_YEAR),
    Column("nature"),
    Column("montant", "decimal", places=2),
]


@dataclass
class PaymentImportSummary:
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.counts
        return [f"versements : {c['created']} créé(s), {c['updated']} modifié(s), {c['unchanged']} inchangé(s)"]


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
            collector.add(name, record.line, "code_groupement", f"unknown groupement {code!r}", "unknown_groupement")
            ok = False
        if nature in PILOT_NATURES:
            collector.add(
                name,
                record.line,
                "nature",
                f"nature {nature!r} concerns pilot projects: record it on the pilot project, not in versements.csv",
                "pilot_nature",
            )
            ok = False
        elif nature is not None and nature not in GROUPEMENT_NATURES:
            collector.add(
                name,
                record.line,
                "nature",
                f"unknown nature {nature!r} (expected amorcage or interessement)",
                "unknown_nature",
            )
            ok = False
        if not ok:
            continue
        row = (code, year, nature, amount)
        key = (code, year, nature)
        if row in seen_rows:
            collector.add(name, record.line, None, f"duplicate of line {seen_rows[row]}", "duplicate_row")
        elif key in seen_keys:
            collector.add(
                name,
                record.line,
                None,
                f"a line for groupement {code}, year {year}, nature {nature} already appears at line {seen_keys[key]}",
                "duplicate_key",
            )
        else:
            valid.append((record, groupement))
        seen_rows.setdefault(row, record.line)
        seen_keys.setdefault(key, record.line)
    # An intéressement already paid from a campaign must not be imported a second time.
    from_campaigns = {
        (line.groupement_id, line.year): line.campaign
        for line in LedgerLine.objects.filter(
            nature=Nature.INCENTIVE, campaign__isnull=False, groupement__in=groupements.values()
        ).select_related("campaign")
    }
    for record, groupement in valid:
        campaign = from_campaigns.get((groupement.pk, record["annee"]))
        if record["nature"] == Nature.INCENTIVE and campaign is not None:
            collector.add(
                name,
                record.line,
                None,
                f"the intéressement of {groupement.code} paid in {record['annee']} is already recorded from campaign {campaign.year} v{campaign.version}",
                "paid_by_campaign",
            )
    return valid


def import_payments(*, path: Path, user, display_name: str | None = None) -> PaymentImportSummary:
    """Import `versements.csv` (columns code_groupement, annee, nature, montant) as paid ledger lines.

    All or nothing: every problem is collected and `BundleError` is raised before anything is
    written. A line whose groupement, year and nature already exist (outside campaigns) is updated,
    so importing the same file twice changes nothing.
    """
    require_permission(user, ADD_LEDGER)
    name = display_name or Path(path).name
    collector = ProblemCollector()
    records = TableReader(Path(path), PAYMENT_COLUMNS, collector, display_name=name).read()
    valid = _check_payment_rows(records, collector, name)
    collector.problems.sort(key=lambda problem: problem.line or 0)
    collector.raise_if_any()
    summary = PaymentImportSummary(warnings=[str(w) for w in collector.warnings])
    now = timezone.now()
    with transaction.atomic():
        for record, groupement in valid:
            lookup = {
                "groupement": groupement,
                "year": record["annee"],
                "nature": record["nature"],
                "campaign__isnull": True,
            }
            line = LedgerLine.objects.select_for_update().filter(**lookup).order_by("pk").first()
            if line is None:
                LedgerLine.objects.create(
                    groupement=groupement,
                    year=record["annee"],
                    nature=record["nature"],
                    amount=record["montant"],
                    status=LedgerLine.Status.PAID,
                    label=f"Import {name}",
                    recorded_by=actor_user(user),
                    paid_at=now,
                )
                summary.counts["created"] += 1
            elif line.amount != record["montant"] or line.status != LedgerLine.Status.PAID:
                line.amount = record["montant"]
                line.status = LedgerLine.Status.PAID
                line.paid_at = line.paid_at or now
                line.save(update_fields=["amount", "status", "paid_at"])
                summary.counts["updated"] += 1
            else:
                summary.counts["unchanged"] += 1
    return summary
