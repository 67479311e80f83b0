"""The answers to the exercises' questions: claims, reasoning, the by-question pages, manual scores.

The verdicts on consistent, contradicted and blank claims are corpus cases (tests/corpus.py,
graded in tests/test_corpus_fast.py). Here: the reasoning shown safely whatever the student
wrote, the claims' judging rules on numbers chosen to sit on each side of a margin, the
batch's by-question pages (rendered in Chromium) and the merge of a TA's CSV into grades.csv.
"""

import csv
import html
import io
import json
import re
from types import SimpleNamespace

import pytest

import corpus
from autograder.classroom.manual import ManualScoresError, read_manual_scores
from autograder.engine import grade
from autograder.items import answers
from autograder.reports.grades import grades_csv
from autograder.reports.questions import QUESTIONS, write_question_pages
from autograder.rubric import load_rubric
from inprocess import InProcessWorker
from conftest import ROOT

REASONING = ("reasoning",)


def reference_with(tmp_path, edits, name="answers.py"):
    path = tmp_path / name
    path.write_text(corpus.build(corpus.Case(name, edits)))
    return path


# --- the reasoning, whatever the student wrote ------------------------------------------------------

HOSTILE_WHY = ('WHY_WINDOW_SIZE = (\n    "32 ended lowest',
               'WHY_WINDOW_SIZE = ("<script>alert(1)</script><b>bold</b>\\x1b[2J\\x1b[31mred\\r\\x00\\u202e" + "ok " * 5\n'
               '    + "32 ended lowest')


def test_hostile_reasoning_is_escaped_stripped_and_cut_in_every_report(tmp_path):
    """HTML, escape sequences, control characters and a 10 MB string: shown as text, at most
    REASON_CHARS of it, and the 10 MB never crosses the worker's pipe."""
    path = reference_with(tmp_path, [HOSTILE_WHY, ('WHY_PLOT = (', 'WHY_PLOT = "x" * 10_000_000 or (')])
    result = grade(path, worker_factory=InProcessWorker, only=REASONING)
    [item] = result.items
    texts = item.artifacts["reasoning"]
    assert texts["WHY_PLOT"] == "x" * answers.REASON_CHARS + " ... [cut: 9998000 more characters]"
    window = texts["WHY_WINDOW_SIZE"]
    assert window.startswith("<script>alert(1)</script><b>bold</b>redok ok ") and "32 ended lowest" in window
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", "".join(texts.values()))
    assert item.score == item.max_score == 0 and item.passed
    assert item.feedback == "to be graded by your instructor: 4 of 4 answers written"

    page = result.html()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold" in page
    report = result.text()
    assert "\x1b" not in report and "\r" not in report and "- WHY_PLOT: xxx" in report
    assert len(report) < 20_000 and len(page) < 100_000
    gradescope = json.dumps(result.to_gradescope())
    assert len(gradescope) < 20_000 and "Your reasoning, for your instructor to grade" in gradescope
    assert "WHY_WINDOW_SIZE" in result.to_prairielearn()["tests"][0]["output"]
    assert len(json.dumps(result.batch_row())) < 20_000


def test_unwritten_reasoning_is_counted_and_marked_not_written(tmp_path):
    path = reference_with(tmp_path, [('WHY_CLIPPING = (', 'WHY_CLIPPING = None and ('),
                                     ('WHY_PLOT = (', 'WHY_PLOT = 42 or (')])
    [item] = grade(path, worker_factory=InProcessWorker, only=REASONING).items
    assert item.feedback == "to be graded by your instructor: 2 of 4 answers written"
    assert item.artifacts["reasoning"]["WHY_CLIPPING"] == "" and item.artifacts["reasoning"]["WHY_PLOT"] == ""


# --- the claims' rules, on numbers either side of a margin ----------------------------------------

class FakeContext:
    """What the claim checks use of a ItemContext, with the answers and measurements given."""

    def __init__(self, item_id, claims, measurements):
        from autograder.items.registry import specs

        self.settings = specs()[item_id].settings()
        self.item = SimpleNamespace(id=item_id, seconds=60)
        self.session = SimpleNamespace(shared={"answers": {name: {"defined": True, "value": value}
                                                           for name, value in claims.items()},
                                               **measurements})


