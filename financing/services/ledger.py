"""Business actions on the financing ledger (METHODOLOGY section 7): intéressement lines of a paid
campaign, seed credits and status changes (the import of `versements.csv` is in `payments.py`).

Every refusal is an `ActionRefused` (a missing role: `PermissionRefused`) with its French message."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from calculations.models import Campaign
from calculations.services.transitions import actor_user, audit_context
from common.errors import ActionRefused, require_permission
from common.formatting import format_money

from ..models import LedgerLine, Nature, SeedCredit

PAY_CAMPAIGN = "calculations.pay_campaign"
CHANGE_LEDGER = "financing.change_ledgerline"
ADD_LEDGER = "financing.add_ledgerline"


def record_campaign_payments(*, campaign, user) -> list[LedgerLine]:
    """The intéressement lines of a campaign being marked paid: one per groupement result, payment
    year N+1, status paid, amount = `GroupementResult.final_amount`. Exactly once: calling it again
    returns the lines already recorded and creates none (unique campaign + groupement + nature).

    When the campaign supersedes campaigns that were already paid, each line is the difference
    between the new final amount and what those versions already paid the groupement (so a
    correction never pays twice; it may be negative, a recovery).
    """
    require_permission(user, PAY_CAMPAIGN, "enregistrer au grand livre les versements d'une campagne")
    if not campaign.status_properties.payable:
        raise ActionRefused(
            f"La campagne {campaign.year} v{campaign.version} n'est ni publiée ni payée : ses versements ne peuvent pas être enregistrés."
        )
    with audit_context(user), transaction.atomic():
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
    campaign; any other amount is a conflict that must be resolved by hand. An imported recovery of
    that year is money taken back (of an earlier overpayment), not the campaign's payment: it is left
    as it is, and neither adopted nor a conflict."""
    missing = {r.groupement_id: r for r in results if r.groupement_id not in existing}
    imported = (
        LedgerLine.objects.select_for_update(of=("self",))
        .order_by("pk")
        .filter(
            nature=Nature.INCENTIVE,
            campaign__isnull=True,
            recovery=False,
            year=campaign.year + 1,
            groupement__in=list(missing),
        )
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
        raise ActionRefused(
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
        raise ActionRefused("Le montant ne peut pas être négatif.")
    with audit_context(user), transaction.atomic():
        credit = (
            SeedCredit.objects.select_for_update()
            .filter(groupement=groupement, year=year, campaign__isnull=True)
            .order_by("pk")
            .first()
        )
        if credit is None:
            require_permission(user, "financing.add_seedcredit", "enregistrer des crédits d'amorçage")
            credit = SeedCredit(groupement=groupement, year=year, recorded_by=actor_user(user))
        else:
            require_permission(user, "financing.change_seedcredit", "modifier des crédits d'amorçage")
            if credit.status == LedgerLine.Status.PAID:
                raise ActionRefused(paid_seed_credit_refusal(credit))
        credit.amount = amount
        credit.status = status
        try:
            credit.full_clean()
        except ValidationError as error:
            raise ActionRefused(error.messages) from None
        credit.save()
    return credit


def mark_lines_paid(*, lines, user) -> int:
    """Mark planned ledger lines paid (now); returns how many changed."""
    require_permission(user, CHANGE_LEDGER, "marquer payées des lignes du grand livre")
    ids = [line.pk for line in lines]
    with audit_context(user):
        return LedgerLine.objects.filter(pk__in=ids, status=LedgerLine.Status.PLANNED).update(
            status=LedgerLine.Status.PAID, paid_at=timezone.now()
        )
