"""The grader against a held-out corpus written from the spec, not from the reference.

tests/corpus.py is made of edits of the reference, so it shares the reference's
blind spots. tests/heldout/correct/ holds complete submissions written from
../shared/spec/lesson-api.md in other styles (other window builders, h_n[-1],
DataLoaders, float64 or ddof=1 scalers, notebooks with magics); each must score
exactly 100 with no grader error. tests/heldout/wrong/ holds one of those with one
classic mistake in one function; its header names the items that must lose points,
derived only from the spec's table "Which code each item grades":

    # function: <the student function holding the mistake>
    # loses: <items that grade that function and must catch the mistake>
    # may_lose: <items that grade that function but may not notice the mistake>
    # based on: correct/<file>

Every item not listed must keep full marks (one mistake costs points once).
Failures here are findings about the grader, not about the corpus: see the
assertion messages, which quote each item's feedback.
"""

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.engine import grade
from autograder.rubric import ITEM_IDS, load_rubric

pytestmark = pytest.mark.slow

HELDOUT = Path(__file__).resolve().parent / "heldout"
CORRECT = sorted((HELDOUT / "correct").glob("*.py")) + sorted((HELDOUT / "correct").glob("*.ipynb"))
WRONG = sorted((HELDOUT / "wrong").glob("*.py"))
HEADER_LINE = re.compile(r"^# (function|loses|may_lose|mistake|based on): (.*)$")


@dataclass
class Header:
    function: str
    loses: set
    may_lose: set
    mistake: str
    based_on: Path


def read_header(path):
    """The leading comment block of a wrong submission, with its item ids checked."""
    fields = {}
    for line in path.read_text().splitlines():
        match = HEADER_LINE.match(line)
        if not match:
            break
        fields[match.group(1)] = match.group(2).strip()
    missing = {"function", "loses", "mistake", "based on"} - set(fields)
    if missing:
        raise ValueError(f"{path.name}: header lacks {', '.join(sorted(missing))}")

    def items(text):
        ids = {part.strip() for part in text.split(",") if part.strip()}
        unknown = ids - set(ITEM_IDS)
        if unknown:
            raise ValueError(f"{path.name}: unknown item ids {sorted(unknown)}")
        return ids

    return Header(fields["function"], items(fields["loses"]), items(fields.get("may_lose", "")),
                  fields["mistake"], HELDOUT / fields["based on"])


def describe(result, ids=None):
    return "\n".join(f"  {item.id}: {item.score}/{item.max_score} {item.feedback}"
                     for item in result.items if ids is None or item.id in ids)


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


# --- the corpus itself --------------------------------------------------------------

def test_the_corpus_has_what_the_brief_asks_for():
    assert len([p for p in CORRECT if p.suffix == ".py"]) >= 12
    assert len([p for p in CORRECT if p.suffix == ".ipynb"]) >= 2
    assert len(WRONG) >= 12


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_each_wrong_submission_is_a_correct_one_with_one_small_edit(path):
    """Proves the header's claim: the mistake is a few lines in the named function."""
    header = read_header(path)
    assert header.loses, f"{path.name}: a mistake no item must catch proves nothing"
    assert not header.loses & header.may_lose
    assert header.based_on.is_file(), f"{path.name}: {header.based_on} does not exist"
    body = [line for line in path.read_text().splitlines() if not HEADER_LINE.match(line)][1:]
    base = header.based_on.read_text().splitlines()[1:]                 # both without the docstring's first line
    changed = [line for line in difflib.unified_diff(base, body, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert 0 < len(changed) <= 8, "\n".join(changed)


def test_the_notebooks_are_what_make_notebooks_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", HELDOUT / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.NOTEBOOKS) == sorted(p.name for p in CORRECT if p.suffix == ".ipynb")
    for name, cells in module.NOTEBOOKS.items():
        committed = nbformat.read(HELDOUT / "correct" / name, as_version=4)
        assert [(c.cell_type, c.source) for c in committed.cells] == \
            [("markdown" if kind == "md" else "code", source) for kind, source in cells]
        assert any(c.cell_type == "markdown" for c in committed.cells)
        assert any("%matplotlib inline" in c.source for c in committed.cells)


# --- the grader against it ----------------------------------------------------------

@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_a_correct_submission_scores_100_without_grader_errors(path, rubric):
    result = grade(path, rubric=rubric)
    assert not result.import_error, result.import_error
    crashed = [item.id for item in result.items if "GRADER ERROR" in item.feedback]
    lost = [item.id for item in result.items if not item.passed]
    assert not crashed and result.score == 100, (
        f"{path.name} is correct per the spec but scored {result.score}; wrongly failed: {lost}"
        f"{'; GRADER ERROR in ' + str(crashed) if crashed else ''}\n{describe(result, set(lost))}")


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_a_wrong_submission_loses_points_exactly_where_the_spec_says(path, rubric):
    header = read_header(path)
    result = grade(path, rubric=rubric)
    assert not result.import_error, result.import_error
    lost = {item.id for item in result.items if not item.passed}
    crashed = [item.id for item in result.items if "GRADER ERROR" in item.feedback]
    wrongly_passed = header.loses - lost
    wrongly_failed = lost - header.loses - header.may_lose
    assert not (wrongly_passed or wrongly_failed or crashed), (
        f"{path.name} ({header.function}: {header.mistake})\n"
        f"wrongly passed (must lose): {sorted(wrongly_passed)}\n"
        f"wrongly failed (the spec's table says this item does not grade {header.function}): "
        f"{sorted(wrongly_failed)}\n"
        f"GRADER ERROR: {crashed}\n{describe(result, lost | header.loses)}")
