"""The grader against the kit's own corpus, end to end: what it must pass, fail and survive.

Every check is proven both ways: the reference scores full marks on it, and a
submission with the matching mistake loses points on it (and only where the
mistake honestly spreads). Every correct and wrong case is graded in-process by
the fast suite (tests/test_corpus_fast.py); here, in a confined worker, run the
reference, one wrong case, the notebook, and every hostile case.
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time

import nbformat
import pytest

import corpus
from verdicts import assert_full_marks, assert_reference_grade, assert_wrong_case, describe, lost_items
from autograder import assign
from autograder.engine import grade
from inprocess import InProcessWorker
from autograder.rubric import ITEM_IDS, load_rubric
from conftest import ROOT, running_markers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


@pytest.fixture(scope="module")
def short_rubric():
    """The kit's rubric with short time limits, so hangs cost seconds in tests, not minutes. The
    answer items keep theirs: they run the lesson's full trainings, which are not hangs under test
    (and one that ran out of time would accept its claim, hiding a verdict the case expects)."""
    from verdicts import ANSWER_ITEMS

    rubric = load_rubric()
    for item in rubric.items:
        if item.id not in ANSWER_ITEMS:
            item.seconds = 8.0
    rubric.limits = dataclasses.replace(rubric.limits, import_seconds=30)
    return rubric


def grade_source(tmp_path, name, source, rubric, mode="grade"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return grade(path, mode=mode, rubric=rubric)


# --- full marks where they are due -------------------------------------------------

@pytest.fixture(scope="module")
def reference_result(rubric):
    return grade(ROOT / "solutions" / "sequence_modeling.py", rubric=rubric)


def test_reference_scores_100(reference_result):
    assert_reference_grade(reference_result)


def test_reference_passes_the_self_check(rubric):
    result = grade(ROOT / "solutions" / "sequence_modeling.py", mode="check", rubric=rubric)
    assert result.score == result.max_score == 100, describe(result)


def test_notebook_filled_with_the_reference_scores_100(tmp_path, rubric):
    """The generated notebook with every stub cell replaced by the reference's code."""
    from test_notebook_check import answer_as_the_reference

    notebook = nbformat.read(assign.NOTEBOOK_FILE, as_version=4)
    filled = {title: code for title, code in assign._split_sections(strip_markers(assign.REFERENCE.read_text()))}
    stub_sections = assign._split_sections(assign.STUB_FILE.read_text())
    replaced = 0
    for cell in notebook.cells:
        for title, stub_code in stub_sections:
            if cell.cell_type == "code" and title in filled and cell.source.split("\n")[0] == stub_code.split("\n")[0]:
                cell.source = filled[title]
                replaced += 1
                break
    assert replaced >= 8
    answer_as_the_reference(notebook)                     # its answer cells, as the reference answers
    path = tmp_path / "filled.ipynb"
    nbformat.write(notebook, path)
    result = grade(path, rubric=rubric)
    assert result.score == 100, describe(result)


def strip_markers(source):
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"\s*# (BEGIN SOLUTION|END SOLUTION|HINT:)", line)) + "\n"


# --- the stub file: zero, cleanly -----------------------------------------------------

def test_unmodified_stub_file_scores_zero_with_a_clean_report_and_exit_0(tmp_path):
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(assign.STUB_FILE),
                          "--json", str(tmp_path / "r.json")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Total: 0.00/100" in out.stdout
    from verdicts import CODE_ITEMS

    assert out.stdout.count("not implemented yet") == len(CODE_ITEMS)
    assert out.stdout.count("(no answer yet)") == 4                    # the claims, each its own item
    assert "to be graded by your instructor: 0 of 4 answers written" in out.stdout
    assert "Traceback" not in out.stdout and out.stderr == f"autograder: warning: {load_rubric().seed_warning()}\n"
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and all(t["status"] == "failed" for t in data["tests"] if t["tags"] != ["reasoning"])


# --- wrong submissions lose points exactly where expected --------------------------------

@pytest.mark.parametrize("case", [case for case in corpus.WRONG if case.name == "no_batch_first"],
                         ids=lambda c: c.name)
def test_wrong_submission_loses_points_only_where_expected(tmp_path, rubric, case):
    """One wrong case end to end; the fast suite grades them all in-process."""
    assert_wrong_case(case, grade_source(tmp_path, case.name, corpus.build(case), rubric))


# --- the same grade both ways ---------------------------------------------------------------

IDENTITY_CASES = ["y_is_last_input", "no_zero_grad", "scaler_refits_in_transform"]


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

    in_process = grade(path, rubric=rubric, worker_factory=InProcessWorker)
    end_to_end = grade(path, rubric=rubric)
    assert shown(in_process) == shown(end_to_end)
    assert in_process.printed == end_to_end.printed


