"""Reading and validating the files of a bundle (METHODOLOGY.md section 3).

Pure Python + Polars, no Django: the same rules serve `load_bundle`, `simulate` and dataset
ingestion. Every problem is a `Problem` printed as `file:line: column: reason`.
"""

from .problems import BundleError, Problem, ProblemCollector, format_problems

__all__ = ["BundleError", "Problem", "ProblemCollector", "format_problems"]
