"""Admin of the financing ledger (ledger.py) and of pilot projects (pilots.py)."""

from . import ledger, pilots  # noqa: F401
