"""The results type owns every output format, and each is byte for byte what the kit wrote before.

The expected files in tests/data/results/ were generated ONCE by main's code before the results
type existed (autograder.report, html_report, batch, gradescope and prairielearn at 8335ef8; see
tests/data/results/hand_built.py, which builds the same results from whichever classes it is
given). Regenerating them with this code would make these tests compare the code with itself.
"""

import json
import sys
from pathlib import Path

import pytest

from autograder.reports.grades import grades_csv
from autograder.reports.results import GradeResult, ItemResult

DATA = Path(__file__).parent / "data" / "results"
sys.path.insert(0, str(DATA))

import hand_built  # noqa: E402  (the shared builder of the hand-made results)

RESULTS = hand_built.hand_built(GradeResult, ItemResult)


def expected(name):
    return (DATA / name).read_bytes().decode()      # byte for byte: grades.csv ends its lines in \r\n


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_results_json_is_what_gradescope_got_before(name, tmp_path):
    result = RESULTS[name]
    assert result.gradescope_json() == expected(f"{name}.json")
    result.write_gradescope(tmp_path / "results.json")
    assert (tmp_path / "results.json").read_bytes().decode() == expected(f"{name}.json")


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_text_report_and_progress_lines_are_what_students_read_before(name):
    result = RESULTS[name]
    assert result.text() == expected(f"{name}.txt")
    lines = "".join(item.progress_line(n, len(result.items)) + "\n" for n, item in enumerate(result.items, 1))
    assert lines == expected(f"{name}.progress.txt")


def test_the_text_report_says_first_5_only_when_more_lines_were_printed():
    import copy

    result = copy.deepcopy(RESULTS["graded"])
    for printed, heading in (("one\n", "Your code printed (1 line):"), ("a\nb\n", "Your code printed (2 lines):"),
                             ("".join(f"{n}\n" for n in range(6)), "Your code printed (6 lines; first 5):")):
        result.printed = printed
        assert heading in result.text()


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_html_report_is_what_it_was(name):
    page = RESULTS[name].html()
    assert hand_built.without_images(page) == expected(f"{name}.html")


def test_the_html_report_still_draws_the_students_curves():
    """Images are masked in the comparison above; here, that they are real PNGs."""
    page = RESULTS["graded"].html()
    assert page.count('src="data:image/png;base64,iVBORw0KGgo') == 3     # the PNG signature, base64


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_prairielearn_results_are_what_they_were(name):
    data = json.dumps(RESULTS[name].to_prairielearn(), indent=2, allow_nan=False) + "\n"
    assert data == expected(f"{name}.prairielearn.json")


def test_grades_csv_rows_come_from_the_results():
    rubric = hand_built.fake_rubric()
    rows = {"alice": RESULTS["graded"].batch_row(), "=bob": RESULTS["timed_out"].batch_row(),
            "carol": {"status": "ungradable", "score": 0.0, "items": {}}}
    assert grades_csv(rows, rubric) == expected("grades.csv")
    lines = expected("grades.csv").splitlines()
    assert ",".join(RESULTS["graded"].csv_row("alice", rubric)) == lines[2]
    assert ",".join(RESULTS["timed_out"].csv_row("=bob", rubric)) == lines[1]      # a formula id stays text


def test_ungradable_is_what_gradescope_and_prairielearn_wrote_before(tmp_path):
    rubric = hand_built.fake_rubric()
    ungradable = GradeResult.ungradable(rubric, hand_built.REASON)
    assert ungradable.gradescope_json() == expected("ungradable.gradescope.json")
    assert GradeResult.ungradable(None, hand_built.REASON).gradescope_json() == \
        expected("ungradable.gradescope-no-rubric.json")
    pl = GradeResult.ungradable(rubric, hand_built.PRAIRIELEARN_REASON).to_prairielearn()
    assert json.dumps(pl, indent=2, allow_nan=False) + "\n" == expected("ungradable.prairielearn.json")
    assert ungradable.status == "ungradable" and ungradable.score == 0.0


def test_the_batch_now_writes_gradescopes_ungradable_json_which_holds_all_it_wrote_before():
    """The batch had its own, thinner builder; it now writes the one results.json. Every field it
    wrote is there with the same value, plus Gradescope's output_format and visibilities."""
    rubric = hand_built.fake_rubric()
    for reason, name in ((hand_built.REASON, "ungradable.batch.json"),
                         (hand_built.HOSTILE_REASON, "ungradable.batch-hostile.json")):
        before = json.loads(expected(name))
        now = GradeResult.ungradable(rubric, reason).to_gradescope()
        assert {key: now[key] for key in before if key != "tests"} == {k: v for k, v in before.items() if k != "tests"}
        assert [{key: test[key] for key in old} for test, old in zip(now["tests"], before["tests"])] == before["tests"]
        assert len(now["tests"]) == len(before["tests"]) == len(rubric.items)
        assert set(now) - set(before) == {"output_format", "visibility", "stdout_visibility"}
        assert now["visibility"] == "after_due_date"       # beats_baseline's: no total shown before the due date


def test_an_ungradable_reason_reaches_no_terminal_with_its_escapes():
    data = GradeResult.ungradable(hand_built.fake_rubric(), hand_built.HOSTILE_REASON).gradescope_json()
    assert "\\u001b" not in data and "\\udce9" not in data and "caf\\\\xe9.py" in data


def test_the_class_summary_lists_who_needs_attention_and_why():
    """Import failures, time-outs and ungradable submissions, each with its one-line reason, in id order;
    a student graded in full is not listed."""
    from autograder.reports.summary import summary_markdown

    rubric = hand_built.fake_rubric()
    rows = {"alice": RESULTS["graded"].batch_row(), "=bob": RESULTS["timed_out"].batch_row(),
            "carl": RESULTS["import_failed"].batch_row(),
            "dora": GradeResult.ungradable(rubric, "dora.py: not UTF-8 text").batch_row(),
            "eve_2": dict(RESULTS["import_failed"].batch_row(),
                          reason="ValueError: **GRADER NOTE** [regrade](http://x) <img src=x> a|b `c` ~d~ &lt;")}
    attention = summary_markdown(rows, rubric).split("## Needs attention", 1)[1].splitlines()
    first_line = RESULTS["import_failed"].import_error.splitlines()[0]
    assert "*" not in first_line and "_" not in first_line and "[" not in first_line and "<" not in first_line
    # Markdown and HTML in a reason (the student's own exception text) are shown, not rendered.
    assert attention[4:] == ["| =bob | ran out of time | ran out of time in time\\_split |",
                             f"| carl | could not be imported | {first_line} |",
                             "| dora | could not be graded | dora.py: not UTF-8 text |",
                             "| eve\\_2 | could not be imported | ValueError: \\*\\*GRADER NOTE\\*\\* "
                             "\\[regrade\\](http://x) &lt;img src=x&gt; a\\|b \\`c\\` \\~d\\~ &amp;lt; |"]
    assert attention[0] == " (4 students)"
    alone = summary_markdown({"alice": RESULTS["graded"].batch_row()}, rubric)
    assert alone.endswith("## Needs attention\n\nNobody: every submission was imported and graded in time.\n")
