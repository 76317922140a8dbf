"""A worker that survives a Redis outage: a patch of kombu's Redis transport (kombu 5.7.0, redis-py 8.1.0).

When the broker goes away while a task runs, Celery's consumer first collects the connection (which
closes its transport: `transport.client = None`), then closes it, which closes the default channel,
which restores its unacknowledged messages (`acks_late`: the running task's message is one of them).
`QoS.restore_unacked` then builds a new Redis pool from `transport.client.hostname` and raises
`AttributeError: 'NoneType' object has no attribute 'hostname'`, which Celery does not count as a
connection error: « Unrecoverable error », the worker exits (tests/site/test_broker_outage.py).

No kombu or Celery release fixes it (5.7.0 is the latest of both). Nothing is lost by not restoring
through a closed transport: kombu keeps every delivered, unacknowledged message in Redis (the
`unacked` hash) until it is acknowledged, and `restore_visible` puts it back in its queue once
`visibility_timeout` has passed (CELERY_BROKER_TRANSPORT_OPTIONS). The same goes for an ack sent
through a closed transport when the task finishes after the outage: the message is redelivered later,
and every task of the project is idempotent (a computation checks its token, a rendering its bytes).
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

PATCHED_KOMBU = "5.7.0"


def _transport_closed(qos) -> bool:
    transport = getattr(qos.channel, "connection", None)
    return transport is None or getattr(transport, "client", None) is None


def patch_redis_transport() -> None:
    """Make restore and ack through a closed Redis transport a logged no-op instead of a worker crash."""
    qos = kombu_redis.QoS
    if getattr(qos, "_ipep_patched", False):
        return
    original_restore, original_ack = qos.restore_unacked, qos.ack

    def restore_unacked(self, client=None):
        if client is None and _transport_closed(self):
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) left in Redis, "
                "redelivered after the visibility timeout",
                len(self._delivered),
            )
            self._delivered.clear()
            return None
        return original_restore(self, client)

    def ack(self, delivery_tag):
        if _transport_closed(self):
            logger.warning(
                "broker connection closed since message %s was received: not acknowledged, "
                "redelivered after the visibility timeout (the task is idempotent)",
                delivery_tag,
            )
            self._delivered.pop(delivery_tag, None)
            return None
        return original_ack(self, delivery_tag)

    qos.restore_unacked, qos.ack = restore_unacked, ack
    qos._ipep_patched = True