def window(values):
    return {"window_sizes": ({8: values[0], 16: values[1], 32: values[2]}, None)}


@pytest.mark.parametrize("claim,values,score,says", [
    (8, (1.00, 1.20, 1.30), 1.0, "consistent"),
    (16, (1.00, 1.04, 1.30), 1.0, "within 5% of the lowest (8), too close to call"),
    (16, (1.00, 1.06, 1.30), 0.0, "16's validation MSE is 6.0% above 8's, more than the 5% margin"),
    (32, (1.00, 1.06, 1.30), 0.0, "your compare_window_sizes(make_series()) measured 8: 1, 16: 1.06, 32: 1.3"),
])
def test_a_window_claim_is_contradicted_only_beyond_its_margin(claim, values, score, says):
    outcome = answers.grade_answer_window_size(FakeContext("answer_window_size", {"BEST_WINDOW_SIZE": claim},
                                                           window(values)))
    assert outcome.score == score and says in outcome.feedback


def test_a_claim_whose_function_could_not_run_is_accepted_and_says_why():
    ctx = FakeContext("answer_window_size", {"BEST_WINDOW_SIZE": 16},
                      {"window_sizes": (None, "compare_window_sizes is not implemented yet")})
    outcome = answers.grade_answer_window_size(ctx)
    assert outcome.score == 1.0 and outcome.feedback.startswith("accepted without judging: ")
    assert "compare_window_sizes is not implemented yet" in outcome.feedback


def runs(lstm, gru=None, free=None, truth=None, pred=None):
    import numpy as np

    truth = np.sin(np.arange(41) * 0.3) if truth is None else truth
    made = {"run:LSTMForecaster:clip": ({"final": lstm, "losses": [0.5, lstm], "truth": truth,
                                         "pred": truth if pred is None else pred}, None)}
    if gru is not None:
        made["run:GRUForecaster:clip"] = ({"final": gru, "losses": [0.5, gru], "truth": truth, "pred": truth}, None)
    if free is not None:
        made["run:LSTMForecaster:no clip"] = ({"final": free[-1], "losses": list(free), "truth": truth,
                                               "pred": truth}, None)
    return made


@pytest.mark.parametrize("claim,lstm,gru,score", [
    ("GRU", 1.0, 0.97, 1.0), ("LSTM", 1.0, 0.97, 1.0), ("LSTM", 1.0, 0.90, 0.0), ("GRU", 0.90, 1.0, 0.0),
])
def test_lstm_or_gru_is_judged_with_a_five_percent_margin(claim, lstm, gru, score):
    outcome = answers.grade_answer_gru_vs_lstm(FakeContext("answer_gru_vs_lstm", {"LOWER_VAL_MSE": claim},
                                                           runs(lstm, gru)))
    assert outcome.score == score, outcome.feedback
    assert f"LSTM {lstm:.5g}, GRU {gru:.5g}" in outcome.feedback


@pytest.mark.parametrize("claim,free,score", [
    (True, (0.5, 1.0), 1.0),                       # as good as clipped: stable
    (False, (0.5, 1.0), 0.0),
    (False, (0.5, float("nan")), 1.0),             # a NaN loss: unstable, decisively
    (True, (0.5, float("inf")), 0.0),
    (True, (0.5, 2.2), 1.0), (False, (0.5, 2.2), 1.0),     # 2.2x: within 25% of the 2x rule, either answer
    (True, (0.5, 3.0), 0.0),                       # 3x: unstable, decisively
])
def test_stability_without_clipping_is_judged_on_the_spec_rule_with_a_margin(claim, free, score):
    outcome = answers.grade_answer_clipping(FakeContext("answer_clipping", {"STABLE_WITHOUT_CLIPPING": claim},
                                                        runs(1.0, free=free)))
    assert outcome.score == score, outcome.feedback


def test_the_plot_claim_is_judged_on_the_diagnosis_patterns():
    import numpy as np

    truth = np.sin(np.arange(41) * 0.3)
    lagging = np.r_[truth[0], truth[:-1]]
    flat = truth * 0.05

    def judged(claim, pred):
        ctx = FakeContext("answer_plot", {"PLOT_SHOWS": claim}, runs(1.0, truth=truth, pred=pred))
        return answers.grade_answer_plot(ctx).score

    assert judged("none", truth) == 1.0 and judged("lag", truth) == 0.0
    assert judged("lag", lagging) == 1.0 and judged("none", lagging) == 0.0
    assert judged("flatline", flat) == 1.0 and judged("noisy", flat) == 0.0


