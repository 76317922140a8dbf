"""The production server, gunicorn with ./gunicorn.conf.py: its responses carry the security headers,
name no software (no `Server: gunicorn`, no framework), and answer HEAD as GET, without a body."""

import http.client
import os
import re

import pytest

from tests.workers import gunicorn

PAGES = ("/connexion/", "/admin/login/", "/admin/", "/static/ipep/admin.css")


@pytest.fixture
def gunicorn_port(tmp_path):
    """gunicorn on 127.0.0.1 (one worker) serving pages that need no database; stopped at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_"))}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}", CELERY_BROKER_URL="memory://")
    with gunicorn(environment=environment, log_path=tmp_path / "gunicorn.log") as port:
        yield port


def fetch(port: int, method: str, path: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_gunicorn_responses_name_no_software_carry_the_policies_and_answer_head(gunicorn_port):
    for path in PAGES:
        status, headers, body = fetch(gunicorn_port, "GET", path)
        head_status, head_headers, head_body = fetch(gunicorn_port, "HEAD", path)
        assert status in (200, 302), (path, status)
        assert headers["Server"] == "ipep", path
        for name, value in headers.items():
            assert not re.search(r"django|python|wsgi|gunicorn", f"{name}: {value}", re.IGNORECASE), (path, name)
        assert "default-src 'self'" in headers["Content-Security-Policy"], path
        assert "camera=()" in headers["Permissions-Policy"], path
        assert (head_status, head_body) == (status, b""), path
        for name in ("Content-Type", "Content-Length", "Content-Security-Policy", "Permissions-Policy", "Server"):
            assert head_headers.get(name) == headers.get(name), (path, name)
        assert len(body) == int(headers["Content-Length"]), path
