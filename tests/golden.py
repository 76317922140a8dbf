"""The golden 2022 bundle the tests compute, its expected results and the exact comparison.

Tests always read the copies kept in the repository (demo/golden-2022, demo/tools), so that a lone clone
or a worktree runs every golden test instead of skipping it; `test_golden_copies` checks that those
copies are still byte for byte the files of ../shared when that folder is there.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOLDEN_DIR = REPO / "demo" / "golden-2022"
GOLDEN_EXPECTED = GOLDEN_DIR / "expected_2022.v3.json"  # steps 1–13: the file to meet
GOLDEN_EXPECTED_V2 = GOLDEN_DIR / "expected_2022.json"  # steps 1–12: still met (noise_gate = off changes nothing)
COMPARE_TOOL = REPO / "demo" / "tools" / "compare_results.py"


def expected_golden(name: str = GOLDEN_EXPECTED.name) -> dict:
    return json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8"))


@cache
def _compare_tool():
    spec = importlib.util.spec_from_file_location("compare_results", COMPARE_TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.CENT = Decimal(0)  # the tool's --exact-cents
    return tool


def exact_comparison(expected: dict, actual: dict) -> tuple[list[str], int, int]:
    """compare_results.py --exact-cents: (differences, figures that passed, figures that failed)."""
    problems, counts = [], [0, 0]
    _compare_tool().compare("", expected, actual, problems, counts)
    return problems, counts[0], counts[1]


def exact_cents_differences(expected: dict, actual: dict) -> tuple[list[str], int]:
    """compare_results.py --exact-cents: (differences, figures compared)."""
    problems, passed, failed = exact_comparison(expected, actual)
    return problems, passed + failed


@cache
def golden_results():
    """The engine's results for the golden bundle (computed once per test session, as `simulate` does)."""
    from calculations.management.commands.simulate import simulate

    return simulate(GOLDEN_DIR, 2022, [])
