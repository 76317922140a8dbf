"""Workers anywhere: two Celery worker processes, each as if on its own host (own MEDIA_ROOT and TMPDIR,
nothing shared but PostgreSQL, Redis and the S3 server's bucket), and the web side in this process with
a third. A year goes through upload, validation, computation, statements rendered by both workers, and
download from the web side; then a worker is killed (SIGKILL) mid-rendering and nothing is lost.

Needs PostgreSQL and Redis (CI): the worker processes share the test database and the broker.
"""

import hashlib
import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from calculations.models import Campaign, Dataset
from calculations.services import campaigns
from groupements import roles
from reports.models import Statement, StatementJob, StatementRendering
from reports.services import render_campaign_statements
from tests.calculations.campaign_factories import golden_parameters
from tests.reports.factories import golden_campaign, portal_user
from tests.site.hosts import start_hosts
from tests.typography import plain

GOLDEN_YEARS = (2018, 2019, 2022)
WAIT_SECONDS = 120

pytestmark = [
    pytest.mark.s3,
    pytest.mark.slow,
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def needs_postgres_and_a_broker():
    if connection.vendor != "postgresql" or settings.CELERY_BROKER_URL.startswith("memory"):
        pytest.skip("worker processes share the test database and the broker: PostgreSQL and Redis (CI)")


@pytest.fixture
def web(local_temp):
    """This process is the web side: its own temporary directory, tasks sent to the broker (not eager)."""
    from ipep_site.celery import app

    app.conf.task_always_eager = False
    yield local_temp
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def hosts(request, s3_server, s3_storage, tmp_path, web):
    visibility_timeout = getattr(request, "param", 3600)
    started = start_hosts(
        ["hote-a", "hote-b"],
        tmp_path=tmp_path,
        bucket=s3_storage.name,
        endpoint_url=s3_server,
        visibility_timeout=visibility_timeout,
    )
    yield started
    for host in started:
        host.stop()


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what} after {WAIT_SECONDS} s")


def finished_rendering(campaign, *, final: bool):
    return wait_for(
        lambda: StatementRendering.objects.filter(campaign=campaign, final=final, finished_at__isnull=False).first(),
        f"the {'final' if final else 'draft'} statements",
    )


def transition(client, campaign, name: str):
    url = reverse("admin:calculations_campaign_transition", args=[campaign.pk])
    response = client.post(url, {"transition": name, "reason": ""})
    assert response.status_code == 302


