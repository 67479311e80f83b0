"""The grader against the corpus, in-process: every correct and wrong submission, in seconds.

The same engine, checks and rubric as a real grade (the kit's real Hypothesis
budgets too); only the lesson's operations run on an imported module in this
process (tests/inprocess.py) instead of a confined worker. That is safe
only because every submission here is the kit's own code: hostile ones, hangs
and crashes stay end to end (tests/test_grader.py, tests/test_attacks_heldout.py),
as do notebooks. tests/test_grader.py::test_in_process_and_end_to_end_grade_alike
(slow) proves the two ways give the same scores and feedback. The held-out corpus is graded
in-process too, in the slow tier (tests/test_heldout.py): it would double this
file's time.

Each case asserts what tests/verdicts.py says it must: full marks for the
reference and the correct variants, and for a wrong case the lost items its
mistake must cost, none outside its function's items.
"""

import ast
import copy
import dataclasses
import json
import sys
from pathlib import Path

import pytest

import corpus
import verdicts
from autograder.engine import grade
from inprocess import InProcessWorker
from autograder.rubric import ITEM_IDS, load_rubric


FAST_SERIES = 1


@pytest.fixture(scope="module")
def rubric():
    """The kit's rubric, but beats_baseline trains the student's model on one hidden series, not
    three: each is a full training, half of a grade's time. Every other number is the kit's.
    The slow tier grades with the real three (test_grader.py, test_heldout.py)."""
    rubric = load_rubric()
    item = next(item for item in rubric.items if item.id == "beats_baseline")
    item.settings = dataclasses.replace(item.settings, series=FAST_SERIES)
    return rubric


def grade_in_process(path, rubric, mode="grade", only=None, worker=InProcessWorker):
    return grade(path, mode=mode, rubric=rubric, worker_factory=worker, only=only)


def grade_case(tmp_path, case, rubric):
    """The case's grade; the answer items (six trainings) only for the cases about them."""
    path = tmp_path / f"{case.name}.py"
    path.write_text(corpus.build(case))
    if not case.claims:
        return grade_in_process(path, rubric, only=verdicts.CODE_ITEMS)
    return grade_in_process(path, rubric, worker=ReferenceRunsOnce)


def answers_apart(source):
    """The module's statements, as ast dumps, without the top-level assignments of a literal to an
    answer name (what runs no code)."""
    def an_answer(node):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            return False
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
        return all(isinstance(target, ast.Name) and target.id in verdicts.ANSWER_NAMES for target in targets)
    return [ast.dump(node) for node in ast.parse(source).body if not an_answer(node)]


REFERENCE_CODE = answers_apart(corpus.REFERENCE.read_text())


class ReferenceRunsOnce(InProcessWorker):
    """The in-process worker, for a submission that may be the reference's code with other answers.

    Such a submission (the reference itself, claims_window_16, claims_unstable_and_lag, claims_blank)
    runs the reference's code on every request but two: ``import`` and ``answers`` read the names
    its answers differ in. Every other request is one the reference's code answered before, the
    worker reseeding before each, so its answer is kept, per test process, and given again: the
    answer items' six trainings run once, not once per case. The verdicts are still made afresh
    from the case's own answers. Any other submission runs every request live.
    """
    kept = {}
    given_again = 0                       # how many requests were answered from ``kept``
    LIVE_OPS = ("import", "answers")

    def __init__(self, limits, source_path, **kwargs):
        super().__init__(limits, source_path, **kwargs)
        self.reference_code = answers_apart(Path(source_path).read_text()) == REFERENCE_CODE

    def request(self, payload, deadline):
        if not self.reference_code or payload.get("op") in self.LIVE_OPS:
            return super().request(payload, deadline)
        key = json.dumps(payload, sort_keys=True)
        if key not in self.kept:
            self.kept[key] = super().request(payload, deadline)
        else:
            ReferenceRunsOnce.given_again += 1
        return copy.deepcopy(self.kept[key])


