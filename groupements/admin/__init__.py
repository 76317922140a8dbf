"""Admin of reference data and the financing ledger."""
from . import reference  # noqa: F401