def test_a_year_with_two_worker_hosts_and_the_web_on_a_third(
    hosts, web, s3_storage, client, make_user, loaded_reference, golden_dir
):
    bucket = s3_storage
    manager, calculator, validator = (
        make_user(role=r) for r in (roles.DATA_MANAGER, roles.CALCULATOR, roles.VALIDATOR)
    )

    # A data manager uploads three years on the web side; the workers validate them from the bucket.
    client.force_login(manager)
    for year in GOLDEN_YEARS:
        with open(golden_dir / f"beneficiaires_{year}.csv", "rb") as handle:
            response = client.post(reverse("admin:calculations_dataset_add"), {"year": year, "file": handle})
        assert response.status_code == 302
    wait_for(lambda: Dataset.objects.filter(status=Dataset.Status.VALID).count() == 3, "three valid datasets")

    # A calculator launches; a worker computes from the bucket, and the drafts are fanned out.
    campaign = campaigns.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    client.force_login(calculator)
    transition(client, campaign, "launch")
    campaign = wait_for(
        lambda: Campaign.objects.exclude(status="computing").filter(pk=campaign.pk).first(), "the computation"
    )
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    assert str(campaign.final_amount) == "244528.88"
    drafts = finished_rendering(campaign, final=False)

    # A validator validates on the web side: the final statements are fanned out from here.
    client.force_login(validator)
    transition(client, campaign, "validate")
    finals = finished_rendering(campaign, final=True)

    jobs = list(StatementJob.objects.filter(rendering__in=[drafts, finals]).select_related("groupement"))
    assert len(jobs) == 24 and all(job.finished_at and not job.error for job in jobs)
    rendered_by = {job.workers[-1] for job in jobs}
    assert rendered_by == {hosts[0].node, hosts[1].node}, "both workers render statements"
    assert not any(job.retried for job in jobs)
    statements = {s.groupement.code: s for s in Statement.objects.filter(campaign=campaign, draft=False)}
    assert len(statements) == 12
    final_jobs = {job.groupement.code: job for job in jobs if job.rendering_id == finals.pk}
    assert {code: job.sha256 for code, job in final_jobs.items()} == {c: s.sha256 for c, s in statements.items()}

    # Published: the final statements are drawn again with their contestation deadline, then downloaded
    # from the web side: the bytes the workers stored in the bucket.
    transition(client, campaign, "publish")
    published = wait_for(
        lambda: StatementRendering.objects.filter(
            campaign=campaign, pk__gt=finals.pk, finished_at__isnull=False
        ).first(),
        "the statements drawn again at publication",
    )
    assert not published.jobs.filter(error__gt="").exists()
    statements = {s.groupement.code: s for s in Statement.objects.filter(campaign=campaign, draft=False)}
    client.force_login(portal_user("G001"))
    response = client.get(reverse("portal:statement_download", args=[statements["G001"].pk]))
    assert response.status_code == 200
    content = response.getvalue()
    assert hashlib.sha256(content).hexdigest() == statements["G001"].sha256
    assert content == bucket.read(statements["G001"].file.name)

    # The campaign page says who rendered what, and that nothing had to be retried.
    client.force_login(validator)
    page = plain(client.get(reverse("admin:calculations_campaign_change", args=[campaign.pk])).content.decode())
    assert "Relevés définitifs : 12 / 12 générés" in page and "Aucun relevé relancé." in page
    for host in hosts:
        assert host.node in page

    # No shared disk, and no disk at all: every host's MEDIA_ROOT absent, its temporary directory empty.
    final_names = sorted(s.file.name for s in statements.values())
    wait_for(lambda: [k for k in bucket.object_keys() if k.startswith("statements/")] == final_names, "drafts removed")
    for host in hosts:
        assert host.leftovers() == []
    assert not settings.MEDIA_ROOT.exists() and list(web.iterdir()) == []


@pytest.mark.parametrize("hosts", [4], indirect=True)  # the broker gives a dead worker's task away after 4 s
def test_a_worker_killed_mid_rendering_loses_nothing(hosts, web, s3_storage, client, make_user):
    victim, survivor = hosts
    campaign = golden_campaign(status="computed", datasets=False)
    render_campaign_statements(campaign=campaign)
    rendering = StatementRendering.objects.get(campaign=campaign)

    def in_flight_on_victim():
        return list(
            StatementJob.objects.filter(rendering=rendering, finished_at__isnull=True, attempts__gte=1)
            .filter(workers__contains=[victim.node])
            .values_list("groupement__code", flat=True)
        )

    wait_for(in_flight_on_victim, "a statement being rendered by the victim")
    victim.kill()
    lost = set(in_flight_on_victim())  # its worker is dead: this can no longer change
    assert lost

    rendering = finished_rendering(campaign, final=False)
    jobs = {job.groupement.code: job for job in rendering.jobs.select_related("groupement")}
    assert len(jobs) == 12 and all(job.finished_at and not job.error for job in jobs.values())
    retried = {code for code, job in jobs.items() if job.retried}
    assert lost <= retried
    for code in lost:
        assert jobs[code].workers[-1] == survivor.node and jobs[code].attempts >= 2

    # Every statement stored once, with the checksum of its bytes in the bucket; no orphan file.
    statements = Statement.objects.filter(campaign=campaign).select_related("groupement")
    assert {s.groupement.code: s.sha256 for s in statements} == {c: j.sha256 for c, j in jobs.items()}
    for statement in statements:
        assert hashlib.sha256(s3_storage.read(statement.file.name)).hexdigest() == statement.sha256
    assert sorted(k for k in s3_storage.object_keys() if k.startswith("statements/")) == sorted(
        s.file.name for s in statements
    )

    # The campaign page lists the retried statements.
    client.force_login(make_user(role=roles.VALIDATOR))
    page = plain(client.get(reverse("admin:calculations_campaign_change", args=[campaign.pk])).content.decode())
    assert "Relevés projets : 12 / 12 générés" in page and f"Relevés relancés ({len(retried)})" in page
    for code in lost:
        assert f"<li>{code} — {jobs[code].attempts} tentatives" in page
    assert survivor.leftovers() == []