def test_only_the_references_code_with_other_answers_reuses_the_references_runs(tmp_path):
    """A claims case is the reference's code with other literal answers; a changed function, a
    statement added beside the answers, or an answer bound some other way or computed is not."""
    def same(case):
        return answers_apart(corpus.build(case)) == REFERENCE_CODE
    cases = {case.name: case for case in corpus.WRONG}
    assert same(cases["claims_window_16"]) and same(cases["claims_blank"]) and same(cases["claims_unstable_and_lag"])
    assert not same(cases["compare_window_sizes_stub_claim_stands"]) and not same(cases["adam_default_lr"])
    assert same(corpus.Case("answer", [], suffix="\nBEST_WINDOW_SIZE: int = 8\n"))
    assert not same(corpus.Case("printed", [], suffix="\nBEST_WINDOW_SIZE = 8\nprint(BEST_WINDOW_SIZE)\n"))
    assert not same(corpus.Case("unpacked", [], suffix="\nBEST_WINDOW_SIZE, LOWER_VAL_MSE = 8, 'GRU'\n"))
    assert not same(corpus.Case("global", [], suffix="\nglobals()['BEST_WINDOW_SIZE'] = 8\n"))
    assert not same(corpus.Case("computed", [], suffix="\nBEST_WINDOW_SIZE = int(make_series()[0])\n"))


@pytest.mark.slow
def test_a_claims_case_grades_alike_with_the_references_runs_given_again_and_run_live(tmp_path, rubric):
    """What ReferenceRunsOnce gives again is what the case's own runs give: the same scores and feedback."""
    grade_in_process(corpus.REFERENCE, rubric, worker=ReferenceRunsOnce)           # keeps the reference's runs
    for name in ("claims_unstable_and_lag",):                  # two answer items judged, both with trainings
        path = tmp_path / f"{name}.py"
        path.write_text(corpus.build(next(case for case in corpus.WRONG if case.name == name)))
        before = ReferenceRunsOnce.given_again
        given_again = grade_in_process(path, rubric, worker=ReferenceRunsOnce)
        assert ReferenceRunsOnce.given_again - before > 100, "the reference's answers were not given again"
        live = grade_in_process(path, rubric, worker=InProcessWorker)
        assert [(i.id, i.score, i.feedback, i.details) for i in given_again.items] == \
            [(i.id, i.score, i.feedback, i.details) for i in live.items], name


def test_reference_scores_100(rubric):
    result = grade_in_process(corpus.REFERENCE, rubric, worker=ReferenceRunsOnce)
    verdicts.assert_reference_grade(result)
    assert_report_diagnosis(result, set())
    details = next(item.artifacts["pipeline"] for item in result.items if item.artifacts.get("pipeline"))
    assert details["own"] == {"window": 16, "target_offset": 1, "split_in_order": True}


# Right after the reference's grade, in the order collected: the test process that grades the
# reference (xdist hands each worker a run of neighbouring tests) usually grades these too, and
# gives the answer items' trainings of the three cases with the reference's code again.
@pytest.mark.parametrize("case", [case for case in corpus.WRONG if case.claims], ids=lambda c: c.name)
def test_claims_case_loses_points_only_where_expected(tmp_path, rubric, case):
    result = grade_case(tmp_path, case, rubric)
    verdicts.assert_wrong_case(case, result)
    assert_report_diagnosis(result, case.report)


@pytest.mark.parametrize("case", corpus.CORRECT_VARIANTS, ids=lambda c: c.name)
def test_correct_variant_scores_100(tmp_path, rubric, case):
    verdicts.assert_full_marks(grade_case(tmp_path, case, rubric), case.name)


@pytest.mark.parametrize("case", [case for case in corpus.WRONG if not case.claims], ids=lambda c: c.name)
def test_wrong_submission_loses_points_only_where_expected(tmp_path, rubric, case):
    result = grade_case(tmp_path, case, rubric)
    verdicts.assert_wrong_case(case, result)
    assert_report_diagnosis(result, case.report)


PIPELINE_FINDINGS = {"lag built into the windows", "target in the wrong place", "random split"}


def assert_report_diagnosis(result, expected):
    """The HTML report's diagnosis names ``expected``; a finding about the student's own data steps
    only for a case that has that mistake, and no tuning tip beside a failing model or loop item."""
    from autograder.reports.html import MODEL_ITEMS, findings_for

    details = next((item.artifacts["pipeline"] for item in result.items if item.artifacts.get("pipeline")), None)
    findings = findings_for(result, details) if details else []
    names = {name for name, _, _ in findings}
    assert expected <= names and not (names & PIPELINE_FINDINGS) - expected, findings
    if any(item.id in MODEL_ITEMS and not item.passed for item in result.items):
        assert all(fix.startswith("Fix ") for name, _, fix in findings if name not in PIPELINE_FINDINGS), findings


