"""Admin of reference data (the audit-trail « Historique » page is history.py)."""

from . import reference  # noqa: F401
