"""Admin of datasets and campaigns."""
