"""Errors of the calculation itself: the inputs were well-formed files, but the campaign cannot be computed."""

from __future__ import annotations

from calculations.bundle.problems import Problem, ProblemsError

ENGINE_RULE = "engine"


def engine_problem(file: str, reason: str, column: str | None = None) -> Problem:
    """A problem found while computing, attached to the input it comes from (printed `file:line: column: reason`)."""
    return Problem(file, None, column, reason, ENGINE_RULE)


class EngineError(ProblemsError):
    """The campaign cannot be computed; carries every problem found, each naming the groupement or year."""
