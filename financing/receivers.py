"""How money reacts to a campaign's transitions (`calculations.signals.campaign_transitioned`).

When a campaign is paid, its intéressement lines are written to the ledger in the transaction of the
status change (the signal is sent inside it): if they cannot be written (an imported line with
another amount, a lost permission…), the error undoes the payment, so a campaign is never « payée »
without its lines, nor the reverse.
"""

from __future__ import annotations

from .services import ledger


def record_payments_of_paid_campaign(sender, *, campaign, transition, actor, **kwargs) -> None:
    if transition == "pay":
        ledger.record_campaign_payments(campaign=campaign, user=actor)
