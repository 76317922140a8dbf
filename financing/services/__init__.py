"""Business actions on the financing ledger (ledger.py), versements.csv (payments.py) and pilot projects (pilots.py)."""
