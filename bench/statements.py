"""Benchmark: a campaign of 1 000 generated groupements' statements, rendered by one worker, then two.

    nice .venv/bin/python bench/statements.py [--groupements 1000] [--broker redis://127.0.0.1:6379/13]
                                             [--database-url postgres://…] [--no-broker]

Works on a throw-away database (SQLite in a temporary directory unless --database-url names an empty
PostgreSQL database) and MEDIA_ROOT in a temporary directory (the project database is never touched).
Prints the time per PDF in one process (a sample), then, through the broker, the whole campaign rendered
by one worker process and by two (each `celery worker --pool solo`, as if on two hosts; the campaign's
StatementRendering says when the last statement ended): statements per second and the scaling ratio.
Without a broker it uses a process pool of one, then two, instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(os.environ.get("IPEP_SHARED", REPO.parent / "shared")) / "data" / "golden-2022" / "expected_2022.json"
if not GOLDEN.is_file():
    GOLDEN = REPO / "demo" / "golden-2022" / "expected_2022.json"
SAMPLE = 20  # statements timed one by one in this process


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groupements", type=int, default=1000)
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--no-broker", action="store_true", help="use process pools instead of Celery workers")
    return parser.parse_args()


def broker_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "no broker"
        return False


def setup_environment(workdir: Path, broker: str | None, database_url: str | None) -> dict:
    env = {
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_SETTINGS_MODULE": "ipep_site.settings",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    if broker:
        env |= {"CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker, "CELERY_TASK_ALWAYS_EAGER": "0"}
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def create_campaign(count: int):
    """A computed campaign of `count` groupements, each holding one of the golden bundle's engine rows
    (computed by `simulate`, as stored by the campaigns service) under its own code."""
    import dataclasses

    from calculations.management.commands.simulate import simulate
    from calculations.models import Campaign, GroupementResult
    from groupements.models import Groupement, Wave

    results = simulate(GOLDEN.parent, 2022, [])
    totals = results.totals
    waves = {
        "V1": Wave.objects.create(code="V1", label="Vague 1", entry_year=2019, reference_year=2018),
        "V2": Wave.objects.create(code="V2", label="Vague 2", entry_year=2020, reference_year=2019),
    }
    campaign = Campaign.objects.create(
        year=2022,
        version=1,
        status=Campaign.Status.COMPUTED,
        parameters=results.parameters.to_json_dict(),
        truncation_thresholds={str(y): v for y, v in sorted(results.truncation_thresholds.items())},
        real_expenditure_total=totals.real_expenditure_total,
        n_patients=totals.n_patients,
        quality_envelope=totals.quality_envelope,
        national_ceiling=totals.national_ceiling,
        amount_after_cap=totals.amount_after_cap,
        national_coefficient=totals.national_coefficient,
        final_amount=totals.final_amount,
    )
    rows = results.groupements
    for i in range(count):
        code = f"G{i + 1:04d}"
        row = dataclasses.replace(rows[i % len(rows)], code=code)
        groupement = Groupement.objects.create(
            code=code, name=f"Groupement de démonstration {code}", wave=waves[row.wave], region="Bretagne"
        )
        GroupementResult.from_engine_row(row, campaign=campaign, groupement=groupement).save()
    return campaign


def time_single_process(campaign, sample: int) -> list[float]:
    from reports.statements import render_statement_pdf

    timings = []
    for result in campaign.results.select_related("campaign", "groupement__wave").order_by("code")[:sample]:
        start = time.perf_counter()
        render_statement_pdf(result, draft=True)
        timings.append(time.perf_counter() - start)
    return timings


def forget_statements(campaign, media_root: Path) -> None:
    """Each run starts from nothing stored (the same PDFs would otherwise be found already written)."""
    from reports.models import Statement, StatementRendering

    Statement.objects.filter(campaign=campaign).delete()
    StatementRendering.objects.filter(campaign=campaign).delete()
    shutil.rmtree(media_root / "statements", ignore_errors=True)


def start_worker(name: str, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "ipep_site", "worker", "--pool", "solo", "--concurrency", "1"]
    command += ["-l", "WARNING", "--without-gossip", "--without-mingle", "-n", f"{name}-{os.getpid()}@%h"]
    return subprocess.Popen(
        command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def time_celery(campaign, env: dict, workers: int, media_root: Path) -> float:
    """Seconds from the fan-out to the end of the last statement, with `workers` worker processes."""
    from ipep_site.celery import app
    from reports.models import StatementRendering
    from reports.services import render_campaign_statements

    app.control.purge()
    forget_statements(campaign, media_root)
    processes = [start_worker(f"bench-statements-{i}", env) for i in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=0.5)) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit("the Celery workers did not start")
        start = time.perf_counter()
        render_campaign_statements(campaign=campaign)
        rendering = StatementRendering.objects.get(campaign=campaign)
        while True:
            rendering.refresh_from_db()
            if rendering.finished_at is not None:
                return time.perf_counter() - start
            time.sleep(0.2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def _render_in_child(args):
    from reports.services import render_statement

    render_statement(campaign_id=args[0], groupement_id=args[1])


def time_pool(campaign, workers: int, media_root: Path) -> float:
    import multiprocessing

    from django.db import connections

    forget_statements(campaign, media_root)
    jobs = list(campaign.results.values_list("campaign_id", "groupement_id"))
    connections.close_all()  # children must open their own connections
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_render_in_child, jobs, chunksize=1)
    return time.perf_counter() - start


def main():
    args = parse_args()
    broker = None if args.no_broker or not broker_answers(args.broker) else args.broker
    with tempfile.TemporaryDirectory(prefix="bench-statements-") as workdir:
        env = setup_environment(Path(workdir), broker, args.database_url)
        media_root = Path(workdir) / "media"
        campaign = create_campaign(args.groupements)
        from reports.models import Statement

        timings = time_single_process(campaign, min(SAMPLE, args.groupements))
        warm = timings[1:] or timings
        print(
            f"One process, {len(timings)} statements: first (cold fonts) {timings[0]:.3f} s, then mean "
            f"{statistics.mean(warm):.3f} s, median {statistics.median(warm):.3f} s per PDF",
            flush=True,
        )
        mode = "Celery worker processes (--pool solo), broker " + broker if broker else "process pool (no broker)"
        rates = {}
        for workers in (1, 2):
            if broker:
                seconds = time_celery(campaign, env, workers, media_root)
            else:
                seconds = time_pool(campaign, workers, media_root)
            stored = Statement.objects.filter(campaign=campaign).count()
            assert stored == args.groupements, f"{stored} statements stored, {args.groupements} expected"
            rates[workers] = stored / seconds
            print(
                f"{workers} worker(s) [{mode}]: {stored} statements in {seconds:.1f} s, "
                f"{rates[workers]:.2f} statements/s",
                flush=True,
            )
        print(f"Scaling from one worker to two: x{rates[2] / rates[1]:.2f} (ideal x2.00 on 2 idle cores)")


if __name__ == "__main__":
    main()
