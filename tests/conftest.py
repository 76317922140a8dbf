"""Shared fixtures: where the golden bundle is, users with roles, loaded reference data, a real S3 API
server (moto's standalone server) for the object-storage tests."""

import logging
import os
import uuid
from pathlib import Path

import pytest
from celery.signals import task_postrun
from hypothesis import settings as hypothesis_settings

from tests.browser import browser  # noqa: F401  (the fixture of the browser tests)
from tests.golden import GOLDEN_DIR, GOLDEN_EXPECTED, REPO, SHARED  # noqa: F401  (imported from here by tests)

# Property tests draw the same examples on every run, so `make test` and CI never fail at random; run
# `HYPOTHESIS_PROFILE=explore make test` to search new examples (and add any failure as an @example).
hypothesis_settings.register_profile("default", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=200)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The admin registers its models when the URLs load (SimpleAdminConfig); tests that walk the registry at
# collection time need it before any request.
import ipep_site.urls  # noqa: E402, F401


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Tasks run in-process, also when CI points CELERY_BROKER_URL at Redis; only the tests marked
    celery_worker go through the broker to a real worker (`real_worker`)."""
    from ipep_site.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def real_worker():
    """A Celery worker (two threads) consuming the real broker, not eager mode; queued leftovers of
    earlier runs are purged first."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from ipep_site.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    # A deployed worker keeps its connection between tasks (ipep_site.celery); these threads end with the
    # test, and a connection left in a finished thread would keep the test database open.
    task_postrun.connect(close_this_threads_connections)
    try:
        with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, shutdown_timeout=10) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_this_threads_connections)
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def close_this_threads_connections(**kwargs):
    from django.db import connections

    connections.close_all()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own (tests.workers.OwnRedis), for outages it may cause; killed at the end."""
    from tests.workers import OwnRedis

    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def broker_client(own_redis, monkeypatch):
    """A Celery client of `own_redis` (broker and results), to send tasks to a worker process by name."""
    from celery import Celery

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery prefers it to the URL given here
    client = Celery("ipep-test-client", broker=own_redis.url, backend=own_redis.url, set_as_current=False)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; PBKDF2's cost is not what they exercise (the test database only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def golden_dir() -> Path:
    return GOLDEN_DIR


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def local_temp(tmp_path, monkeypatch):
    """The system's temporary directory for this test (uploads in progress, validation scratch, local
    copies), to check that nothing is left in it."""
    import tempfile

    directory = tmp_path / "system-tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def loaded_reference(db, golden_dir):
    """The golden bundle's reference data in the database."""
    from calculations.services.reference import load_reference_bundle

    return load_reference_bundle(directory=golden_dir)


@pytest.fixture
def make_user(db):
    from tests.factories import UserFactory

    def make(role=None, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


# --- Object storage: a real S3 API over HTTP on 127.0.0.1 (moto's standalone server), not a mock ----

S3_REGION = "eu-west-3"
S3_CREDENTIALS = {"access_key": "ipep-test-key", "secret_key": "ipep-test-secret"}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server in a thread of the test process, on 127.0.0.1 and a free port; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, tmp_path):
    """The project's storage in a fresh private bucket of the S3 server (IPEP_STORAGE=s3 settings), with
    MEDIA_ROOT pointed at a folder that must stay empty: nothing of the project goes to the local disk."""
    import boto3

    from ipep_site.settings import s3_storage as storage_settings

    bucket = f"ipep-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name=S3_REGION, **_boto_credentials())
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    settings.MEDIA_ROOT = tmp_path / "media-never-written"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_settings(bucket=bucket, endpoint_url=s3_server, region=S3_REGION, **S3_CREDENTIALS),
    }
    from django.core.files.storage import default_storage

    yield S3Bucket(client=client, name=bucket, storage=default_storage)


def _boto_credentials() -> dict:
    return {
        "aws_access_key_id": S3_CREDENTIALS["access_key"],
        "aws_secret_access_key": S3_CREDENTIALS["secret_key"],
    }


class S3Bucket:
    """The test bucket seen from outside the project (boto3 straight to the server)."""

    def __init__(self, *, client, name, storage):
        self.client, self.name, self.storage = client, name, storage

    def object_keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def write(self, key: str, content: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=content)
