"""The IPEP calculation engine (METHODOLOGY.md section 4): pure Python + Polars, no Django.

`compute_campaign(inputs, parameters, progress=None) -> CampaignResults` is the one entry point;
`simulate` and the Celery task are thin callers that build `CampaignInputs`
(`calculations.bundle.inputs`, the one input type) from files or the database.
"""

from calculations.bundle.inputs import CampaignInputs

from .compute import compute_campaign
from .errors import EngineError
from .parameters import ParameterError, Parameters
from .results import CampaignResults, CampaignTotals, GroupementResultRow

__all__ = [
    "CampaignInputs",
    "CampaignResults",
    "CampaignTotals",
    "EngineError",
    "GroupementResultRow",
    "ParameterError",
    "Parameters",
    "compute_campaign",
]
