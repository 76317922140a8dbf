"""Fixtures of the financing tests: a pilot project and a data manager, who records the ledger."""

import pytest

from groupements.roles import DATA_MANAGER

from .factories import PilotProjectFactory


@pytest.fixture
def project(db):
    return PilotProjectFactory(code="P01", start_year=2018, end_year=2022)


@pytest.fixture
def manager(make_user):
    return make_user(role=DATA_MANAGER)
