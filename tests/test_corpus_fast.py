"""The grader against the corpus, in-process: every correct and wrong submission, in seconds.

The same engine, checks and rubric as a real grade (the kit's real Hypothesis
budgets too); only the lesson's operations run on an imported module in this
process (autograder/inprocess.py) instead of a confined worker. That is safe
only because every submission here is the kit's own code: hostile ones, hangs
and crashes stay end to end (tests/test_grader.py, tests/test_attacks_heldout.py),
as do notebooks. ``test_in_process_and_end_to_end_grade_alike`` (slow) proves
the two ways give the same scores and feedback.

Each case asserts what tests/verdicts.py says it must: full marks for the
reference and the correct variants, and for a wrong case the lost items its
mistake must cost, none outside its function's items.
"""

import sys

import pytest

import corpus
import verdicts
from autograder.engine import grade
from autograder.inprocess import InProcessWorker
from autograder.rubric import ITEM_IDS, load_rubric


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def grade_in_process(path, rubric, mode="grade"):
    return grade(path, mode=mode, rubric=rubric, worker_factory=InProcessWorker)


def grade_case(tmp_path, case, rubric):
    path = tmp_path / f"{case.name}.py"
    path.write_text(corpus.build(case))
    return grade_in_process(path, rubric)


def test_reference_scores_100(rubric):
    verdicts.assert_reference_grade(grade_in_process(corpus.REFERENCE, rubric))


@pytest.mark.parametrize("case", corpus.CORRECT_VARIANTS, ids=lambda c: c.name)
def test_correct_variant_scores_100(tmp_path, rubric, case):
    verdicts.assert_full_marks(grade_case(tmp_path, case, rubric), case.name)


@pytest.mark.parametrize("case", corpus.WRONG, ids=lambda c: c.name)
def test_wrong_submission_loses_points_only_where_expected(tmp_path, rubric, case):
    verdicts.assert_wrong_case(case, grade_case(tmp_path, case, rubric))


def test_every_item_is_proven_by_a_wrong_submission():
    proven = set().union(*(case.loses for case in corpus.WRONG))
    assert proven == set(ITEM_IDS)


@pytest.mark.parametrize("path", [p for p in verdicts.HELDOUT_CORRECT if p.suffix == ".py"], ids=lambda p: p.name)
def test_heldout_correct_submission_scores_100_without_grader_errors(path, rubric):
    verdicts.assert_heldout_correct(path, grade_in_process(path, rubric))


@pytest.mark.parametrize("path", verdicts.HELDOUT_WRONG, ids=lambda p: p.stem)
def test_heldout_wrong_submission_loses_points_exactly_where_the_spec_says(path, rubric):
    verdicts.assert_heldout_wrong(path, grade_in_process(path, rubric))


# --- the in-process worker itself -------------------------------------------------------------

def test_a_student_error_is_quoted_from_submission_py(tmp_path, rubric):
    """Feedback quotes the submitted file and line (the worker's "submission.py" translated), and prints
    are captured."""
    source = corpus.REFERENCE.read_text().replace(
        "def naive_mse(X, y, target_col=0):", "def naive_mse(X, y, target_col=0):\n    print('in naive_mse')\n"
        "    raise KeyError('boom')\n\n\ndef _unused(X, y, target_col=0):", 1)
    path = tmp_path / "raises.py"
    path.write_text(source)
    result = grade_in_process(path, rubric, mode="check")
    item = next(item for item in result.items if item.id == "naive_baseline")
    assert not item.passed
    line = source.splitlines().index("    raise KeyError('boom')") + 1
    assert f"naive_mse raised KeyError: 'boom' (File \"raises.py\", line {line}, in naive_mse)" in item.feedback
    assert "in naive_mse" in result.printed
    assert "submission" not in sys.modules            # the module does not outlive its grade


def test_the_submission_cannot_import_the_grader_packages_it_does_not_already_hold(tmp_path, rubric):
    """The import blocker is on while student code runs (a module already loaded in this process
    is not refused: that is why hostile submissions are graded end to end)."""
    path = tmp_path / "imports.py"
    path.write_text("import importlib\nimportlib.import_module('ben' + 'ch.speed')\n" + corpus.REFERENCE.read_text())
    result = grade_in_process(path, rubric, mode="check")
    assert "does not allow importing 'bench" in result.import_error
    assert result.score == 0


# --- the same grade both ways ---------------------------------------------------------------

IDENTITY_CASES = ["y_is_last_input", "no_zero_grad", "scaler_refits_in_transform"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reference"] + IDENTITY_CASES)
def test_in_process_and_end_to_end_grade_alike(tmp_path, rubric, name):
    """Same scores, feedback, details and outcomes for the reference and wrong cases of three
    different items (windows, training, scaling), in-process and in a confined worker."""
    if name == "reference":
        path = corpus.REFERENCE
    else:
        path = tmp_path / f"{name}.py"
        path.write_text(corpus.build(next(case for case in corpus.WRONG if case.name == name)))

    def shown(result):
        return result.import_error, [(i.id, i.score, i.feedback, i.details, i.outcome) for i in result.items]

    in_process = grade_in_process(path, rubric)
    end_to_end = grade(path, rubric=rubric)
    assert shown(in_process) == shown(end_to_end)
    assert in_process.printed == end_to_end.printed
