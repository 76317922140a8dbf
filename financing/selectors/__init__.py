"""Read queries of the financing app: the FISS report and break-even (report.py), pilot projects (pilots.py)."""
