"""/health/: the state of what the site needs, for a load balancer or a monitor (django-health-check).

No login: it shows only the name of each part and « ok » or « indisponible », never an address, a
version or an error message (those go to the log). 200 when every part answers, 503 when one does not.
With tasks run in-process (no broker configured), there is no broker nor worker to check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import uuid

from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.checks import Storage as StorageCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from common.storage import SCRATCH_DIRECTORY

UNAVAILABLE_STATUS = 503
PROBE_SECONDS = 2


def _broker_connection():
    from ipep_site.celery import app

    connection = app.connection_for_write()
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=PROBE_SECONDS)
    except Exception as error:
        connection.release()
        raise ServiceUnavailable("Broker unreachable") from error
    return connection


@dataclasses.dataclass
class Storage(StorageCheck):
    """Writes, reads and deletes a small file where the project keeps its scratch files, so that a
    local MEDIA_ROOT keeps no empty directory of the check."""

    def get_file_name(self):
        return f"{SCRATCH_DIRECTORY}/health-{uuid.uuid4().hex}.txt"


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout = datetime.timedelta(seconds=PROBE_SECONDS + 1)

    def run(self):
        _broker_connection().release()


@dataclasses.dataclass
class Worker(Ping):
    """A Celery worker answers a ping and consumes the queue (django-health-check's Ping), asked only once
    the broker accepts a connection, so that a broker outage fails fast instead of waiting on retries."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=PROBE_SECONDS), repr=False)

    def run(self):
        _broker_connection().release()
        super().run()


CHECKS = {"database": Database, "cache": Cache, "storage": Storage, "broker": Broker, "worker": Worker}


class HealthView(HealthCheckView):
    def get_checks(self):
        from ipep_site.celery import app

        in_process = app.conf.task_always_eager
        for name, check in CHECKS.items():
            if not (in_process and name in ("broker", "worker")):
                yield name, check()

    async def get(self, request, *args, **kwargs):
        names, checks = zip(*self.get_checks(), strict=True)
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in checks))
        states = {name: "indisponible" if result.error else "ok" for name, result in zip(names, results, strict=True)}
        healthy = all(state == "ok" for state in states.values())
        response = JsonResponse(
            {"status": "ok" if healthy else "indisponible", "checks": states},
            status=200 if healthy else UNAVAILABLE_STATUS,
            json_dumps_params={"ensure_ascii": False},
        )
        add_never_cache_headers(response)
        return response