@pytest.mark.parametrize("name,value,says", [
    ("BEST_WINDOW_SIZE", True, "got True"), ("BEST_WINDOW_SIZE", 12, "got 12"), ("BEST_WINDOW_SIZE", 16.0, "got 16.0"),
    ("BEST_WINDOW_SIZE", None, "got None (no answer yet)"), ("LOWER_VAL_MSE", "lstm", "got 'lstm'"),
    ("STABLE_WITHOUT_CLIPPING", 1, "got 1"), ("PLOT_SHOWS", "lagging", "got 'lagging'"),
])
def test_an_invalid_claim_costs_its_item_and_names_the_allowed_values(name, value, says):
    item_id = {"BEST_WINDOW_SIZE": "answer_window_size", "LOWER_VAL_MSE": "answer_gru_vs_lstm",
               "STABLE_WITHOUT_CLIPPING": "answer_clipping", "PLOT_SHOWS": "answer_plot"}[name]
    check = {"answer_window_size": answers.grade_answer_window_size,
             "answer_gru_vs_lstm": answers.grade_answer_gru_vs_lstm,
             "answer_clipping": answers.grade_answer_clipping, "answer_plot": answers.grade_answer_plot}[item_id]
    outcome = check(FakeContext(item_id, {name: value}, {}))      # no measurement is asked for
    assert outcome.score == 0.0 and outcome.feedback.startswith(f"{name} should be one of ") and says in outcome.feedback


# --- by question, and the TA's scores ---------------------------------------------------------------

def class_rows(n=20):
    """A class as the batch keeps it (meta.json rows), with claims, numbers and reasoning of every kind."""
    rows = {}
    for i in range(n):
        claim = [32, 16, None][i % 3]
        rows[f"s{i:02d}"] = {"status": "graded", "score": 90.0, "items": {"answer_window_size": 3.0 if i % 3 == 0 else 0.0},
                             "answers": {
                                 "answer_window_size": {"claim": claim, "measured": "8: 1, 16: 1.06, 32: 0.9",
                                                        "feedback": "verdict words", "score": 3.0 if i % 3 == 0 else 0.0,
                                                        "max_score": 3},
                                 "reasoning": {"WHY_WINDOW_SIZE": f"reason {i} <img src=x onerror=alert(1)>",
                                               "WHY_PLOT": ""}}}
    rows["late"] = {"status": "timed_out", "score": 0.0, "items": {}}
    return rows


def test_each_question_gets_one_self_contained_page_listing_every_student(tmp_path):
    paths = write_question_pages(class_rows(), tmp_path)
    assert [p.name for p in paths] == [f"{stem}.html" for stem, *_ in QUESTIONS]
    page = (tmp_path / "questions" / "window_size.html").read_text()
    assert page.count("<tr class=") == 21 and "s19" in page and "late" in page
    assert page.count('class="contradicted"') == 7 and page.count('class="unanswered"') == 7
    assert "<img src=x" not in page and html.escape("<img src=x onerror=alert(1)>") in page
    assert "src=" not in page.replace(html.escape("<img src=x"), "") and "<script" not in page   # nothing to fetch
    assert "8: 1, 16: 1.06, 32: 0.9" in page
    plot = (tmp_path / "questions" / "plot.html").read_text()
    assert plot.count("(not written)") == 21


