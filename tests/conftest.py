"""Shared test set-up: the Hypothesis profile ("ci" when CI is set: derandomized, bounded),
and, under mutmut only, the fastest tests first."""

from __future__ import annotations

import json
import os
from pathlib import Path

from minigrad.testing import load_profile_from_env

load_profile_from_env()


def pytest_collection_modifyitems(items: list) -> None:
    """Under mutmut (which sets MUTANT_UNDER_TEST and runs from its mutants/ copy), order
    the tests by their measured duration: a mutant is killed by its first failing test,
    so a cheap test that kills it should run before a slow one. Elsewhere: no change."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    try:
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
