"""Statements rendered by any number of workers on any hosts, and the campaign told when the last ends.

`render_campaign_statements` (reports.services) records a `StatementRendering` with one job per
groupement, then sends a Celery group of one task per job. Each task (acks late: its message stays with
the broker until it ends) counts its attempt before rendering and marks its job ended after, under a row
lock on the rendering: the task that ends the last job marks the rendering finished. No chord: its
counter lives in the result backend and counts a task run twice (a worker killed after rendering but
before acknowledging) twice; here a job ends once, whatever the number of runs, and a worker dying
mid-way leaves its job unfinished until the broker gives the message to another worker.

A job is « retried » when it was attempted more than once or its message came back from the broker: the
campaign page lists them (`rendering_summary`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from calculations.models import Campaign

from .models import StatementJob, StatementRendering


def start_rendering(*, campaign: Campaign, final: bool, groupement_ids: list[int]) -> StatementRendering:
    with transaction.atomic():
        rendering = StatementRendering.objects.create(campaign=campaign, final=final)
        StatementJob.objects.bulk_create(
            StatementJob(rendering=rendering, groupement_id=groupement_id) for groupement_id in groupement_ids
        )
        if not groupement_ids:
            rendering.finished_at = rendering.started_at
            rendering.save(update_fields=["finished_at"])
    return rendering


def job_taken(*, rendering_id: int, groupement_id: int, worker: str, redelivered: bool) -> None:
    """Counts one more attempt of the job, committed before the rendering starts (a worker that dies
    mid-way leaves the attempt visible)."""
    with transaction.atomic():
        job = StatementJob.objects.select_for_update().filter(rendering_id=rendering_id, groupement_id=groupement_id)
        job = job.first()
        if job is None:
            return
        job.attempts = F("attempts") + 1
        job.redelivered = job.redelivered or redelivered
        job.workers = [*job.workers, worker or "?"]
        job.save(update_fields=["attempts", "redelivered", "workers"])


def job_ended(*, rendering_id: int, groupement_id: int, sha256: str = "", error: str = "") -> bool:
    """Marks the job ended (once: a second run of the same task changes nothing but its checksum, which
    is the same); the rendering is finished when no job is left. Returns True when this call finished it."""
    with transaction.atomic():
        rendering = StatementRendering.objects.select_for_update().filter(pk=rendering_id).first()
        if rendering is None:
            return False
        StatementJob.objects.filter(rendering=rendering, groupement_id=groupement_id).update(
            finished_at=timezone.now(), sha256=sha256, error=error
        )
        if rendering.finished_at is not None or rendering.jobs.filter(finished_at__isnull=True).exists():
            return False
        rendering.finished_at = timezone.now()
        rendering.save(update_fields=["finished_at"])
        return True


@dataclass(frozen=True)
class RenderingSummary:
    rendering: StatementRendering
    total: int
    ended: int
    per_worker: list[tuple[str, int]]  # the worker that ended each job, and how many
    retried: list[StatementJob]
    failed: list[StatementJob]

    @property
    def finished(self) -> bool:
        return self.rendering.finished_at is not None


def rendering_summary(*, campaign: Campaign) -> RenderingSummary | None:
    """The campaign's latest rendering: progress, who rendered what, the jobs retried or failed."""
    rendering = StatementRendering.objects.filter(campaign=campaign).order_by("-started_at", "-pk").first()
    if rendering is None:
        return None
    jobs = list(rendering.jobs.select_related("groupement").order_by("groupement__code"))
    ended = [job for job in jobs if job.finished_at is not None]
    return RenderingSummary(
        rendering=rendering,
        total=len(jobs),
        ended=len(ended),
        per_worker=sorted(Counter(job.workers[-1] for job in ended if job.workers).items()),
        retried=[job for job in jobs if job.retried],
        failed=[job for job in ended if job.error],
    )
