"""/health/ (ipep_site.health): 200 with every part up, 503 when one is down; no login; nothing secret."""

import json
import socket
import time

import pytest
from django.conf import settings

from ipep_site.celery import app

SECRET_LOOKING = ("127.0.0.1", "6379", "5432", "postgres", "redis", "sqlite", "password", "Traceback", "Error")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def health(client):
    response = client.get("/health/")
    body = response.content.decode()
    for word in SECRET_LOOKING:
        assert word.lower() not in body.lower(), word
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(body)


@pytest.mark.django_db
def test_anonymous_gets_200_and_the_state_of_each_part(client, media_root):
    status, body = health(client)
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "storage": "ok"}}
    # The storage probe leaves nothing behind.
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


@pytest.mark.django_db
def test_storage_that_cannot_be_written_answers_503(client, settings, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked
    status, body = health(client)
    assert status == 503
    assert body["status"] == "indisponible"
    assert body["checks"] == {"database": "ok", "cache": "ok", "storage": "indisponible"}


@pytest.fixture
def broker_on_a_closed_port(monkeypatch):
    """Tasks go through a broker, not in-process, and nothing listens on the broker's port."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its configuration
    previous = {name: app.conf[name] for name in ("task_always_eager", "broker_url", "broker_write_url")}
    app.conf.update(task_always_eager=False, broker_url=url, broker_write_url=None)
    yield
    app.conf.update(previous)


@pytest.mark.django_db
def test_broker_on_a_closed_port_answers_503_quickly(client, broker_on_a_closed_port):
    """The broker and the worker are reported down within seconds, not after Celery's connection retries."""
    started = time.monotonic()
    status, body = health(client)
    assert time.monotonic() - started < 10
    assert status == 503
    assert body["checks"] == {
        "database": "ok",
        "cache": "ok",
        "storage": "ok",
        "broker": "indisponible",
        "worker": "indisponible",
    }


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: CELERY_BROKER_URL")
def test_real_broker_and_worker_answer_200(client, media_root, real_worker):
    status, body = health(client)
    assert (status, body["checks"]["broker"], body["checks"]["worker"]) == (200, "ok", "ok"), body


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: CELERY_BROKER_URL")
def test_broker_up_but_no_worker_answers_503(client, media_root):
    status, body = health(client)
    assert status == 503
    assert (body["checks"]["broker"], body["checks"]["worker"]) == ("ok", "indisponible")
