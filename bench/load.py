"""Load test: the portal's list of statements and the PDF download, served by gunicorn on PostgreSQL.

    .venv/bin/python bench/load.py [--users 1,10,50] [--seconds 10] [--requests 5000] [--baseline]

Creates a throw-away PostgreSQL database (`ipep_load_<pid>` on 127.0.0.1, dropped at the end) and a
MEDIA_ROOT in a temporary directory, uses Redis database 15 on 127.0.0.1 as the shared cache (as deployed:
sessions are read from it), loads the demo (`demo_setup`: the golden bundle computed, validated and
published, 12 statements), starts gunicorn with the project's gunicorn.conf.py in production mode (DEBUG
off) on 127.0.0.1 and a free port, logs in as the portal user g001, then for each page and each number of
concurrent users sends GET requests for `--seconds` or `--requests`, whichever ends first.
Only ever talks to 127.0.0.1 and stops by itself. Each response must be a 200 (a PDF for the download).

Prints requests per second, median, p95 and max latency, and the machine's load average before each
run: the client runs on the same cores as the server and takes its share of them. `--baseline` first
runs the same load with one database connection per request (DJANGO_CONN_MAX_AGE=0), to show the
effect of reusing connections. Targets at 10 users: >= 150 req/s on the list, >= 300 req/s on the PDF,
p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support import GOLDEN, REPO, YEAR

HOST = "127.0.0.1"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
CACHE_URL = "redis://127.0.0.1:6379/15"
TARGETS = {"portal list": (150, 0.100), "PDF download": (300, 0.100)}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,10,50", help="numbers of concurrent users, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="longest run for one page and one user count")
    parser.add_argument("--requests", type=int, default=5000, help="most requests for one page and one user count")
    parser.add_argument("--baseline", action="store_true", help="also run with DJANGO_CONN_MAX_AGE=0 first")
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per process (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--reuse", nargs=2, metavar=("DATABASE", "MEDIA_ROOT"), help="a database and media already holding the demo"
    )
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def psql(command: str) -> None:
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-qc", command, "postgres"], check=True)


@contextmanager
def demo_site(reuse=None):
    """A fresh database with the demo loaded; the environment to serve it (dropped at the end). With
    `reuse`, a database and media that already hold the demo (kept; g001's password is set again)."""
    database = reuse[0] if reuse else f"ipep_load_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="ipep-load-") as scratch:
        password = secrets.token_urlsafe(12)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_", "DATABASE_", "CELERY_"))}
        environment = {
            **keep,
            "DATABASE_URL": f"{POSTGRES}/{database}",
            "CELERY_BROKER_URL": "memory://",  # the demo's tasks run in-process
            "MEDIA_ROOT": reuse[1] if reuse else f"{scratch}/media",
            "STATIC_ROOT": f"{scratch}/static",
            "IPEP_DEMO_PASSWORD": password,
            # As deployed (deploy/ipep.env.example): a cache shared by every process, sessions read from it.
            "CACHE_URL": CACHE_URL,
        }
        manage = [sys.executable, "manage.py"]
        if not reuse:
            psql(f"DROP DATABASE IF EXISTS {database}")
            psql(f"CREATE DATABASE {database}")
        try:
            started = time.perf_counter()
            if reuse:
                subprocess.run(manage + ["migrate", "--noinput", "-v0"], cwd=REPO, env=environment, check=True)
                code = "u = User.objects.get(username='g001'); u.set_password(PASSWORD); u.save()"
                script = f"from django.contrib.auth.models import User; PASSWORD = {password!r}; {code}"
                subprocess.run(manage + ["shell", "-c", script], cwd=REPO, env=environment, check=True)
            else:
                print(f"loading the demo into {database} (migrate, demo_setup)…", flush=True)
                for command in (
                    ["migrate", "--noinput", "-v0"],
                    ["demo_setup", "--bundle", str(GOLDEN), "--year", str(YEAR)],
                ):
                    subprocess.run(manage + command, cwd=REPO, env=environment, check=True, stdout=subprocess.DEVNULL)
            production = {
                **environment,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": HOST,
                "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback: no nginx in front here
            }
            subprocess.run(manage + ["collectstatic", "--noinput", "-v0"], cwd=REPO, env=production, check=True)
            print(f"demo loaded in {time.perf_counter() - started:.0f} s", flush=True)
            yield production, password, scratch
        finally:
            if not reuse:
                psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@contextmanager
def gunicorn(environment: dict, scratch: str, *, workers=None, threads=None, conn_max_age=None):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "ipep_site.wsgi", "--bind", f"{HOST}:{port}"]
    command += ["--workers", str(workers)] if workers else []
    command += ["--threads", str(threads)] if threads else []
    environment = {**environment, "GUNICORN_LOG_LEVEL": "warning"}
    if conn_max_age is not None:
        environment["DJANGO_CONN_MAX_AGE"] = str(conn_max_age)
    log_path = Path(scratch) / f"gunicorn-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()}")
                try:  # answered by a process that has loaded the application
                    connection = http.client.HTTPConnection(HOST, port, timeout=60)
                    connection.request("GET", "/connexion/")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def log_in(port: int, password: str) -> tuple[str, str]:
    """Logs g001 in through the portal's form; its session cookie and the first statement's URL."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/connexion/")
    response = connection.getresponse()
    page = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&username=g001&password={password}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}"}
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("POST", "/connexion/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie", ""))
    if response.status != 302 or session is None:
        raise SystemExit(f"login refused ({response.status})")
    cookie = f"sessionid={session.group(1)}"
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/", headers={"Cookie": cookie})
    home = connection.getresponse().read().decode()
    download = re.search(r'href="(/releves/\d+/telecharger/)"', home)
    if download is None:
        raise SystemExit("no statement on g001's portal page")
    return cookie, download.group(1)


@dataclass
class Run:
    latencies: list[float]
    elapsed: float
    errors: list[str]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def fetch(connection, request: bytes, port: int):
    """One request on a kept-alive connection (opened again when the server closed it); status, type, body."""
    reader, writer = connection or await asyncio.open_connection(HOST, port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.read()
    kept = (reader, writer)
    delimited = "content-length" in headers or headers.get("transfer-encoding") == "chunked"
    if headers.get("connection", "").lower() == "close" or not delimited:
        writer.close()
        kept = None
    return kept, int(status_line.split()[1]), headers.get("content-type", ""), body


async def load(port: int, path: str, cookie: str, *, users: int, seconds: float, requests: int, pdf: bool) -> Run:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nCookie: {cookie}\r\nConnection: keep-alive\r\n\r\n".encode()
    latencies: list[float] = []
    errors: list[str] = []
    remaining = [requests]
    deadline = time.perf_counter() + seconds

    async def user():
        connection = None
        while remaining[0] > 0 and time.perf_counter() < deadline:
            remaining[0] -= 1
            sent = time.perf_counter()
            try:
                connection, status, content_type, body = await fetch(connection, request, port)
            except (OSError, asyncio.IncompleteReadError) as error:
                connection = None
                errors.append(repr(error))
                continue
            latencies.append(time.perf_counter() - sent)
            expected = "application/pdf" if pdf else "text/html"
            if status != 200 or not content_type.startswith(expected) or (pdf and not body.startswith(b"%PDF")):
                errors.append(f"{status} {content_type}")

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(users)))
    return Run(latencies=latencies, elapsed=time.perf_counter() - started, errors=errors)


def measure(port: int, cookie: str, download: str, args, label: str) -> list[tuple]:
    rows = []
    for page, path, pdf in (("portal list", "/", False), ("PDF download", download, True)):
        asyncio.run(load(port, path, cookie, users=2, seconds=1, requests=50, pdf=pdf))  # warm every process
        for users in [int(n) for n in args.users.split(",")]:
            load_average = os.getloadavg()[0]
            client_cpu = time.process_time()
            run = asyncio.run(
                load(port, path, cookie, users=users, seconds=args.seconds, requests=args.requests, pdf=pdf)
            )
            # The share of the two cores the client itself took from the server during the run.
            client_share = (time.process_time() - client_cpu) / run.elapsed / (os.cpu_count() or 1)
            rate = len(run.latencies) / run.elapsed
            row = (label, page, users, len(run.latencies), rate, run.percentile(0.5), run.percentile(0.95))
            rows.append(row)
            print(
                f"{label:<10} {page:<13} {users:>3} users {len(run.latencies):>6} req {rate:>7.1f} req/s "
                f"p50 {run.percentile(0.5) * 1000:>6.1f} ms  p95 {run.percentile(0.95) * 1000:>6.1f} ms  "
                f"max {max(run.latencies, default=0) * 1000:>6.1f} ms  load {load_average:.2f}  "
                f"client {client_share:.0%} of the CPU"
                + (f"  ERRORS {len(run.errors)}: {run.errors[:3]}" if run.errors else ""),
                flush=True,
            )
            if run.errors:
                raise SystemExit(f"{page}: {len(run.errors)} failed requests")
    return rows


def main() -> None:
    args = parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    with demo_site(args.reuse) as (environment, password, scratch):
        runs = [("no reuse", 0)] if args.baseline else []
        rows = []
        for label, conn_max_age in [*runs, ("reuse", None)]:
            options = {"workers": args.workers, "threads": args.threads, "conn_max_age": conn_max_age}
            with gunicorn(environment, scratch, **options) as port:
                cookie, download = log_in(port, password)
                rows += measure(port, cookie, download, args, label)
    print("\ntargets at 10 users (reuse):")
    for label, page, users, _count, rate, _p50, p95 in rows:
        if label == "reuse" and users == 10:
            minimum, limit = TARGETS[page]
            verdict = "met" if rate >= minimum and p95 < limit else "NOT met"
            print(
                f"  {page}: {rate:.0f} req/s (>= {minimum}), p95 {p95 * 1000:.0f} ms (< {limit * 1000:.0f}): {verdict}"
            )
    print(f"load average after the run {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
