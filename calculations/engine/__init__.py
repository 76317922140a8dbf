"""The IPEP calculation engine (METHODOLOGY.md section 4): pure Python + Polars, no Django.

`compute_campaign(inputs, parameters, progress=None) -> CampaignResults` is the one entry point;
`simulate` and the Celery task are thin callers that build `CampaignInputs`
(`calculations.bundle.inputs`, the one input type) from files or the database.

The names below load their module on first use (PEP 562): reading `Parameters` or `EngineError`
(forms, commands, the admin) does not import Polars, which only the computation needs.
"""

from importlib import import_module

_HOMES = {
    "CampaignInputs": "calculations.bundle.inputs",
    "CampaignResults": "calculations.engine.results",
    "CampaignTotals": "calculations.engine.results",
    "GroupementResultRow": "calculations.engine.results",
    "EngineError": "calculations.engine.errors",
    "ParameterError": "calculations.engine.parameters",
    "Parameters": "calculations.engine.parameters",
    "compute_campaign": "calculations.engine.compute",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