@pytest.mark.parametrize("case", corpus.CORRECT_VARIANTS, ids=lambda c: c.name)
def test_correct_variant_scores_100_with_the_real_rubric(tmp_path, rubric, case):
    """The fast suite grades the correct variants with one beats_baseline series; here, with the
    kit's three (in-process: the identity test above shows that changes nothing)."""
    path = tmp_path / f"{case.name}.py"
    path.write_text(corpus.build(case))
    assert_full_marks(grade(path, rubric=rubric, worker_factory=InProcessWorker), case.name)


# --- hostile submissions ------------------------------------------------------------------

@pytest.mark.parametrize("case", corpus.HOSTILE, ids=lambda c: c.name)
def test_hostile_submission_costs_only_its_own_items(tmp_path, short_rubric, case):
    started = time.monotonic()
    result = grade_source(tmp_path, case.name, corpus.build(case), short_rubric)
    assert time.monotonic() - started < 240
    json.dumps(result.to_gradescope(), allow_nan=False)               # valid results, always
    assert lost_items(result) == case.loses, describe(result)
    if case.name == "patched_comparisons" or case.honest is not None:
        honest = grade_source(tmp_path, "honest", corpus.build(corpus.honest_version(case)), short_rubric)
        assert [i.score for i in result.items] == [i.score for i in honest.items], describe(result)
    else:
        for item in result.items:
            if item.id in case.loses - case.partial:
                assert item.score == 0, f"{item.id} earned points under attack: {item.feedback}"
    assert not running_markers("_grading_worker.py"), "a worker was left running"
    expected = EXPECTED_OUTCOMES.get(case.name)
    if expected:
        outcome, status = expected
        assert {item.outcome for item in result.items if item.id in case.loses} == {outcome}
        assert result.status == status


# How the lost items were lost, where it is certain: (item outcome, submission status).
EXPECTED_OUTCOMES = {
    "sys_exit_at_import": ("not_imported", "import_failed"),
    "os_exit_at_import": ("not_imported", "import_failed"),
    "infinite_loop": ("timed_out", "timed_out"),
    "loop_ignoring_sigterm": ("timed_out", "timed_out"),
    "segfault_in_forward": ("crashed", "graded"),
    "imports_the_solution": ("not_imported", "import_failed"),
}


ORPHAN = """
import os, subprocess
subprocess.Popen(["sleep", "6137"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "6138"])
    os._exit(0)
"""


def test_orphaned_processes_do_not_outlive_grading(tmp_path, short_rubric):
    source = ORPHAN + corpus.REFERENCE.read_text()
    result = grade_source(tmp_path, "orphans", source, short_rubric)
    assert result.score == 100, describe(result)
    assert not running_markers("sleep 6137") and not running_markers("sleep 6138")


FORGER = """
import json, os, pathlib
forged = {"score": 100, "max_score": 100, "tests": []}
targets = [pathlib.Path("results.json"), pathlib.Path("/autograder/results/results.json")]
try:
    cmd = open(f"/proc/{os.getppid()}/cmdline", "rb").read().split(b"\\0")
    targets += [pathlib.Path(cmd[i + 1].decode()) for i, a in enumerate(cmd) if a == b"--json"]
except Exception:
    pass
for target in targets:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(forged))
    except Exception:
        pass
"""


def test_a_forged_results_file_is_never_read(tmp_path):
    submission = tmp_path / "forger.py"
    submission.write_text(FORGER + assign.STUB_FILE.read_text())
    out_json = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission), "--json", str(out_json)],
                   cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out_json.read_text())["score"] == 0


# --- determinism ------------------------------------------------------------------------------

def without_timing(result):
    data = result.to_gradescope()
    data.pop("execution_time")
    return data


def test_grading_twice_gives_identical_json_and_report(tmp_path, rubric):
    """Also what the code printed: a warning names the file it came from, which in the worker is a
    temporary folder new on every run; the report names the student's file instead."""
    case = corpus.WRONG[0]
    path = tmp_path / "twice.py"
    path.write_text("import warnings\nwarnings.warn('read me')\n" + corpus.build(case))
    first, second = grade(path, rubric=rubric), grade(path, rubric=rubric)
    assert without_timing(first) == without_timing(second)
    assert "twice.py:2: UserWarning: read me" in first.printed and "/tmp" not in first.printed
    timing = re.compile(r"\d+\.\d+ ?s\b")
    assert timing.sub("", first.text()) == timing.sub("", second.text())


def test_thread_count_does_not_change_the_grade(tmp_path):
    path = tmp_path / "threads.py"
    path.write_text(corpus.build(corpus.WRONG[0]))
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        out_json = tmp_path / f"r{threads}.json"
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--json", str(out_json)],
                       cwd=ROOT, env=env, capture_output=True, check=True, timeout=300)
        data = json.loads(out_json.read_text())
        data.pop("execution_time")
        outputs.append(data)
    assert outputs[0] == outputs[1]


# --- the command line and the result schema ------------------------------------------------------

