"""Signs of life of long tasks, and database access that survives a dropped connection.

A computation or a validation may spend minutes inside one Polars step: `Heartbeat` writes its sign of
life from a thread of its own (with its own database connection) every IPEP_HEARTBEAT_SECONDS, so a
task that stops writing one is dead (kill -9, lost machine), whatever step it was in. The stale
limits (IPEP_*_STALE_AFTER_SECONDS) and the periodic check in CELERY_BEAT_SCHEDULE turn that into a
failure within two minutes.

`with_fresh_connection` is for error handlers: when the error was the database connection itself
(restarted server, `pg_terminate_backend`), the handler must not write through the dead connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections

logger = logging.getLogger(__name__)


class Heartbeat:
    """`beat()` every `interval` seconds in a daemon thread while the block runs; the thread
    stops early when `beat()` returns False (the task lost its object) and closes its connection."""

    def __init__(self, beat: Callable[[], bool], *, interval: float | None = None):
        self.beat = beat
        self.interval = settings.IPEP_HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ipep-heartbeat", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.interval))
        return False

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self.beat():
                        return
                except Exception:  # the database is away: try again at the next beat
                    logger.warning("heartbeat not written", exc_info=True)
                    connections["default"].close()
        finally:
            connections["default"].close()  # this thread's own connection


def discard_broken_connection() -> None:
    """Close this thread's database connection if it no longer works; the next query opens a new one."""
    if connection.in_atomic_block:
        return
    connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def with_fresh_connection(write: Callable[[], object], *, attempts: int = 3):
    """`write()` on a working connection: a broken one is closed and the write tried again."""
    for attempt in range(attempts):
        discard_broken_connection()
        try:
            return write()
        except Exception:
            if attempt == attempts - 1:
                raise
            logger.warning("database write failed, retrying on a new connection", exc_info=True)
            if not connection.in_atomic_block:
                connection.close()
    return None
