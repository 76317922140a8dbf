"""Celery application. Broker and eager mode come from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals

from ipep_site import requestlog

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipep_site.settings")

app = Celery("ipep_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The id of the request that launched a task goes with it and marks the worker's log lines (requestlog).
signals.before_task_publish.connect(requestlog.add_request_id_header, weak=False)
signals.task_prerun.connect(requestlog.enter_task, weak=False)
signals.task_postrun.connect(requestlog.leave_task, weak=False)


def close_old_database_connections(task=None, **kwargs):
    """Around each task, as Django does around each request: a connection older than CONN_MAX_AGE, or left
    unusable by an error (a restarted database), is closed and the next query opens a new one; the others
    serve the next task. Not for an eager task, which runs inside its caller's request and transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


signals.task_prerun.connect(close_old_database_connections, weak=False)
signals.task_postrun.connect(close_old_database_connections, weak=False)


@signals.worker_init.connect(weak=False)
def survive_broker_outages(**kwargs):
    """A Redis outage must not kill the worker (ipep_site/broker.py). Patched when a worker starts, before
    it consumes: only a consumer restores and acknowledges messages, and every other process (the web,
    each management command) is spared loading kombu's Redis transport at start-up."""
    from ipep_site.broker import patch_redis_transport

    patch_redis_transport()


@signals.setup_logging.connect(weak=False)
def use_django_logging(**kwargs):
    """The worker and beat log through settings.LOGGING (JSON lines) instead of Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.task(name="ipep_site.ping")
def ping(value="pong"):
    """Round-trip task used to prove a real worker is reachable (health check and CI test)."""
    return value