@pytest.mark.parametrize("make_path,reason", [
    (lambda d: d / "missing.py", "no such file"),
    (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "not a .py file"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "folder has no sequence_modeling"),
    (lambda d: (d / "broken.ipynb").write_text("{not json") and d / "broken.ipynb", "not a readable Jupyter notebook"),
    (lambda d: (d / "latin.py").write_bytes(b"x = '\xe9'\n") and d / "latin.py", "not UTF-8"),
], ids=["missing", "extension", "empty folder", "bad notebook", "not utf-8"])
def test_ungradable_paths_exit_2_with_a_one_line_reason(tmp_path, make_path, reason):
    path = make_path(tmp_path)
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert reason in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_a_folder_holding_sequence_modeling_py_is_graded(tmp_path, rubric):
    (tmp_path / "sequence_modeling.py").write_text(corpus.build(corpus.WRONG[0]))
    result = grade(tmp_path, rubric=rubric)
    assert lost_items(result) == corpus.WRONG[0].loses


def test_results_json_follows_gradescope_and_the_spec(reference_result):
    data = reference_result.to_gradescope()
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(data)
    assert data["score"] == 100 and data["max_score"] == 100
    assert [t["tags"] for t in data["tests"]] == [[item_id] for item_id in ITEM_IDS]
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")


def test_import_failure_zeroes_every_item_with_the_trimmed_traceback(tmp_path, rubric):
    result = grade_source(tmp_path, "typo", "import numpy as np\n\ndef make_windows(:\n    pass\n", rubric)
    assert result.score == 0 and "SyntaxError" in result.import_error
    assert all("could not be imported" in item.feedback for item in result.items)


def test_self_check_never_shows_hidden_data_or_thresholds(tmp_path, rubric):
    path = tmp_path / "copier.py"
    path.write_text(corpus.build(next(c for c in corpus.WRONG if c.name == "last_value_copier")))
    out = subprocess.run([sys.executable, "-m", "autograder", "check", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    assert "unseen series" not in out.stdout.split("This self-check uses public data")[0]
    assert str(rubric.hidden_seed) not in out.stdout
    assert "public series 1" in out.stdout


# --- the zygote that batch servers use ----------------------------------------------------------

ZYGOTE_CASES = ["segfault_in_forward", "os_exit_at_import", "infinite_loop", "imports_the_solution_obfuscated"]


@pytest.mark.parametrize("fork_here", [False, True], ids=["started", "forked from the grader"])
def test_workers_forked_by_a_zygote_grade_alike_and_survive_hostile_code(tmp_path, short_rubric, fork_here):
    """A batch server's zygote is reused across students: it must outlive every attack,
    actually be the one starting workers, and give the same grades as a fresh worker."""
    from autograder import sandbox

    if fork_here:
        # The zygote may be forked only from a process that never loaded the reference;
        # this test process has, so the fork happens in a clean child interpreter.
        script = (
            "import sys, json, pathlib\n"
            f"sys.path[:0] = {[str(ROOT), str(ROOT / 'tests')]!r}\n"
            "import torch, torch._dynamo\n"
            "from autograder.sandbox import Zygote\n"
            "zygote = Zygote.fork_here()\n"
            "import corpus\n"
            "from autograder.engine import grade\n"
            "from autograder.rubric import load_rubric\n"
            "rubric = load_rubric()\n"
            "for item in rubric.items: item.seconds = 8.0\n"
            "out = {}\n"
            f"for name in {ZYGOTE_CASES!r}:\n"
            "    case = next(c for c in corpus.HOSTILE if c.name == name)\n"
            f"    path = pathlib.Path({str(tmp_path)!r}) / (name + '.py')\n"
            "    path.write_text(corpus.build(case))\n"
            "    result = grade(path, rubric=rubric, zygote=zygote)\n"
            "    out[name] = [sorted(i.id for i in result.items if not i.passed), zygote.alive]\n"
            "print(json.dumps(out))\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        for name in ZYGOTE_CASES:
            case = next(c for c in corpus.HOSTILE if c.name == name)
            assert out[name] == [sorted(case.loses), True], name
        return

    zygote = sandbox.Zygote()
    started = []
    original_spawn = zygote.spawn
    zygote.spawn = lambda *a: started.append(original_spawn(*a)) or started[-1]
    try:
        for name in ZYGOTE_CASES:
            case = next(c for c in corpus.HOSTILE if c.name == name)
            result = grade(tmp_path.joinpath(name + ".py"), rubric=short_rubric, zygote=zygote) \
                if tmp_path.joinpath(name + ".py").write_text(corpus.build(case)) else None
            assert lost_items(result) == case.loses, describe(result)
            assert zygote.alive, f"the zygote died grading {name}"
        assert len(started) >= len(ZYGOTE_CASES)          # every worker came from the zygote
        reference = grade(ROOT / "solutions" / "sequence_modeling.py", rubric=short_rubric, zygote=zygote)
        assert reference.score == 100
    finally:
        zygote.close()
    assert not running_markers("_grading_worker.py")
