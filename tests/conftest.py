"""Shared fixtures: paths, the reference module, and a cached grading helper."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_EXPECTED = ROOT.parent / "shared" / "lesson" / "expected-output.txt"
# A copy of the lesson's expected block, so the check never depends on a folder beside the clone.
EXPECTED_OUTPUT = ROOT / "tests" / "data" / "expected-output.txt"
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference():
    import solutions.sequence_modeling as reference
    return reference


@pytest.fixture(scope="session")
def expected_output():
    return EXPECTED_OUTPUT.read_text()
