"""What a campaign announces. Documents (reports) and money (financing) react from their own apps.

`campaign_transitioned` is sent by `transitions.apply_transition`, inside the transaction of the status
change, once the new status and its audit record are saved. A receiver that writes in the database
(the ledger lines of a paid campaign) does so in that same transaction, and its error undoes the
transition; one that draws documents or sends e-mails defers its work with `transaction.on_commit`.

Arguments: `campaign` (locked, new status saved), `transition` (its name in `TRANSITIONS`),
`previous` (the former status) and `actor` (a user or a system actor).
"""

from django.dispatch import Signal

campaign_transitioned = Signal()

# Sent by the campaign's admin page (arguments `campaign`, `request`) to show what the apps reacting to
# the campaign know of it (the statements' rendering): each receiver returns safe HTML, or None.
campaign_page_panels = Signal()
