"""Celery tasks of the reports app: one statement per task, fanned out by render_campaign_statements."""

from celery import shared_task


@shared_task(name="reports.render_statement", acks_late=True)
def render_statement_task(campaign_id: int, groupement_id: int) -> str | None:
    """Render and store one statement; returns its SHA-256 (None when the result no longer exists)."""
    from .services import render_statement

    statement = render_statement(campaign_id=campaign_id, groupement_id=groupement_id)
    return statement.sha256 if statement else None
