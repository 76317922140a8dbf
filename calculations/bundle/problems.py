"""Problems found in input files, reported as `file:line: column: reason`, or `file: column: reason`
for a problem of no particular line (`-` for no column)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .reasons import more_line

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    reason: str
    # A short stable name for the broken rule, used to count problems per rule past the limit.
    rule: str = "invalid"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column or '-'}: {self.reason}"


def format_problems(problems: list[Problem], limit: int = DEFAULT_LIMIT, more: Counter | None = None) -> list[str]:
    """The first `limit` problems, then `… and K more` with a count per rule for the rest: the problems
    past the limit plus `more`, problems that were only counted (a file with millions of bad rows)."""
    lines = [str(p) for p in problems[:limit]]
    rest = Counter(p.rule for p in problems[limit:]) + Counter(more or {})
    if rest:
        lines.append(more_line(sum(rest.values()), rest.most_common()))
    return lines


class ProblemsError(Exception):
    """An error carrying every problem found, all of them in its text and in `messages`."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


class BundleError(Exception):
    """Raised when input files break the rules; carries the problems found (`problems`, in file order)
    and, for problems past those kept, a count per rule (`more`)."""

    def __init__(
        self,
        problems: list[Problem],
        warnings: list[Problem] | None = None,
        more: Counter | None = None,
        *,
        parts: list[BundleError] | None = None,
    ):
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        self.more = Counter({rule: count for rule, count in (more or {}).items() if count})
        self.parts = list(parts or [])
        super().__init__("\n".join(self.lines()))

    @classmethod
    def combine(cls, errors: list[BundleError]) -> BundleError:
        """One refusal for several files, each reported as its own: its first problems, then its
        `… and K more`."""
        return cls(
            [problem for error in errors for problem in error.problems],
            [warning for error in errors for warning in error.warnings],
            sum((error.more for error in errors), Counter()),
            parts=errors,
        )

    @classmethod
    def per_file(cls, problems: list[Problem], warnings: list[Problem] | None = None) -> BundleError:
        """One refusal for problems of several files, each file reported as its own (its first problems,
        then its `… and K more`), files in the order of their first problem."""
        by_file: dict[str, list[Problem]] = {}
        for problem in problems:
            by_file.setdefault(problem.file, []).append(problem)
        parts = [cls(file_problems) for file_problems in by_file.values()]
        return cls(list(problems), warnings, parts=parts)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(self.more.values())

    def lines(self, limit: int = DEFAULT_LIMIT) -> list[str]:
        if self.parts:
            return [line for part in self.parts for line in part.lines(limit)]
        return format_problems(self.problems, limit, self.more)

    def report(self, limit: int = DEFAULT_LIMIT) -> str:
        return "\n".join(self.lines(limit))


class ProblemCollector:
    """Accumulates problems (and warnings) while files are checked, so all are reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, file: str, line: int | None, column: str | None, reason: str, rule: str = "invalid") -> None:
        self.problems.append(Problem(file, line, column, reason, rule))

    def warn(self, file: str, line: int | None, column: str | None, reason: str, rule: str = "warning") -> None:
        self.warnings.append(Problem(file, line, column, reason, rule))

    def extend(self, other: ProblemCollector) -> None:
        self.problems.extend(other.problems)
        self.warnings.extend(other.warnings)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error()

    def error(self) -> BundleError:
        """The refusal of everything collected, each file with its own first problems and count."""
        return BundleError.per_file(self.problems, self.warnings)
