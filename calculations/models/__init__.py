from .campaigns import Campaign, CampaignDataset, CampaignTransition, FrozenResultsError, GroupementResult
from .datasets import Dataset

__all__ = ["Campaign", "CampaignDataset", "CampaignTransition", "Dataset", "FrozenResultsError", "GroupementResult"]
