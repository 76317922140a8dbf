"""Business actions on reference data and the financing ledger."""
