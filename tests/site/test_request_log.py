"""Structured logs (ipep_site.requestlog): one JSON line per request with its id, the user and the
duration; the id of a proxy believed only from a trusted proxy; the same id in the logs of a task the
request launched, through the real broker and worker."""

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path
from pythonjsonlogger.json import JsonFormatter

from ipep_site.celery import app

task_logger = logging.getLogger("tests.site.task")


@app.task(name="tests.site.log_from_task")
def log_from_task():
    task_logger.warning("tâche lancée par la requête")
    return "logged"


def launch_task(request):
    return JsonResponse({"task": log_from_task.delay().id})


urlpatterns = [path("launch-task/", launch_task), path("", include("ipep_site.urls"))]


@pytest.fixture
def json_lines():
    """The lines the production handler writes (settings.LOGGING: its JSON formatter and request-id
    filter), collected from the root logger, parsed."""
    console = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    logging.getLogger().addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "ipep.request"]


@pytest.mark.django_db
def test_a_request_writes_one_json_line_with_its_id_user_and_duration(client, make_user, json_lines):
    user = make_user(role=None)
    client.force_login(user)
    response = client.get("/health/")
    (line,) = request_lines(json_lines())
    assert {"time", "level", "request_id", "user_id", "duration_ms", "method", "path", "status"} <= set(line)
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/health/", 200, user.pk)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response["X-Request-ID"] == line["request_id"]


@pytest.mark.django_db
def test_anonymous_and_refused_requests_are_logged_too(client, json_lines):
    client.get("/connexion/")
    client.get("/releves/999/telecharger/")
    lines = request_lines(json_lines())
    assert [(line["path"], line["status"], line["user_id"]) for line in lines] == [
        ("/connexion/", 200, None),
        ("/releves/999/telecharger/", 302, None),
    ]
    assert lines[0]["request_id"] != lines[1]["request_id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "remote", "header", "believed"),
    [
        (["127.0.0.1"], "127.0.0.1", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", True),  # nginx's $request_id
        ([], "127.0.0.1", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", False),  # no proxy configured
        (["10.0.0.0/24"], "203.0.113.9", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", False),  # the client wrote it
        (["127.0.0.1"], "127.0.0.1", "fake\nline injected", False),  # not an id
    ],
)
def test_proxy_request_id_is_believed_only_from_a_trusted_proxy(
    client, settings, json_lines, proxies, remote, header, believed
):
    settings.IPEP_TRUSTED_PROXIES = proxies
    response = client.get("/health/", REMOTE_ADDR=remote, HTTP_X_REQUEST_ID=header)
    (line,) = request_lines(json_lines())
    assert (line["request_id"] == header) is believed
    assert response["X-Request-ID"] == line["request_id"]


@pytest.mark.celery_worker
@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: CELERY_BROKER_URL")
def test_a_task_launched_by_a_request_logs_the_same_request_id(client, settings, real_worker, json_lines):
    settings.IPEP_TRUSTED_PROXIES = ["127.0.0.1"]
    request_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    response = client.get("/launch-task/", REMOTE_ADDR="127.0.0.1", HTTP_X_REQUEST_ID=request_id)
    assert app.AsyncResult(response.json()["task"]).get(timeout=30) == "logged"
    lines = json_lines()
    (task_line,) = [line for line in lines if line["logger"] == "tests.site.task"]
    assert task_line["request_id"] == request_id
    assert [line["request_id"] for line in request_lines(lines)] == [request_id]
    # Outside any request the worker logs no id, and the id does not leak into the next task.
    assert app.AsyncResult(log_from_task.delay().id).get(timeout=30) == "logged"
    later = [line for line in json_lines() if line["logger"] == "tests.site.task"]
    assert later[-1]["request_id"] is None
