"""Celery application. Broker and eager mode come from Django settings (CELERY_* names)."""

import os

from celery import Celery

from ipep_site.broker import patch_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipep_site.settings")
patch_redis_transport()  # a Redis outage must not kill the worker (ipep_site/broker.py)

app = Celery("ipep_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ipep_site.ping")
def ping(value="pong"):
    """Round-trip task used to prove a real worker is reachable (health check and CI test)."""
    return value
