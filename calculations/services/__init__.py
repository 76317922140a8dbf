"""Business actions on datasets and campaigns (see datasets.py, campaigns.py)."""
