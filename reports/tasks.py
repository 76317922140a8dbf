"""Celery tasks of the reports app: one statement per task, fanned out by render_campaign_statements."""

from celery import shared_task


@shared_task(bind=True, name="reports.render_statement", acks_late=True)
def render_statement_task(self, campaign_id: int, groupement_id: int, rendering_id: int | None = None) -> str | None:
    """Render and store one statement; returns its SHA-256 (None when the result no longer exists).

    Acks late and idempotent: a message whose worker died is run again by another worker, which writes
    the same file with the same checksum (reports.renderings counts the job once)."""
    from .services import render_statement_job

    delivery = self.request.delivery_info or {}
    return render_statement_job(
        campaign_id=campaign_id,
        groupement_id=groupement_id,
        rendering_id=rendering_id,
        worker=self.request.hostname or "",
        redelivered=bool(delivery.get("redelivered")),
    )
