"""The time budget and the feedback a student acts on.

A hang costs one item's wait: the worker names the student function it is in,
and a function that hung is refused at once for every later item (even when
another student function calls it). The whole grade has a total budget and
always ends with every item present. Feedback lists every failing criterion,
the most specific first, with counts in plain English, and the HTML report
never shows a green box beside a failing pipeline.

The fast tests drive the worker, the reader and the reports directly; the
slow ones grade real submissions.
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from hypothesis import settings
from hypothesis import strategies as st

import corpus
from autograder import sandbox
from autograder.engine import BudgetSpent, GradeResult, HungBefore, ItemResult, Session, grade
from autograder.items.base import SPECIFIC, Unmet, Criteria, count_text
from autograder.rubric import ITEM_IDS, Limits, RubricError, load_rubric
from autograder.sandbox import codec, lesson_ops
from conftest import ROOT, rubric_with, running_markers

WINDOWS_START = "    n_windows = n - window_size\n"
LOOPING_WINDOWS = corpus.Case("make_windows_loops", [(WINDOWS_START, WINDOWS_START + "    while True:\n        pass\n")])
IGNORING_SIGTERM = corpus.Case(
    "make_windows_loops_ignoring_sigterm", LOOPING_WINDOWS.edits,
    prefix="import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n")


# --- counts and the order of failures (fast) -----------------------------------------

@pytest.mark.parametrize("passed,total,text", [
    (1, 1, "the check passed"), (3, 3, "all 3 checks passed"), (1, 3, "1 of 3 checks passed"),
    (0, 1, "0 of 1 check passed"), (2, 3, "2 of 3 checks passed"),
])
def test_counts_read_as_english(passed, total, text):
    assert count_text(passed, total) == text


def fail(message):
    def body(*_):
        raise Unmet(message)
    return body


def test_the_most_specific_failure_leads_and_every_failure_is_kept():
    criteria = Criteria()
    criteria.run("equals the reference", fail("X[3] should be 4.0, got 5.0"))
    criteria.run("passes", lambda: None)
    criteria.run("the smallest example", fail("on n=2, w=1: y[0] should be 1.0"), priority=SPECIFIC)
    outcome = criteria.outcome()
    assert outcome.feedback == "1 of 3 checks passed. the smallest example: on n=2, w=1: y[0] should be 1.0"
    assert outcome.details == ["the smallest example: on n=2, w=1: y[0] should be 1.0",
                               "equals the reference: X[3] should be 4.0, got 5.0"]
    assert outcome.score == pytest.approx(1 / 3)


def test_a_property_outranks_a_broad_comparison_by_default():
    ctx = SimpleNamespace(hypothesis=lambda examples=None: settings(max_examples=5, database=None,
                                                                     derandomize=True, deadline=None))
    criteria = Criteria()
    criteria.run("equals the reference", fail("broad"))

    def body(n):
        raise Unmet(f"fails on n={n}")

    criteria.prop(ctx, "property", st.integers(0, 3), body)
    outcome = criteria.outcome()
    assert outcome.details[0].startswith("property: fails on n=") and outcome.details[1] == "equals the reference: broad"


def test_a_single_passing_check_says_so():
    criteria = Criteria()
    criteria.run("only", lambda: None)
    assert criteria.outcome().feedback == "the check passed"


# --- reports (fast) ---------------------------------------------------------------------

def item(id, score, max_score, feedback, details=(), artifacts=None, outcome="checked"):
    return ItemResult(id, id, score, max_score, feedback, "visible", list(details), artifacts or {}, outcome)


def test_the_text_report_lists_every_failing_check_under_its_item():
    details = ["windows of index-valued series: y[0] should be series[3] = 3.0, got 2.0",
               "public noisy series, window 16: y[0] should be 0.1, got 0.2"]
    result = GradeResult("s.py", "check", [item("make_windows", 3.33, 10, "1 of 3 checks passed. " + details[0],
                                                details), item("time_split", 6, 6, "all 2 checks passed")])
    lines = result.text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL make_windows"))
    below = lines[at + 1 : at + 4]
    assert below[0].strip() == "every failing check:"
    assert [line.strip() for line in below[1:]] == [f"- {d}" for d in details]
    assert all(line.startswith("    ") for line in below)
    assert lines[at + 4].startswith("ok   time_split")


def test_progress_line():
    assert item("time_split", 6, 6, "").progress_line(3, 14) == "[3/14] time_split ok 6/6"
    assert item("make_windows", 3.33, 10, "").progress_line(1, 14) == "[1/14] make_windows FAIL 3.33/10"


def clean_pipeline():
    import numpy as np

    truth = np.sin(np.arange(60) * 0.3)
    return {"y_val": truth, "pred": truth * 0.98, "naive_pred": np.roll(truth, 1), "history": [],
            "naive_mse": 0.05, "model_mse": 0.01}


def test_the_diagnosis_is_green_only_when_the_pipeline_passed():
    passing = GradeResult("s.py", "grade", [item("beats_baseline", 10, 10, "all 3 checks passed",
                                                 artifacts={"pipeline": clean_pipeline()})])
    assert 'class="healthy"' in passing.html()

    feedback = "2 of 3 checks passed. unseen series 2: validation MSE 0.0885 is no better than the naive (ratio 1.77)"
    failing = GradeResult("s.py", "grade", [item("beats_baseline", 6.67, 10, feedback,
                                                 artifacts={"pipeline": clean_pipeline()})])
    page = failing.html()
    assert 'class="healthy"' not in page
    assert re.search(r'class="failing"><strong>beats_baseline failed</strong>: [^<]*ratio 1.77', page)


def test_the_rubric_refuses_a_budget_that_is_not_a_positive_number(tmp_path):
    assert load_rubric().limits.total_seconds == 300
    for bad in ("0", "-5", '"ten"', "true"):
        path = tmp_path / "rubric.toml"
        path.write_text(rubric_with(f"[limits]\ntotal_seconds = {bad}"))
        with pytest.raises(RubricError, match="total_seconds must be a positive number"):
            load_rubric(path)


# --- the worker's side of the protocol (fast, in this process) -----------------------------

STUDENT = '''
def helper(x):
    return x + 1

def make_windows(series, window_size):
    return helper(window_size)

def prepare_data(series, window_size):
    return make_windows(series, window_size) * 10

def broken(series, window_size):
    return helper(None)

def swallow(series, window_size):
    try:
        return make_windows(series, window_size)
    except Exception:
        return "swallowed"
'''


@pytest.fixture
def student_worker(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "submission.py").write_text(STUDENT)
    messages = []
    w = lesson_ops.LessonOps(report=messages.append)
    assert w.handle({"op": "import", "path": "submission.py", "id": 1})["ok"]
    messages.clear()
    yield w, messages
    sys.modules.pop("submission", None)


def call(w, fn, request_id, refuse=()):
    return w.handle({"op": "call", "fn": fn, "args": [[1.0, 2.0], 3], "kwargs": {}, "id": request_id,
                     "refuse": list(refuse)})


def test_the_worker_reports_each_student_function_it_enters(student_worker):
    w, messages = student_worker
    assert codec.decode(call(w, "prepare_data", 7)["value"]) == 40
    names = [m["progress"] for m in messages]
    assert names == ["prepare_data", "make_windows", "helper", "make_windows", "prepare_data"]
    assert {m["id"] for m in messages} == {7}


def test_the_worker_refuses_a_known_hang_even_when_another_function_calls_it(student_worker):
    w, messages = student_worker
    assert call(w, "make_windows", 2, refuse=["make_windows"]) == {"ok": False, "known_hang": "make_windows"}
    assert call(w, "prepare_data", 3, refuse=["make_windows"]) == {"ok": False, "known_hang": "make_windows"}
    # A submission's `except Exception` cannot swallow the refusal.
    assert call(w, "swallow", 4, refuse=["make_windows"]) == {"ok": False, "known_hang": "make_windows"}
    # Refusals belong to one request: the next one without them runs normally.
    assert codec.decode(call(w, "prepare_data", 5)["value"]) == 40


def test_tracebacks_show_the_student_frames_not_the_watching_wrappers(student_worker):
    w, _ = student_worker
    error = call(w, "broken", 6)["error"]
    assert error["type"] == "TypeError" and error["where"] == "helper"
    assert "in broken" in error["traceback"] and "in helper" in error["traceback"]
    assert "lesson_ops.py" not in error["traceback"] and "return fn(" not in error["traceback"]


def test_the_reader_keeps_the_latest_progress_and_skips_it_as_an_answer():
    reader, writer = os.pipe()
    w = sandbox.WorkerProcess(Limits(output_kb=64), __file__)
    w.responses, w.buffer, w.entered = reader, b"", None
    lines = [{"progress": "old", "id": 4}, {"progress": "make_windows", "id": 5}, {"progress": "helper", "id": 5},
             {"ok": True, "id": 5, "value": 1}]
    os.write(writer, b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    import time
    assert w._read_response(5, time.monotonic() + 5) == {"ok": True, "id": 5, "value": 1}
    assert w.entered == "helper"
    os.write(writer, json.dumps({"progress": "make_windows", "id": 6}).encode() + b"\n")
    with pytest.raises(sandbox.WorkerTimeout) as timeout:
        w._read_response(6, time.monotonic() + 0.2)
    assert timeout.value.function == "make_windows"
    os.close(reader)
    os.close(writer)


# --- what a check's optional run learns from the worker handle (fast) -----------------------

def raising(stop):
    def run():
        raise stop
    return run


def attempting_session(cut_by_budget=False):
    """A Session between requests: Session.attempt needs no worker, only the item and the hangs known."""
    session = Session("submission.py", load_rubric(), worker_factory=lambda *args, **kwargs: None)
    session.item, session.cut_by_budget = SimpleNamespace(id="answer_gru_vs_lstm", seconds=120), cut_by_budget
    return session


def test_attempt_says_why_the_worker_handle_stopped_a_run_and_forgets_a_slow_one():
    session = attempting_session()
    assert session.attempt(lambda: {"final": 0.5}) == ({"final": 0.5}, None)
    hung = "train_model did not return within 60 s (in item train_loop)"
    assert session.attempt(raising(HungBefore(hung))) == (None, hung)
    assert session.attempt(raising(HungBefore(hung)), slow_ok=True) == (None, hung)
    session.hung = {"train_model": hung, "make_windows": "..."}
    timed_out = session.attempt(raising(sandbox.WorkerTimeout("timed out", "train_model")), slow_ok=True)
    assert timed_out == (None, "the run did not finish within the item's 120 s")
    assert session.hung == {"make_windows": "..."}           # slow, not known to loop: later items may call it
    died = session.attempt(raising(sandbox.WorkerDied("killed by SIGSEGV")), slow_ok=True)
    assert died == (None, "the submission's process died (killed by SIGSEGV)")


@pytest.mark.parametrize("stop,slow_ok,cut_by_budget", [
    (sandbox.WorkerTimeout("timed out", "make_windows"), False, False),
    (sandbox.WorkerDied("killed by SIGKILL"), False, False),
    (sandbox.WorkerTimeout("timed out", "train_model"), True, True),
    (BudgetSpent(), True, False),
], ids=["a timeout", "a death", "the budget's end", "the budget spent on a restart"])
def test_attempt_lets_the_engine_end_the_item_for_every_other_stop(stop, slow_ok, cut_by_budget):
    session = attempting_session(cut_by_budget)
    session.hung = {"train_model": "train_model did not return"}
    with pytest.raises(type(stop)):
        session.attempt(raising(stop), slow_ok=slow_ok)
    assert session.hung == {"train_model": "train_model did not return"}


def test_running_markers_sees_only_what_this_test_started():
    import time

    child = subprocess.Popen(["sleep", "61379"])
    try:
        ready = time.monotonic() + 10             # right after exec, /proc/PID/cmdline can read empty
        while running_markers("sleep 61379") != [child.pid] and time.monotonic() < ready:
            time.sleep(0.02)
        assert running_markers("sleep 61379") == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert running_markers("sleep 61379") == []


# --- real gradings (slow) ------------------------------------------------------------------

def short_rubric(item_seconds, total_seconds=300):
    rubric = load_rubric()
    for entry in rubric.items:
        entry.seconds = float(item_seconds)
    rubric.limits = dataclasses.replace(rubric.limits, import_seconds=30, total_seconds=total_seconds)
    return rubric


# The items the self-check runs (mode="check"): all but those graded by people (reasoning).
CHECKED_IDS = [item.id for item in load_rubric().items if item.self_check]


def grade_case(tmp_path, case, rubric, mode="check", **kwargs):
    path = tmp_path / f"{case.name}.py"
    path.write_text(corpus.build(case))
    return grade(path, mode=mode, rubric=rubric, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("case", [LOOPING_WINDOWS, IGNORING_SIGTERM], ids=lambda c: c.name)
def test_a_hung_function_costs_one_wait_and_later_items_fail_at_once(tmp_path, case):
    # The item limit is short, but not so short that a loaded machine makes honest items time out.
    result = grade_case(tmp_path, case, short_rubric(15))
    by_id = {entry.id: entry for entry in result.items}
    assert [entry.id for entry in result.items] == CHECKED_IDS
    timed_out = [entry.id for entry in result.items if entry.outcome == "timed_out"]
    assert timed_out == ["make_windows"]
    assert by_id["make_windows"].feedback.startswith("make_windows did not return within 15 s (in item make_windows)")
    # Every other item that runs make_windows, directly or through the student's own functions
    # (prepare_data, compare_window_sizes), fails at once naming the function and the first item.
    for item_id in corpus.USES_MAKE_WINDOWS - {"make_windows"}:
        assert by_id[item_id].outcome == "hung_before", (item_id, by_id[item_id].feedback)
        assert by_id[item_id].score == 0
        assert "make_windows did not return within 15 s (in item make_windows)" in by_id[item_id].feedback
    for item_id in set(CHECKED_IDS) - corpus.USES_MAKE_WINDOWS:
        assert by_id[item_id].passed, (item_id, by_id[item_id].feedback)
    assert result.status == "timed_out"
    json.dumps(result.to_gradescope(), allow_nan=False)
    assert not running_markers("_grading_worker.py")


@pytest.mark.slow
def test_a_budget_smaller_than_the_run_still_reports_every_item(tmp_path):
    result = grade_case(tmp_path, LOOPING_WINDOWS, short_rubric(120, total_seconds=40))
    assert [entry.id for entry in result.items] == CHECKED_IDS
    first, rest = result.items[0], result.items[1:]
    assert first.outcome == "timed_out"
    assert first.feedback == ("not graded in full: make_windows was still running when the whole grade ran out "
                              "of its 40 s budget")
    for entry in rest:
        assert (entry.outcome, entry.score) == ("not_graded", 0), (entry.id, entry.feedback)
        assert entry.feedback == "not graded: the whole grade ran out of its 40 s budget"
    data = result.to_gradescope()
    assert [t["tags"] for t in data["tests"]] == [[item_id] for item_id in CHECKED_IDS]
    assert all(t["status"] == "failed" for t in data["tests"])
    assert sum("ran out of its 40 s budget" in t["output"] for t in data["tests"]) == len(CHECKED_IDS)
    assert data["extra_data"]["status"] == "timed_out"


@pytest.mark.slow
def test_check_shows_one_progress_line_per_item_on_stderr():
    out = subprocess.run([sys.executable, "-m", "autograder", "check", "lessons/sequence_modeling.py"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    total = len(CHECKED_IDS)
    # In the order items run: beats_baseline, which shows the worker held-out data, runs last.
    from autograder.engine import execution_order

    assert lines == [f"[{n}/{total}] {item.id} FAIL 0/{item.points:g}"
                     for n, item in enumerate(execution_order([i for i in load_rubric().items if i.self_check]), 1)]
    assert "[1/" not in out.stdout


@pytest.mark.slow
def test_two_failing_sub_checks_are_both_in_the_text_report(tmp_path):
    case = next(c for c in corpus.WRONG if c.name == "gru_is_an_lstm")
    result = grade_case(tmp_path, case, load_rubric(), only={"gru_forecaster"})
    (gru,) = result.items
    assert len(gru.details) >= 2 and not gru.passed
    report = result.text()
    for detail in gru.details:
        assert f"- {detail}" in report
    assert re.match(r"\d+ of \d+ checks passed\. ", gru.feedback)


@pytest.mark.slow
def test_the_last_value_copier_gets_no_green_box(tmp_path):
    case = next(c for c in corpus.WRONG if c.name == "last_value_copier")
    result = grade_case(tmp_path, case, load_rubric(), only={"beats_baseline"})
    assert not result.items[0].passed
    page = result.html()
    assert 'class="healthy"' not in page and "No lag, flatline" not in page
    assert "beats_baseline failed</strong>" in page
