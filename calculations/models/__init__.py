from .campaigns import Campaign, CampaignDataset, CampaignTransition, FrozenResultsError, GroupementResult
from .datasets import Dataset
from .simulations import Simulation

__all__ = [
    "Campaign",
    "CampaignDataset",
    "CampaignTransition",
    "Dataset",
    "FrozenResultsError",
    "GroupementResult",
    "Simulation",
]
