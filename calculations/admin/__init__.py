"""Admin of datasets and campaigns."""

from . import (
    campaigns,  # noqa: F401
    datasets,  # noqa: F401
)
