"""A campaign's statements as a fan-out of jobs: each counted once, the rendering finished by the last one,
a task run again (redelivered) writing the same file and checksum and listed as retried."""

import pytest
from django.urls import reverse

from groupements import roles
from reports import renderings, services
from reports.models import Statement, StatementJob, StatementRendering
from tests.reports.factories import golden_campaign
from tests.typography import plain


@pytest.fixture
def computed(db, media_root):
    return golden_campaign(status="computed", codes=["G001", "G002", "G008"], datasets=False)


def test_the_last_job_to_end_finishes_the_rendering(computed):
    services.render_campaign_statements(campaign=computed)  # eager: every task has run
    rendering = StatementRendering.objects.get(campaign=computed)
    assert rendering.final is False and rendering.finished_at is not None
    jobs = list(rendering.jobs.order_by("groupement__code"))
    assert [(j.groupement.code, j.attempts, j.retried, j.error) for j in jobs] == [
        ("G001", 1, False, ""),
        ("G002", 1, False, ""),
        ("G008", 1, False, ""),
    ]
    assert {j.sha256 for j in jobs} == set(Statement.objects.filter(campaign=computed).values_list("sha256", flat=True))


def test_the_rendering_is_finished_only_when_every_job_has_ended(computed):
    ids = list(computed.results.order_by("code").values_list("groupement_id", flat=True))
    rendering = renderings.start_rendering(campaign=computed, final=False, groupement_ids=ids)
    for groupement_id in ids[:2]:
        assert renderings.job_ended(rendering_id=rendering.pk, groupement_id=groupement_id, sha256="a" * 64) is False
    assert renderings.job_ended(rendering_id=rendering.pk, groupement_id=ids[0], sha256="a" * 64) is False  # again
    rendering.refresh_from_db()
    assert rendering.finished_at is None
    assert renderings.job_ended(rendering_id=rendering.pk, groupement_id=ids[2], sha256="a" * 64) is True
    assert renderings.job_ended(rendering_id=rendering.pk, groupement_id=ids[2], sha256="a" * 64) is False  # once


def test_a_redelivered_task_writes_the_same_file_and_is_listed_as_retried(computed, client, make_user):
    services.render_campaign_statements(campaign=computed)
    rendering = StatementRendering.objects.get(campaign=computed)
    g002 = Statement.objects.get(campaign=computed, groupement__code="G002")
    before = (g002.file.name, g002.sha256, (g002.file.storage.path(g002.file.name)))

    # The broker gives the message to another worker (the first one died before acknowledging it).
    # (the task's body, with what the worker's request says: its node name and the redelivered flag)
    services.render_statement_job(
        campaign_id=computed.pk,
        groupement_id=g002.groupement_id,
        rendering_id=rendering.pk,
        worker="hote-b@machine",
        redelivered=True,
    )

    g002.refresh_from_db()
    assert (g002.file.name, g002.sha256, g002.file.storage.path(g002.file.name)) == before
    job = StatementJob.objects.get(rendering=rendering, groupement=g002.groupement)
    assert (job.attempts, job.redelivered, job.retried, job.workers[-1], job.sha256) == (
        2,
        True,
        True,
        "hote-b@machine",
        g002.sha256,
    )
    client.force_login(make_user(role=roles.VALIDATOR))
    page = plain(client.get(reverse("admin:calculations_campaign_change", args=[computed.pk])).content.decode())
    assert "Relevés projets : 3 / 3 générés" in page
    assert "Relevés relancés (1)" in page and "<li>G002 — 2 tentatives, message redistribué" in page


def test_a_job_that_fails_is_ended_with_its_error(computed, monkeypatch, client, make_user):
    def broken(*, campaign_id, groupement_id):
        raise RuntimeError("police introuvable")

    monkeypatch.setattr(services, "render_statement", broken)
    with pytest.raises(RuntimeError):
        services.render_campaign_statements(campaign=computed)
    rendering = StatementRendering.objects.get(campaign=computed)
    job = rendering.jobs.order_by("groupement__code").first()
    assert job.finished_at is not None and job.error == "RuntimeError: police introuvable"
    client.force_login(make_user(role=roles.VALIDATOR))
    page = plain(client.get(reverse("admin:calculations_campaign_change", args=[computed.pk])).content.decode())
    assert "G001 : RuntimeError: police introuvable" in page
