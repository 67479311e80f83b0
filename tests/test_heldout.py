"""The grader against a held-out corpus written from the spec, not from the reference.

tests/corpus.py is made of edits of the reference, so it shares the reference's
blind spots. tests/heldout/correct/ holds complete submissions written from
../shared/spec/lesson-api.md in other styles (other window builders, h_n[-1],
DataLoaders, float64 or ddof=1 scalers, notebooks with magics); each must score
exactly 100 with no grader error. tests/heldout/cases.py's WRONG are edits of those:
one classic mistake in one function each, with the items that must lose points
(``loses``) and those that may (``may_lose``), derived only from the spec's table
"Which code each item grades"; every item not listed must keep full marks (one
mistake costs points once). Its ANSWERS (and the notebook in tests/heldout/answers/)
are correct programs with an answer block to the exercises' questions, naming the
answer items that must lose points (see verdicts.py).
Failures here are findings about the grader, not about the corpus: see the
assertion messages, which quote each item's feedback. The checks of the corpus
itself are fast; its grading is in the slow tier.
"""

import ast
import difflib

import nbformat
import pytest

from autograder.engine import grade
from inprocess import InProcessWorker
from autograder.rubric import load_rubric
from heldout import cases
from heldout.cases import ANSWERS, WRONG
from verdicts import HELDOUT, assert_heldout_correct, assert_heldout_wrong
from verdicts import CODE_ITEMS
from verdicts import HELDOUT_CORRECT as CORRECT
from verdicts import HELDOUT_ANSWER_NOTEBOOKS as ANSWER_NOTEBOOKS
from verdicts import ANSWER_NAMES, assert_heldout_answers, read_answers_header


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


# --- the corpus itself --------------------------------------------------------------

def test_the_corpus_has_what_the_brief_asks_for():
    assert len([p for p in CORRECT if p.suffix == ".py"]) >= 12
    assert len([p for p in CORRECT if p.suffix == ".ipynb"]) >= 2
    assert len(WRONG) >= 12
    kinds = {case.kind for case in ANSWERS} | {read_answers_header(p).kind for p in ANSWER_NOTEBOOKS}
    assert len(ANSWERS) + len(ANSWER_NOTEBOOKS) >= 6 and kinds == {"consistent", "contradicted", "blank", "mixed"}, kinds
    names = [case.name for case in WRONG + ANSWERS] + [p.stem for p in ANSWER_NOTEBOOKS]
    assert len(names) == len(set(names)), "two held-out programs share a name"


def _lines_of(source, name):
    """(first, last) line of the top-level function or class ``name`` in ``source``, its def line first."""
    nodes = [node for node in ast.parse(source).body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name]
    assert len(nodes) == 1, f"{len(nodes)} top-level definitions of {name}"
    return nodes[0].lineno, nodes[0].end_lineno


def _without_docstring(text):
    """The lines after the module docstring (and any header comments before it): what a held-out
    program shares with its base."""
    return text.splitlines()[ast.parse(text).body[0].end_lineno:]