def test_every_item_is_proven_by_a_wrong_submission():
    proven = set().union(*(case.loses for case in corpus.WRONG))
    assert proven == set(ITEM_IDS) - {"reasoning"}          # 0 points: graded by people (batch --manual)


# --- the in-process worker itself -------------------------------------------------------------

def test_a_student_error_is_quoted_from_submission_py(tmp_path, rubric):
    """Feedback quotes the submitted file and line (the worker's "submission.py" translated), and prints
    are captured."""
    source = corpus.REFERENCE.read_text().replace(
        "def naive_mse(X, y, target_col=0):", "def naive_mse(X, y, target_col=0):\n    print('in naive_mse')\n"
        "    raise KeyError('boom')\n\n\ndef _unused(X, y, target_col=0):", 1)
    path = tmp_path / "raises.py"
    path.write_text(source)
    result = grade_in_process(path, rubric, mode="check", only=("naive_baseline",))
    item = next(item for item in result.items if item.id == "naive_baseline")
    assert not item.passed
    line = source.splitlines().index("    raise KeyError('boom')") + 1
    assert f"naive_mse raised KeyError: 'boom' (File \"raises.py\", line {line}, in naive_mse)" in item.feedback
    assert "in naive_mse" in result.printed
    assert "submission" not in sys.modules            # the module does not outlive its grade


def test_sys_exit_in_a_student_function_costs_its_item_as_a_lost_worker_would(tmp_path, rubric):
    """The worker process would exit: the item reads as crashed, and the next items get a fresh import."""
    source = corpus.REFERENCE.read_text().replace(
        "def naive_mse(X, y, target_col=0):", "def naive_mse(X, y, target_col=0):\n    import sys\n    sys.exit(3)\n"
        "\n\ndef _unused(X, y, target_col=0):", 1)
    path = tmp_path / "exits.py"
    path.write_text(source)
    result = grade_in_process(path, rubric, mode="check", only=verdicts.CODE_ITEMS)    # the answers: six trainings
    lost = {item.id: item for item in result.items if not item.passed}
    assert set(lost) == {"input_validation", "naive_baseline"}, verdicts.describe(result)   # both call naive_mse
    for item in lost.values():
        assert item.outcome == "crashed"
        assert item.feedback == ("the submission's process died during this item: the process exited "
                                 "with status 3 (sys.exit or os._exit in the submission?)")


def test_the_submission_cannot_import_the_grader_packages_it_does_not_already_hold(tmp_path, rubric):
    """The import blocker is on while student code runs (a module already loaded in this process
    is not refused: that is why hostile submissions are graded end to end)."""
    path = tmp_path / "imports.py"
    path.write_text("import importlib\nimportlib.import_module('ben' + 'ch.speed')\n" + corpus.REFERENCE.read_text())
    result = grade_in_process(path, rubric, mode="check")
    assert "does not allow importing 'bench" in result.import_error
    assert result.score == 0


# --- the corpus survives cosmetic edits of the teaching code ------------------------------------

ALL_CASES = corpus.WRONG + corpus.CORRECT_VARIANTS + corpus.HOSTILE + \
    [corpus.honest_version(case) for case in corpus.HOSTILE]


def cosmetically_edited(source):
    """The reference with every trailing comment realigned (two spaces before the ``#``) and one
    comment reworded: what a teacher tidying the file would do."""
    lines = []
    for line in source.splitlines(keepends=True):
        start = corpus._comment_start(line.rstrip("\n"))
        if line[:start].strip() and start < len(line.rstrip("\n")):
            line = line[:start].rstrip() + "  " + line[start:]
        lines.append(line)
    edited = "".join(lines).replace("# (batch, seq_len, hidden_size)", "# every step's hidden state", 1)
    assert edited != source and "every step's hidden state" in edited
    return edited


