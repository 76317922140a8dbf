"""Shared fixtures: where the golden bundle is, users with roles, loaded reference data."""

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests draw the same examples on every run, so `make test` and CI never fail at random; run
# `HYPOTHESIS_PROFILE=explore make test` to search new examples (and add any failure as an @example).
hypothesis_settings.register_profile("default", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=200)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# ../shared is the source of truth; demo/ keeps a copy so a lone clone still runs.
GOLDEN_DIR = (
    SHARED / "data" / "golden-2022" if (SHARED / "data" / "golden-2022").is_dir() else REPO / "demo" / "golden-2022"
)
GOLDEN_EXPECTED = GOLDEN_DIR / "expected_2022.json"


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
    try:
        with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


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
