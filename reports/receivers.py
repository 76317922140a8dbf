"""How documents react to a campaign's transitions (`calculations.signals.campaign_transitioned`).

Statements are drawn once the transition is committed (never for a status that was rolled back): as
drafts when the campaign is computed, as final statements when it is validated, and again at publication
(with their contestation deadline), which then tells the groupements. Publishing a version, or
superseding one, rebuilds the public results file. A failure here never undoes the transition
(`robust`: logged, the status stays).
"""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string

from . import renderings, services

# Transition name → the service (of reports.services) to call once it is committed.
REACTIONS = {
    "complete": "render_campaign_statements",
    "validate": "render_campaign_statements",
    "publish": "publish_statements",
}


def react_to_transition(sender, *, campaign, transition, **kwargs) -> None:
    reaction = REACTIONS.get(transition)
    if reaction is not None:
        transaction.on_commit(lambda: getattr(services, reaction)(campaign=campaign), robust=True)


def statement_rendering_panel(sender, *, campaign, request, **kwargs):
    """The campaign page's panel on its statements' latest rendering (calculations.signals.campaign_page_panels)."""
    summary = renderings.rendering_summary(campaign=campaign)
    if summary is None:
        return None
    return render_to_string("reports/admin/statement_rendering.html", {"summary": summary}, request=request)


# What the public results file holds changes only when a version enters or leaves force.
PUBLIC_FILE_TRANSITIONS = ("publish", "supersede")


def refresh_public_file(sender, *, transition, **kwargs) -> None:
    if transition in PUBLIC_FILE_TRANSITIONS:
        transaction.on_commit(services.refresh_public_file, robust=True)
