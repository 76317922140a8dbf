"""Real processes for the fault tests: a Redis server of the test's own (stopped and restarted at will,
never the machine's shared one) and Celery workers started as `celery -A ipep_site worker`, on the test
database (PostgreSQL) and the test's MEDIA_ROOT."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """redis-server on 127.0.0.1:`port`, data in `directory` with an append-only file (as in production:
    a restart keeps the queues), started and killed by the test only."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory, self.port = directory, port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)]
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.directory / "redis.log").read_text()[-2000:]
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """An outage: kill -9 (the clients' connections reset, nothing answers on the port)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


def database_url_of_tests() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_environment(*, media_root, broker_url: str, **extra) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        DATABASE_URL=database_url_of_tests(),
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONUNBUFFERED="1",
        MEDIA_ROOT=str(media_root),
        **{name: str(value) for name, value in extra.items()},
    )
    return environment


class Worker:
    """`celery -A ipep_site worker` in a child process (prefork pool, as deployed); its log in `log_path`."""

    def __init__(self, *, environment: dict, log_path: Path, pool: str = "prefork", concurrency: int = 2):
        self.log_path = log_path
        command = [sys.executable, "-m", "celery", "-A", "ipep_site", "worker", "--pool", pool]
        command += ["--concurrency", str(concurrency), "-l", "info", "--without-gossip", "--without-mingle"]
        self.log = log_path.open("a")
        self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, seconds: float = 180) -> None:  # a loaded 2-core machine takes over a minute
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.alive(), self.log_text()[-3000:]
            if " ready." in self.log_text():
                return
            time.sleep(0.1)
        raise AssertionError("the worker did not start:\n" + self.log_text()[-3000:])

    def pool_pids(self) -> list[int]:
        """The pool's child processes (where tasks run)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        children = self.pool_pids() if self.alive() else []
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.log.close()


def wait_for(predicate, *, seconds: float, message, poll: float = 0.1):
    """The first true value of `predicate()`; AssertionError with `message` (or `message()`) after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(message() if callable(message) else message)


@contextlib.contextmanager
def gunicorn(*, environment: dict, log_path: Path, workers: int = 1):
    """`gunicorn ipep_site.wsgi` with ./gunicorn.conf.py on 127.0.0.1 and a free port; yields the port
    once it accepts connections, stops it at the end."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "ipep_site.wsgi", "--bind", f"127.0.0.1:{port}"]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command + ["--workers", str(workers)], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log_path.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("gunicorn did not start within 60 s:\n" + log_path.read_text()) from None
                    time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)
