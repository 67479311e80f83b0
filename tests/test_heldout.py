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
tests/heldout/answers/ holds correct programs with an answer block to the exercises'
questions; its header names the answer items that must lose points (see verdicts.py).
Failures here are findings about the grader, not about the corpus: see the
assertion messages, which quote each item's feedback. The checks of the corpus
itself are fast; its grading is in the slow tier.
"""

import ast
import difflib

import nbformat
import pytest

from autograder.engine import grade
from autograder.sandbox.inprocess import InProcessWorker
from autograder.rubric import load_rubric
from verdicts import ANSWERS_LINE, HEADER_LINE, HELDOUT, assert_heldout_correct, assert_heldout_wrong, read_header
from verdicts import CODE_ITEMS
from verdicts import HELDOUT_CORRECT as CORRECT
from verdicts import HELDOUT_WRONG as WRONG
from verdicts import HELDOUT_ANSWERS, REASONS, assert_heldout_answers, read_answers_header


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


# --- the corpus itself --------------------------------------------------------------

def test_the_corpus_has_what_the_brief_asks_for():
    assert len([p for p in CORRECT if p.suffix == ".py"]) >= 12
    assert len([p for p in CORRECT if p.suffix == ".ipynb"]) >= 2
    assert len(WRONG) >= 12
    kinds = {read_answers_header(p).kind for p in HELDOUT_ANSWERS}
    assert len(HELDOUT_ANSWERS) >= 6 and kinds == {"consistent", "contradicted", "blank", "mixed"}, kinds


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


def _without_docstring(text):
    """The lines after the module docstring: what a held-out variant shares with its base."""
    return text.splitlines()[ast.parse(text).body[0].end_lineno:]


def _answer_names_only(path, block):
    """The answer block assigns answer names (and _private helpers) and does nothing else."""
    statements = ast.parse(block).body
    assigned = {target.id for node in statements for target in getattr(node, "targets", [])}
    assert statements and all(isinstance(node, ast.Assign) for node in statements), \
        f"{path.name}: the block only assigns"
    answers = {"BEST_WINDOW_SIZE", "LOWER_VAL_MSE", "STABLE_WITHOUT_CLIPPING", "PLOT_SHOWS", *REASONS}
    assert all(name in answers or name.startswith("_") for name in assigned), sorted(assigned - answers)


@pytest.mark.parametrize("path", HELDOUT_ANSWERS, ids=lambda p: p.stem)
def test_each_answers_submission_is_a_correct_one_with_an_answer_block(path):
    """Proves the code is the base's, untouched, followed only by answers: any point lost is an answer's."""
    header = read_answers_header(path)
    assert header.kind != "consistent" or not header.loses, f"{path.name}: consistent answers lose nothing"
    assert header.kind == "consistent" or header.loses, f"{path.name}: {header.kind} answers must lose something"
    assert header.based_on.is_file(), f"{path.name}: {header.based_on} does not exist"
    if path.suffix == ".ipynb":       # the base's cells, then a markdown title and the answer cell
        cells = [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]
        base = [(c.cell_type, c.source) for c in nbformat.read(header.based_on, as_version=4).cells]
        assert cells[:len(base)] == base and [kind for kind, _ in cells[len(base):]] == ["markdown", "code"]
        _answer_names_only(path, cells[-1][1])
        return
    text = "\n".join(line for line in path.read_text().splitlines() if not ANSWERS_LINE.match(line))
    body, base = _without_docstring(text), _without_docstring(header.based_on.read_text())
    assert body[:len(base)] == base, f"{path.name}: the code differs from {header.based_on.name}"
    _answer_names_only(path, "\n".join(body[len(base):]))


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
    assert sorted(module.ANSWER_NOTEBOOKS) == sorted(p.name for p in HELDOUT_ANSWERS if p.suffix == ".ipynb")
    for name, cells in module.ANSWER_NOTEBOOKS.items():
        committed = nbformat.read(HELDOUT / "answers" / name, as_version=4)
        assert [(c.cell_type, c.source) for c in committed.cells] == \
            [("markdown" if kind == "md" else "code", source) for kind, source in cells]


# --- the grader against it ----------------------------------------------------------
# The .py files are the kit's own code, so they are graded in-process (autograder/sandbox/inprocess.py);
# notebooks go end to end, through the notebook loader and a confined worker. They were written before
# the exercises' questions, so they hold no answers: they are graded on the code's items (the answer
# items are proven by the corpus's claims cases, tests/corpus.py, and by tests/heldout/answers/ below).

@pytest.mark.slow
@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_a_correct_submission_scores_100_without_grader_errors(path, rubric):
    in_process = path.suffix == ".py"
    assert_heldout_correct(path, grade(path, rubric=rubric, worker_factory=InProcessWorker if in_process else None,
                                       only=CODE_ITEMS))


@pytest.mark.slow
@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_a_wrong_submission_loses_points_exactly_where_the_spec_says(path, rubric):
    assert_heldout_wrong(path, grade(path, rubric=rubric, worker_factory=InProcessWorker, only=CODE_ITEMS))


# The answers: each program is a correct one, so every code item keeps full marks and the answer items
# lost are exactly the header's (its claims were picked far from the margins in autograder/checks/answers.py
# against the program's own numbers: 32 lowest and 16 8% above it, LSTM and GRU within 1%, the unclipped
# run identical to the clipped one, no pattern in the plot).
@pytest.mark.slow
@pytest.mark.parametrize("path", HELDOUT_ANSWERS, ids=lambda p: p.stem)
def test_answers_get_the_verdicts_a_ta_would_give(path, rubric):
    in_process = path.suffix == ".py"   # the notebook goes end to end, as the correct ones do
    assert_heldout_answers(path, grade(path, rubric=rubric, worker_factory=InProcessWorker if in_process else None))
