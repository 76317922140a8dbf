"""A management command starts without the admin, the engine's Polars or the document libraries (issue
17: they cost more than a second of every command); the admin's system check still sees every ModelAdmin."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# kombu's Redis transport (with redis-py's asyncio client) is the worker's, patched when a worker starts.
HEAVY = (
    "polars",
    "numpy",
    "matplotlib",
    "weasyprint",
    "openpyxl",
    "boto3",
    "import_export.admin",
    "kombu.transport.redis",
)

PROBE = """
import json, sys
from django.core.management import ManagementUtility
utility = ManagementUtility([sys.argv[0], *sys.argv[1:]])
try:
    utility.execute()
except SystemExit:
    pass
loaded = [m for m in {heavy!r} if m in sys.modules]
admin_modules = sorted(m for m in sys.modules if m.endswith(".admin") or ".admin." in m)
print(json.dumps({{"heavy": loaded, "project_admin": [m for m in admin_modules if not m.startswith(("django.", "pghistory", "import_export", "axes"))]}}))
"""


def modules_after(*arguments: str) -> dict:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "ipep_site.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + PROBE.format(heavy=HEAVY), *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "arguments",
    [
        ("help",),
        ("transition_campaign", "--help"),
        ("create_campaign", "--help"),
        ("run_campaign", "--help"),
        ("simulate_campaign", "--help"),
        ("ingest_file", "--help"),
        ("financing_report", "--help"),
        ("render_statements", "--help"),
        ("verify_integrity", "--help"),
        ("export_public_file", "--help"),
    ],
)
def test_a_command_starts_without_the_admin_nor_heavy_libraries(arguments):
    loaded = modules_after(*arguments)
    assert loaded == {"heavy": [], "project_admin": []}


def test_a_worker_patches_the_redis_transport_when_it_starts():
    """The patch of ipep_site/broker.py, left out of every command's start, is applied by worker_init."""
    probe = (
        "import sys, django; django.setup(); from celery import signals; from ipep_site.celery import app; "
        "before = 'kombu.transport.redis' in sys.modules; signals.worker_init.send(sender=None); "
        "from kombu.transport.redis import QoS; "
        "print(before, QoS.restore_unacked.__module__, QoS.ack.__module__)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "ipep_site.settings"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.split()[-3:] == ["False", "ipep_site.broker", "ipep_site.broker"], result.stderr
