"""Admin of reference data and the financing ledger."""

from . import ledger, reference  # noqa: F401
