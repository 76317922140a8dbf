"""Read queries of the groupements app (ledger.py: financing report, break-even, pilot projects)."""
