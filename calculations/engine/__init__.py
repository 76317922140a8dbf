"""The IPEP calculation engine (METHODOLOGY.md section 4): pure Python + Polars, no Django.

`compute_campaign(inputs, parameters, progress=None) -> CampaignResults` is the one entry point;
`simulate` and the Celery task are thin callers that build `CampaignInputs` from files or the database.
"""

from .compute import compute_campaign
from .errors import EngineError
from .inputs import CampaignInputs
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
