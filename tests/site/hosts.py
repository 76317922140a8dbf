"""Celery workers as separate processes, each as if on its own host: its own MEDIA_ROOT and TMPDIR (both
must stay empty), the project's files in the S3 server's bucket, the test database and the broker as
the only things shared with the web side (the test process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.conftest import S3_CREDENTIALS, S3_REGION
from tests.golden import REPO

START_SECONDS = 60


@dataclass
class Host:
    label: str  # `hote-a`
    root: Path
    process: subprocess.Popen
    node: str = ""  # the worker's node name, `hote-a@machine`, as its tasks record it

    @property
    def media_root(self) -> Path:
        return self.root / "media"

    @property
    def tmpdir(self) -> Path:
        return self.root / "tmp"

    def leftovers(self) -> list[str]:
        """What this host left on its local disk: nothing but an empty temporary directory is expected."""
        found = [str(p.relative_to(self.root)) for p in self.tmpdir.rglob("*")]
        return found + ([str(self.media_root)] if self.media_root.exists() else [])

    def kill(self) -> None:
        """As if the host lost power: SIGKILL, no warm shutdown, its unacknowledged messages left with the broker."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def database_url() -> str:
    """The test database as a URL, for the worker processes."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_hosts(names, *, tmp_path: Path, bucket: str, endpoint_url: str, visibility_timeout: int = 3600) -> list[Host]:
    """One `celery worker --pool solo` process per name (one task at a time, one message prefetched),
    reading and writing the project's files in `bucket`; returns once every worker answers a ping."""
    from ipep_site.celery import app

    app.control.purge()
    hosts = []
    for name in names:
        root = tmp_path / name
        (root / "tmp").mkdir(parents=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "IPEP_STORAGE": "s3",
            "IPEP_S3_BUCKET": bucket,
            "IPEP_S3_ENDPOINT_URL": endpoint_url,
            "IPEP_S3_REGION": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_CREDENTIALS["access_key"],
            "AWS_SECRET_ACCESS_KEY": S3_CREDENTIALS["secret_key"],
            "MEDIA_ROOT": str(root / "media"),
            "TMPDIR": str(root / "tmp"),
        }
        command = [sys.executable, "-m", "celery", "-A", "ipep_site", "worker", "--pool", "solo", "--concurrency", "1"]
        command += ["-l", "WARNING"]
        command += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        with open(root / "worker.log", "wb") as log:  # read it when a test fails
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        hosts.append(Host(label=name, root=root, process=process))
    try:
        wait_for_ping(app, hosts)
    except BaseException:
        for host in hosts:
            host.stop()
        raise
    return hosts


def wait_for_ping(app, hosts: list[Host]) -> None:
    deadline = time.monotonic() + START_SECONDS
    waiting = list(hosts)
    while waiting:
        for host in waiting:
            if host.process.poll() is not None:
                raise RuntimeError(f"worker {host.label} exited with {host.process.returncode}")
        replies = app.control.ping(timeout=0.5)
        names = {name for reply in replies for name in reply}
        for host in list(waiting):
            answered = sorted(n for n in names if n.startswith(f"{host.label}@"))
            if answered:
                host.node = answered[0]
                waiting.remove(host)
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"workers {[h.label for h in waiting]} did not answer within {START_SECONDS} s")
