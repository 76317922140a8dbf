from .campaigns import Campaign, CampaignDataset, CampaignTransition, GroupementResult
from .datasets import Dataset

__all__ = ["Campaign", "CampaignDataset", "CampaignTransition", "Dataset", "GroupementResult"]
