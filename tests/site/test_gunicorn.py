"""The production server, gunicorn with ./gunicorn.conf.py: its responses carry the security headers,
name no software (no `Server: gunicorn`, no framework), and answer HEAD as GET, without a body."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = ("/connexion/", "/admin/login/", "/admin/", "/static/ipep/admin.css")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn_port(tmp_path):
    """gunicorn on 127.0.0.1 (one worker) serving pages that need no database; stopped at the end."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_"))}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}", CELERY_BROKER_URL="memory://")
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ipep_site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start within 60 s")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


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