@pytest.mark.parametrize("case", WRONG, ids=lambda case: case.name)
def test_each_wrong_program_is_a_correct_one_with_one_small_edit(case):
    """Proves the case's claim: the mistake is a few lines, all in the named function."""
    assert case.loses, f"{case.name}: a mistake no item must catch proves nothing"
    assert not set(case.loses) & set(case.may_lose)
    assert (cases.CORRECT / case.base).is_file(), f"{case.name}: correct/{case.base} does not exist"
    base = (cases.CORRECT / case.base).read_text()
    first, last = _lines_of(base, case.function)
    for old, new in case.edits:
        assert base.count(old) == 1, f"{case.name}: {old!r} is in correct/{case.base} {base.count(old)} times, not once"
        start = base[:base.index(old)].count("\n") + 1
        end = start + old.rstrip("\n").count("\n")
        assert first <= start and end <= last, \
            f"{case.name}: {old!r} (lines {start}-{end}) is outside {case.function} (lines {first}-{last})"
    changed = [line for line in difflib.unified_diff(_without_docstring(base), _without_docstring(cases.build(case)),
                                                     lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert 0 < len(changed) <= 8, "\n".join(changed)


def _answer_names_only(what, block):
    """The answer block assigns answer names (and _private helpers) and does nothing else."""
    statements = ast.parse(block).body
    assigned = {target.id for node in statements for target in getattr(node, "targets", [])}
    assert statements and all(isinstance(node, ast.Assign) for node in statements), \
        f"{what}: the block only assigns"
    assert all(name in ANSWER_NAMES or name.startswith("_") for name in assigned), sorted(assigned - ANSWER_NAMES)


def _kind_agrees_with_loses(header):
    assert header.kind != "consistent" or not header.loses, f"{header.name}: consistent answers lose nothing"
    assert header.kind == "consistent" or header.loses, f"{header.name}: {header.kind} answers must lose something"


@pytest.mark.parametrize("case", ANSWERS, ids=lambda case: case.name)
def test_each_answers_program_is_a_correct_one_with_an_answer_block(case):
    """Proves the code is the base's, untouched, followed only by answers: any point lost is an answer's."""
    _kind_agrees_with_loses(case)
    assert (cases.CORRECT / case.base).is_file(), f"{case.name}: correct/{case.base} does not exist"
    body, base = _without_docstring(cases.build(case)), _without_docstring((cases.CORRECT / case.base).read_text())
    assert body[:len(base)] == base, f"{case.name}: the code differs from {case.base}"
    _answer_names_only(case.name, "\n".join(body[len(base):]))


@pytest.mark.parametrize("path", ANSWER_NOTEBOOKS, ids=lambda p: p.stem)
def test_each_answers_notebook_is_a_correct_one_with_an_answer_cell(path):
    """The base's cells, then a markdown title and the answer cell."""
    header = read_answers_header(path)
    _kind_agrees_with_loses(header)
    assert header.based_on.is_file(), f"{path.name}: {header.based_on} does not exist"
    cells = [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]
    base = [(c.cell_type, c.source) for c in nbformat.read(header.based_on, as_version=4).cells]
    assert cells[:len(base)] == base and [kind for kind, _ in cells[len(base):]] == ["markdown", "code"]
    _answer_names_only(path.name, cells[-1][1])


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
    assert sorted(module.ANSWER_NOTEBOOKS) == sorted(p.name for p in ANSWER_NOTEBOOKS)
    for name, cells in module.ANSWER_NOTEBOOKS.items():
        committed = nbformat.read(HELDOUT / "answers" / name, as_version=4)
        assert [(c.cell_type, c.source) for c in committed.cells] == \
            [("markdown" if kind == "md" else "code", source) for kind, source in cells]


# --- the grader against it ----------------------------------------------------------
# The .py files are the kit's own code, so they are graded in-process (tests/inprocess.py);
# notebooks go end to end, through the notebook loader and a confined worker. They were written before
# the exercises' questions, so they hold no answers: they are graded on the code's items (the answer
# items are proven by the corpus's claims cases, tests/corpus.py, and by the held-out answers below).
# The programs built from edits are written to the test's own folder and graded from there.

@pytest.mark.slow
@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_a_correct_submission_scores_100_without_grader_errors(path, rubric):
    in_process = path.suffix == ".py"
    assert_heldout_correct(path, grade(path, rubric=rubric, worker_factory=InProcessWorker if in_process else None,
                                       only=CODE_ITEMS))


@pytest.mark.slow
@pytest.mark.parametrize("case", WRONG, ids=lambda case: case.name)
def test_a_wrong_submission_loses_points_exactly_where_the_spec_says(case, rubric, tmp_path):
    path = cases.write(case, tmp_path)
    assert_heldout_wrong(case, grade(path, rubric=rubric, worker_factory=InProcessWorker, only=CODE_ITEMS))


# The answers: each program is a correct one, so every code item keeps full marks and the answer items
# lost are exactly the header's (its claims were picked far from the margins in autograder/items/answers.py
# against the program's own numbers: 32 lowest and 16 8% above it, LSTM and GRU within 1%, the unclipped
# run identical to the clipped one, no pattern in the plot).
@pytest.mark.slow
@pytest.mark.parametrize("case", ANSWERS, ids=lambda case: case.name)
def test_answers_get_the_verdicts_a_ta_would_give(case, rubric, tmp_path):
    path = cases.write(case, tmp_path)
    assert_heldout_answers(case, grade(path, rubric=rubric, worker_factory=InProcessWorker))


@pytest.mark.slow
@pytest.mark.parametrize("path", ANSWER_NOTEBOOKS, ids=lambda p: p.stem)
def test_an_answers_notebook_gets_the_verdicts_a_ta_would_give(path, rubric):
    """End to end, as the correct notebooks are."""
    assert_heldout_answers(read_answers_header(path), grade(path, rubric=rubric))
