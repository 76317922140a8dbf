"""Admin of datasets, campaigns and their what-if simulations."""

from . import (
    campaigns,  # noqa: F401
    datasets,  # noqa: F401
    simulations,  # noqa: F401
)