def test_every_case_builds_the_same_code_from_a_cosmetically_edited_reference():
    reference = corpus.REFERENCE.read_text()
    edited = cosmetically_edited(reference)
    assert corpus.normalised(edited)[0] == corpus.normalised(reference)[0]
    for case in ALL_CASES:
        built, rebuilt = corpus.build(case), corpus.build(case, reference=edited)
        if case.edits:
            assert built != reference, f"{case.name} changed nothing"
        assert corpus.normalised(rebuilt)[0] == corpus.normalised(built)[0], case.name


def test_code_that_is_not_in_the_reference_exactly_once_fails_loudly():
    missing = corpus.Case("missing", [("    return X[split:]  # not how the reference says it", "pass")])
    twice = corpus.Case("twice", [("import", "pass")])
    for case in (missing, twice):
        with pytest.raises(AssertionError, match=f"{case.name}: the code to replace is in the reference"):
            corpus.build(case)


def test_a_line_replaced_whole_takes_its_comment_and_a_fragment_keeps_the_rest_of_its_line():
    source = "x = f(a)    # first\ny = [1,  2]  # second\n"
    whole = corpus.build(corpus.Case("whole", [("x = f(a)", "x = g(a)")]), reference=source)
    part = corpus.build(corpus.Case("part", [("y = [1,", "y = [0, 1,")]), reference=source)
    assert whole == "x = g(a)\ny = [1,  2]  # second\n"
    assert part == "x = f(a)    # first\ny = [0, 1,  2]  # second\n"
    assert corpus.build(corpus.Case("hash", [("s = 'a # b'", "s = 1")]), reference="s = 'a # b'  # c\n") == "s = 1\n"


# --- notebooks run cell by cell ---------------------------------------------------------------

def test_a_stray_notebook_cell_that_raises_costs_nothing_and_is_named(rubric):
    """tests/heldout's nb05 is a correct notebook plus an exploration cell raising NameError: Jupyter
    runs the cells after it, so grading does too (the kit's own notebook, so in-process is safe)."""
    import nbformat

    path = verdicts.HELDOUT / "correct" / "nb05_stray_name_error.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    stray = next(number for number, cell in enumerate(cells, start=1) if cell.source.startswith("plt.plot(preview"))
    result = grade_in_process(path, rubric, only=verdicts.CODE_ITEMS)      # written before the questions
    verdicts.assert_full_marks(result, path.name)
    assert result.cell_errors == [f"notebook cell {stray}, line 1 raised NameError: name 'preview' is not defined"]
    assert f"notebook cell {stray}, line 1 raised NameError" in result.text()
    assert f"notebook cell {stray}, line 1 raised NameError" in result.to_gradescope()["output"]


def test_a_syntax_error_is_shown_once_without_import_machinery_and_without_the_graders_folders(tmp_path, rubric):
    """Not once per item and not among frames of Python's import system; the report names the file
    as it was given, relative (an absolute path shows from its own name on: no TA's home folder)."""
    from autograder.engine import NOT_IMPORTED

    path = tmp_path / "typo.py"
    path.write_text("import numpy as np\n\ndef make_windows(:\n    pass\n")
    result = grade_in_process(path.absolute(), rubric)
    report = result.text()
    assert result.score == 0 and all(item.feedback == NOT_IMPORTED for item in result.items)
    assert report.count("SyntaxError") == 2 and "<frozen" not in report            # the raise line, the traceback's last
    assert 'File "typo.py", line 3' in result.import_error and "def make_windows(:" in result.import_error
    assert report.startswith("Lesson 6.4.4 autograder (grade): typo.py\n") and str(tmp_path) not in report
    assert result.attention_reason() == "importing the submission raised SyntaxError: invalid syntax (typo.py, line 3)"
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "sequence_modeling.py").write_text("raise SystemExit('x')\n")
    assert grade_in_process(folder, rubric).submission == "ada/sequence_modeling.py"


