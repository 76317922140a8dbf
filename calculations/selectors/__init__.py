"""Read queries on datasets and campaigns (see datasets.py, campaigns.py)."""