@pytest.mark.browser
def test_the_by_question_page_renders_in_chromium(tmp_path):
    from test_platforms import browser, chromium

    if not chromium():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    write_question_pages(class_rows(), tmp_path)
    page = tmp_path / "questions" / "window_size.html"
    dom = browser(f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri())
    assert dom.stdout.count("<tr class=") == 21 and "reason 19" in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    browser(f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,900", f"--screenshot={shot}", page.as_uri())
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (900, 1100) and pixels.std() > 0.05                 # not a blank page


def rubric_with_reasoning_points(tmp_path, points=4):
    from conftest import rubric_with

    path = tmp_path / "rubric.toml"
    path.write_text(rubric_with(f'[[items]]\nid = "reasoning"\npoints = {points}'))
    return load_rubric(path)


def test_manual_scores_merge_into_grades_csv_with_the_manual_part_apart(tmp_path):
    rubric = rubric_with_reasoning_points(tmp_path)
    reasoning_max = next(item.points for item in rubric.items if item.id == "reasoning")
    scores_file = tmp_path / "scores.csv"
    scores_file.write_text(f"student,reasoning\ns00,{reasoning_max}\ns01,1.5\ns02,\n")
    scores = read_manual_scores(scores_file, rubric, class_rows())
    assert scores == {"s00": {"reasoning": reasoning_max}, "s01": {"reasoning": 1.5}, "s02": {}}
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(grades_csv(class_rows(), rubric, scores)))}
    assert rows["s01"]["automatic"] == "90.00" and rows["s01"]["manual"] == "1.50" and rows["s01"]["total"] == "91.50"
    assert rows["s01"]["reasoning"] == "1.50" and rows["s02"]["reasoning"] == "" and rows["s02"]["total"] == "90.00"
    assert rows["s02"]["manual"] == "" and rows["late"]["total"] == "0.00"
    plain = grades_csv(class_rows(), rubric)
    assert "automatic" not in plain.splitlines()[0]                   # without manual scores: as before


@pytest.mark.parametrize("text,says", [
    ("name,reasoning\ns00,1\n", "the first row must be the header, starting with 'student'"),
    ("student,comment\ns00,1\n", "column 'comment' is not an item graded by hand (these are: reasoning)"),
    ("student,reasoning\nnobody,1\n", "row 2: no student 'nobody' in this class"),
    ("student,reasoning\ns00,1\ns00,2\n", "row 3: student 's00' is listed twice"),
    ("student,reasoning\ns00,9\n", "row 2: reasoning for s00 must be a number from 0 to "),
    ("student,reasoning\ns00,-1\n", "must be a number from 0 to"),
    ("student,reasoning\ns00,nan\n", "got 'nan'"),
    ("student,reasoning\ns00,three\n", "got 'three'"),
])
def test_a_scores_file_a_batch_cannot_merge_is_refused_naming_the_row(tmp_path, text, says):
    rubric = rubric_with_reasoning_points(tmp_path)
    path = tmp_path / "scores.csv"
    path.write_text(text)
    with pytest.raises(ManualScoresError, match=re.escape(says)):
        read_manual_scores(path, rubric, class_rows())


