"""Benchmark: render the statements of a 30-groupement campaign.

    .venv/bin/python bench/statements.py [--groupements 30] [--broker redis://127.0.0.1:6379/7 | --no-broker]

Works on a throw-away SQLite database and MEDIA_ROOT in a temporary directory (the project database
is never touched). Prints the time per PDF in one process, then the total for the whole campaign with
2 workers: a real `celery worker --concurrency 2` subprocess fed through Redis when the broker
answers, else a 2-process pool (the output says which). Targets: < 0.5 s per statement, 30 in < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO.parent / "shared" / "data" / "golden-2022" / "expected_2022.json"
if not GOLDEN.is_file():
    GOLDEN = REPO / "demo" / "golden-2022" / "expected_2022.json"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groupements", type=int, default=30)
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--no-broker", action="store_true", help="use a 2-process pool instead of a Celery worker")
    return parser.parse_args()


def broker_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "no broker"
        return False


def setup_environment(workdir: Path, broker: str | None) -> dict:
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
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
    """A computed campaign of `count` groupements, cycling over the golden 2022 results."""
    from calculations.models import Campaign, GroupementResult
    from groupements.models import Groupement, Wave

    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    waves = {
        "V1": Wave.objects.create(code="V1", label="Vague 1", entry_year=2019, reference_year=2018),
        "V2": Wave.objects.create(code="V2", label="Vague 2", entry_year=2020, reference_year=2019),
    }
    totals = golden["totals"]
    campaign = Campaign.objects.create(
        year=2022,
        version=1,
        status=Campaign.Status.COMPUTED,
        parameters=golden["parameters"],
        truncation_thresholds=golden["truncation_thresholds"],
        real_expenditure_total=totals["real_expenditure_total"],
        n_patients=totals["n_patients"],
        quality_envelope=totals["quality_envelope"],
        national_ceiling=totals["national_ceiling"],
        amount_after_cap=totals["amount_after_cap"],
        national_coefficient=totals["national_coefficient"],
        final_amount=Decimal(totals["final_amount"]),
    )
    details = [
        {
            "code": f"IND{i}",
            "label": f"Indicateur de démonstration {i}",
            "family": "socle" if i < 6 else "carte",
            "direction": "hausse" if i % 2 else "baisse",
            "value_n": 50.0 + i,
            "value_n_1": 48.0 + i,
            "d2": 40.0,
            "d3": 45.0,
            "d7": 60.0,
            "d8": 65.0,
            "points": 7.5,
            "max_points": 70 / 6 if i < 6 else 30.0,
        }
        for i in range(7)
    ]
    for i in range(count):
        row = dict(golden["groupements"][i % len(golden["groupements"])])
        code = f"G{i + 1:03d}"
        groupement = Groupement.objects.create(
            code=code, name=f"Groupement de démonstration {code}", wave=waves[row["wave"]], region="Bretagne"
        )
        row.update(code=code, final_amount=Decimal(row["final_amount"]))
        GroupementResult.objects.create(
            campaign=campaign, groupement=groupement, quality_details=details, experience_points=10.0, **row
        )
    return campaign


def time_single_process(campaign) -> list[float]:
    from reports.statements import render_statement_pdf

    timings = []
    for result in campaign.results.select_related("campaign", "groupement__wave").order_by("code"):
        start = time.perf_counter()
        render_statement_pdf(result, draft=True)
        timings.append(time.perf_counter() - start)
    return timings


def time_celery(campaign, env: dict) -> tuple[float, float]:
    """Cold (workers just started) and warm totals of render_campaign_statements through the broker."""
    from ipep_site.celery import app
    from reports.services import render_campaign_statements

    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ipep_site",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-statements-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env={**os.environ, **env},
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the Celery worker did not start")
        totals = []
        for _ in range(2):
            start = time.perf_counter()
            render_campaign_statements(campaign=campaign).get(timeout=300)
            totals.append(time.perf_counter() - start)
        return totals[0], totals[1]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _render_in_child(args):
    from reports.services import render_statement

    render_statement(campaign_id=args[0], groupement_id=args[1])


def time_pool(campaign) -> tuple[float, float]:
    import multiprocessing

    from django.db import connections

    jobs = list(campaign.results.values_list("campaign_id", "groupement_id"))
    totals = []
    for _ in range(2):
        connections.close_all()  # children must open their own connections
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(_render_in_child, jobs, chunksize=1)
        totals.append(time.perf_counter() - start)
    return totals[0], totals[1]


def main():
    args = parse_args()
    broker = None if args.no_broker or not broker_answers(args.broker) else args.broker
    with tempfile.TemporaryDirectory(prefix="bench-statements-") as workdir:
        env = setup_environment(Path(workdir), broker)
        campaign = create_campaign(args.groupements)
        from reports.models import Statement

        timings = time_single_process(campaign)
        warm = timings[1:] or timings
        print(
            f"One process, {len(timings)} statements: first (cold fonts) {timings[0]:.3f} s, then mean {statistics.mean(warm):.3f} s, "
            f"median {statistics.median(warm):.3f} s, max {max(warm):.3f} s per PDF (target < 0.5 s)"
        )
        if broker:
            mode = f"Celery worker subprocess, --concurrency 2 (prefork), broker {broker}"
            cold, hot = time_celery(campaign, env)
        else:
            mode = "2-process pool (no broker answered)"
            cold, hot = time_pool(campaign)
        stored = Statement.objects.filter(campaign=campaign).count()
        print(
            f"Fan-out with 2 workers [{mode}]: {stored} statements stored; "
            f"total {cold:.2f} s with freshly started workers, {hot:.2f} s warm (target < 10 s); "
            f"{cold / args.groupements:.3f} s per statement of wall time"
        )


if __name__ == "__main__":
    main()
