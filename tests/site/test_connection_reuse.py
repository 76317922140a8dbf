"""Database connections are kept between requests and between tasks (issue 16, item 10): gunicorn as
deployed (./gunicorn.conf.py) and `celery -A ipep_site worker` (prefork) on the test database, watched from
PostgreSQL's side (pg_stat_activity). Each runs twice: with the settings as shipped, one backend serves
every request or task; with DJANGO_CONN_MAX_AGE=0 (a connection per request, as before), none is left
between them, which shows the test tells the two apart."""

import http.client
import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.workers import Worker, database_url_of_tests, gunicorn, wait_for, worker_environment

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="needs PostgreSQL (pg_stat_activity)"),
    pytest.mark.django_db(transaction=True),
]
REQUESTS = 5
# (DJANGO_CONN_MAX_AGE for the server, backends expected between requests)
SETTINGS = [pytest.param(None, 1, id="as-shipped"), pytest.param("0", 0, id="conn-max-age-0")]


def other_backends() -> list[tuple[int, object]]:
    """(pid, backend_start) of every other client connected to the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY pid"
        )
        return cursor.fetchall()


def settled_backends(expected: int) -> list[tuple[int, object]]:
    """The other backends once their number is `expected` (a closed connection leaves the view shortly after)."""
    wait_for(lambda: len(other_backends()) == expected, seconds=10, message=lambda: f"backends: {other_backends()}")
    return other_backends()


def environment_with(conn_max_age: str | None, **variables) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_"))}
    environment.update(
        DATABASE_URL=database_url_of_tests(),
        DJANGO_SECRET_KEY=settings.SECRET_KEY,  # reads the session this process writes
        **variables,
    )
    if conn_max_age is not None:
        environment["DJANGO_CONN_MAX_AGE"] = conn_max_age
    return environment


@pytest.mark.parametrize(("conn_max_age", "kept"), SETTINGS)
def test_gunicorn_serves_every_request_on_one_kept_connection(tmp_path, conn_max_age, kept):
    # A logged-in user on the portal: each page reads the session, the user and the portal access.
    browser = Client()
    browser.force_login(User.objects.create_user("sans-acces", password="x"))
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    environment = environment_with(conn_max_age, CELERY_BROKER_URL="memory://", MEDIA_ROOT=str(tmp_path / "media"))
    connection.close()  # this test's own connection is not counted: it reconnects for each look
    seen = []
    with gunicorn(environment=environment, log_path=tmp_path / "gunicorn.log") as port:
        for _ in range(REQUESTS):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            client.request("GET", "/", headers={"Cookie": cookie})
            response = client.getresponse()
            assert (response.status, "Accès non configuré".encode() in response.read()) == (403, True)
            client.close()
            seen.append(settled_backends(kept))
    assert all(backends == seen[0] for backends in seen), seen  # the same backend, never reopened


@pytest.mark.celery_worker
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
@pytest.mark.parametrize(("conn_max_age", "kept"), SETTINGS)
def test_a_worker_runs_every_task_on_one_kept_connection(
    tmp_path, media_root, own_redis, broker_client, conn_max_age, kept
):
    extra = {} if conn_max_age is None else {"DJANGO_CONN_MAX_AGE": conn_max_age}
    worker = Worker(
        environment=worker_environment(media_root=media_root, broker_url=own_redis.url, **extra),
        log_path=tmp_path / "worker.log",
        concurrency=1,
    )
    connection.close()
    try:
        worker.wait_ready()
        seen = []
        for _ in range(REQUESTS):
            # A task that queries the database, then a round trip behind it (one process: in order).
            broker_client.send_task("calculations.fail_stale_campaigns")
            assert broker_client.send_task("ipep_site.ping").get(timeout=60) == "pong"
            seen.append(settled_backends(kept))
        assert all(backends == seen[0] for backends in seen), seen
    finally:
        worker.stop()