def test_scores_for_an_item_worth_no_points_are_refused(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("student,reasoning\ns00,1\n")
    with pytest.raises(ManualScoresError, match="reasoning is worth 0 points in the rubric: give it points"):
        read_manual_scores(path, load_rubric(), class_rows())


@pytest.mark.slow
def test_a_batch_writes_the_question_pages_and_merges_the_ta_scores(tmp_path):
    """End to end, two students: the pages hold their claims, numbers and reasoning; a TA's CSV is
    checked before grading, kept, and merged into grades.csv with the manual part apart."""
    from test_platforms import autograder

    rubric = rubric_with_reasoning_points(tmp_path)
    room = tmp_path / "class"
    room.mkdir()
    (room / "ada.py").write_text(corpus.REFERENCE.read_text())
    (room / "bob.py").write_text(corpus.build(next(c for c in corpus.WRONG if c.name == "claims_window_16")))
    scores = tmp_path / "scores.csv"
    scores.write_text("student,reasoning\nada,3\nnobody,1\n")
    refused = autograder("batch", room, "--out", tmp_path / "out", "--rubric", rubric.path, "--manual", scores)
    assert refused.returncode == 2 and "row 3: no student 'nobody' in this class" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()                     # refused before anything ran

    scores.write_text("student,reasoning\nada,3\nbob,\n")
    done = autograder("batch", room, "--out", tmp_path / "out", "--rubric", rubric.path, "--manual", scores, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    rows = {row["student"]: row for row in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    points = {item.id: item.points for item in rubric.items}
    assert rows["ada"]["automatic"] == f"{100 - points['reasoning']:.2f}" and rows["ada"]["manual"] == "3.00"
    assert float(rows["bob"]["automatic"]) == pytest.approx(100 - points["reasoning"] - points["answer_window_size"])
    assert rows["bob"]["reasoning"] == "" and rows["bob"]["total"] == rows["bob"]["automatic"]
    page = (tmp_path / "out" / "questions" / "window_size.html").read_text()
    assert "32 ended lowest" in page and 'class="contradicted"' in page and "8: 0.0028853" in page
    # A later run without --manual keeps the TA's scores.
    again = autograder("batch", room, "--out", tmp_path / "out", "--rubric", rubric.path)
    assert again.returncode == 0 and "graded 0 of 2 students" in again.stdout
    assert {row["student"]: row["manual"] for row in csv.DictReader((tmp_path / "out" / "grades.csv").open())} == \
        {"ada": "3.00", "bob": ""}


def test_both_hand_outs_have_an_answer_place_after_each_question():
    """The .py stub sets every answer name to None with its allowed values; the notebook gives each
    block a cell of its own after the code it asks about (the plot's after the cell that draws it)."""
    import nbformat

    from autograder import assign

    stub = assign.STUB_FILE.read_text()
    for line in ["BEST_WINDOW_SIZE = None                     # one of 8, 16, 32",
                 'LOWER_VAL_MSE = None                        # "LSTM" or "GRU"',
                 "STABLE_WITHOUT_CLIPPING = None              # True or False",
                 'PLOT_SHOWS = None                           # one of "lag", "flatline", "missed peaks", "noisy", "none"',
                 "WHY_PLOT = None                             # a sentence or two, in your own words"]:
        assert line in stub
    assert "BEGIN ANSWER" not in stub and "32 ended lowest" not in stub
    cells = [cell.source for cell in nbformat.read(assign.NOTEBOOK_FILE, as_version=4).cells]
    answer_cells = [i for i, source in enumerate(cells) if assign.ANSWER_HEADER in source]
    assert len(answer_cells) == 4
    defining = {name: next(i for i, source in enumerate(cells) if f"\n{name}" in "\n" + source)
                for name in ["class GRUForecaster", "def train_model", "def compare_window_sizes",
                             'if __name__ == "__main__":\n    import matplotlib']}
    assert [cells[i].split("\n")[0] for i in answer_cells] == [
        "# Exercise 2's question: trained with train_model's defaults on the lab's data (window 16, a 0.8",
        "# Exercise 3's question: does training stay stable without gradient clipping (clip_norm=None)?",
        "# Exercise 1's question: which window size gives the lowest validation MSE in",
        "# The plot's question: what do the lab run's validation predictions show against the truth?"]
    assert [i - 1 for i in answer_cells] == [defining[k] + 1 for k in defining]     # each after its markdown heading


@pytest.mark.slow
def test_a_measurement_that_runs_out_of_time_accepts_the_claim_and_refuses_nothing_later(tmp_path):
    """train_model without clipping never returns here: answer_clipping runs out of its time and
    accepts the claim, and beats_baseline, which calls train_model afterwards, is not refused."""
    import dataclasses

    path = reference_with(tmp_path, [("    loss_fn = nn.MSELoss()\n",
                                      "    loss_fn = nn.MSELoss()\n    if clip_norm is None:\n"
                                      "        import time\n        time.sleep(600)\n")])
    rubric = load_rubric()
    for item in rubric.items:
        if item.id == "answer_clipping":
            item.seconds = 15.0
        if item.id == "beats_baseline":
            item.settings = dataclasses.replace(item.settings, series=1)
    result = grade(path, rubric=rubric, only={"answer_clipping", "beats_baseline"})
    beats, clipping = result.items                  # the rubric's order; beats_baseline ran last
    assert clipping.score == clipping.max_score and clipping.feedback.startswith("accepted without judging")
    assert "did not finish within the item's 15 s" in clipping.feedback
    assert beats.score == beats.max_score, beats.feedback


@pytest.mark.parametrize("region,says", [
    ("# BEGIN ANSWER\nBEST = 32  # 8, 16 or 32\n", "a BEGIN ANSWER region is never closed"),
    ("# BEGIN ANSWER\n# nothing set here\n# END ANSWER\n", "sets no NAME = value"),
])
def test_an_answer_region_the_generator_cannot_turn_into_placeholders_is_refused(region, says):
    from autograder import assign

    with pytest.raises(assign.MarkerError, match=says):
        assign.make_stub_source('"""Doc."""\n\n' + region)