def test_a_cell_that_raises_midway_costs_only_the_items_of_what_it_left_undefined(tmp_path, rubric):
    """nb01 with an exploration line in the naive-baseline cell, between naive_forecast and naive_mse,
    using a name never defined: naive_forecast exists, naive_mse does not (as in Jupyter), and only
    the items that grade naive_mse may lose points."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("make_notebooks", verdicts.HELDOUT / "make_notebooks.py")
    make_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_notebooks)
    cells = list(make_notebooks.KAGGLE)
    index = next(i for i, (_, source) in enumerate(cells) if source.startswith("def naive_forecast("))
    before, after = cells[index][1].split("\n\n\ndef naive_mse(", 1)
    cells[index] = ("code", before + "\n\n\nprint(naive_forecast(X_val)[:3].T, baseline_mse)\n\n\ndef naive_mse(" + after)
    path = tmp_path / "midway.ipynb"
    nbformat.write(make_notebooks.build(cells), path)
    result = grade_in_process(path, rubric, only=verdicts.CODE_ITEMS)      # written before the questions
    lost = verdicts.lost_items(result)
    assert "naive_baseline" in lost and lost <= corpus.items_of("naive_mse"), verdicts.describe(result, lost)
    line = before.count("\n") + 4
    naive = next(item for item in result.items if item.id == "naive_baseline")
    assert "does not define 'naive_mse' (a notebook cell raised before defining it?" in naive.feedback
    assert result.cell_errors == [f"notebook cell {index + 1}, line {line} raised NameError: "
                                  "name 'baseline_mse' is not defined"]


# --- one mistake costs once, also when a part raises --------------------------------------------

def test_a_part_that_raises_inside_a_composition_is_replaced_and_the_feedback_says_so(tmp_path, rubric):
    """make_windows raising on a 1-D series: compare_window_sizes and prepare_data are graded with the
    reference's windows in its place, keep their marks, and say why."""
    case = next(case for case in corpus.WRONG if case.name == "target_from_raw_series")
    result = grade_case(tmp_path, case, rubric)
    for item in result.items:
        if item.id in ("window_comparison", "standardizer"):
            assert item.passed and "your make_windows raised inside this composition, so the grader used the " \
                "reference's make_windows there instead" in item.feedback, verdicts.describe(result)
        else:
            assert "raised inside this composition" not in item.feedback


def test_input_validation_names_the_stub_that_raised_and_says_its_cases_count_as_missed(tmp_path, rubric):
    """validate_series left as the stub: make_windows raises NotImplementedError from inside it. The feedback
    names validate_series (not make_windows) and says make_windows' bad inputs count as missed, as they do."""
    source = corpus.REFERENCE.read_text().replace(
        '    """Return ``series`` as a float32 array of shape (n,) or (n, features)."""\n',
        '    """Return ``series`` as a float32 array of shape (n,) or (n, features)."""\n'
        '    raise NotImplementedError("validate_series: turn the series into a float32 array")\n', 1)
    path = tmp_path / "stub_check_series.py"
    path.write_text(source)
    result = grade_in_process(path, rubric, mode="check", only=("input_validation",))
    item = next(item for item in result.items if item.id == "input_validation")
    assert 0 < item.score < item.max_score, verdicts.describe(result)
    assert "make_windows is not implemented yet (validate_series raises NotImplementedError)" in item.feedback
    assert "counted as missed" in item.feedback and "not counted" not in item.feedback


def test_the_clip_probe_is_kept_only_where_a_hook_shown_other_gradients_gives_itself_away():
    """grad_clipping's replay of Adam cannot tell clipped from unclipped gradients when every step is
    scaled by the same factor (Adam ignores a constant scale): _clip_setup keeps a draw only when
    _tells_shown_from_used says the replay would catch the corpus's replays_the_step_hook."""
    import numpy as np
    import torch

    from autograder.items.training import _tells_shown_from_used

    def adam_run(grads, lr=0.05):
        param = torch.nn.Parameter(torch.zeros(3))
        optimizer, steps = torch.optim.Adam([param], lr=lr), []
        for grad in grads:
            steps.append({"params": [param.detach().numpy().copy()], "grads": [grad.copy()]})
            param.grad = torch.from_numpy(grad.copy())
            optimizer.step()
        norms = [float(np.linalg.norm(g)) for g in grads]
        return {"steps": steps, "norms": norms, "params": [param.detach().numpy().copy()]}

    direction = np.array([3.0, -1.0, 2.0], dtype=np.float32)
    same_norm = adam_run([direction * 10, direction * 10, direction * 10])
    changing = adam_run([direction * 10, direction * 14, direction * 7])
    assert not _tells_shown_from_used(same_norm, 2.0, 0.05, 1e-4)
    assert _tells_shown_from_used(changing, 2.0, 0.05, 1e-4)
