"""Hand-built grading results for tests/test_results.py, and the generator of its expected files.

``hand_built(GradeResult, ItemResult)`` builds the same results from whichever classes it is
given, so the expected files were made ONCE from main's code before the results type moved
(main at 8335ef8: autograder.report, html_report, batch, gradescope, prairielearn), by running

    cd /work/main && .venv/bin/python /path/to/tests/data/results/hand_built.py OUT_FOLDER

and the test pins the new methods' output against them byte for byte. Do not regenerate them
with the new code: that would make the test compare the code with itself.
"""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REASON = "Your submission could not be graded: submission/notes.txt: not a .py or .ipynb file"
# What the batch wrote for a file name and message that are not printable (it sanitised them).
HOSTILE_REASON = "Your submission could not be graded: submission/caf\udce9.py: not UTF-8 \x1b[31mtext\x1b[0m"
PRAIRIELEARN_REASON = ("Your submission could not be graded: no sequence_modeling.py or notebook. "
                       "It was not counted: fix it and submit again.")


def fake_rubric():
    """Four items with the rubric's fields the formats read (ids, names, points, visibility)."""
    items = [SimpleNamespace(id="make_windows", name="Sliding windows", points=10.0, visibility="visible"),
             SimpleNamespace(id="time_split", name="Time split", points=6.0, visibility="visible"),
             SimpleNamespace(id="train_model", name="Training loop", points=20.0, visibility="visible"),
             SimpleNamespace(id="beats_baseline", name="Beats the naive baseline", points=25.0,
                             visibility="after_due_date")]
    return SimpleNamespace(items=items, max_score=sum(item.points for item in items))


def pipeline_artifacts():
    """What beats_baseline leaves for the HTML report: a lagging prediction, a short history."""
    steps = np.arange(40, dtype=float)
    truth = np.sin(steps / 3.0)
    pred = np.concatenate([[0.0], truth[:-1]])          # repeats the last value: a lag of one step
    naive = pred.copy()
    history = [{"epoch": e, "train_mse": 1.0 / e, "val_mse": 1.2 / e} for e in (1, 2, 3)]
    return {"pipeline": {"y_val": truth, "pred": pred, "naive_pred": naive, "naive_mse": 0.25,
                         "model_mse": 0.2, "history": history, "rolling": truth[:10] * 0.9}}


def hand_built(GradeResult, ItemResult):
    """{name: GradeResult}: a mixed grade and a self-check whose import failed."""
    details = ["time_split(10, 0.8): train has 7 rows, expected 8",
               "time_split(3, 0.5): \x1b[31mraised\x1b[0m\tValueError\nwith a second line"]
    graded = GradeResult("students/alice/sequence_modeling.py", "grade", [
        ItemResult("make_windows", "Sliding windows", 10.0, 10.0, "all checks passed", "visible"),
        ItemResult("time_split", "Time split", 3.0, 6.0, details[0], "visible", details=list(details)),
        ItemResult("train_model", "Training loop", 0.0, 20.0,
                   "not implemented yet: train_model raises NotImplementedError (its message is a hint)",
                   "visible", outcome="not_implemented"),
        ItemResult("beats_baseline", "Beats the naive baseline", 12.5, 25.0,
                   "model MSE 0.2 vs naive 0.25 on 3 of 5 series\nsecond line <b>", "after_due_date",
                   details=["series 2: ratio 1.10 > 0.95"], artifacts=pipeline_artifacts()),
    ], printed="".join(f"epoch {e} loss {1 / e:.3f}\n" for e in range(1, 8)) + "\x1b[2Jcleared\r\n",
        confinement=["mount namespace", "uid 60123", "seccomp"], execution_time=12.345678)
    imported_error = 'importing the submission raised SyntaxError: invalid syntax\n  File "submission.py", line 3'
    import_failed = GradeResult("lessons/sequence_modeling.py", "check", [
        ItemResult(item_id, name, 0.0, points, "the submission could not be imported: " +
                   imported_error.splitlines()[0], "visible", outcome="not_imported")
        for item_id, name, points in (("make_windows", "Sliding windows", 10.0), ("time_split", "Time split", 6.0))
    ], import_error=imported_error, execution_time=0.5)
    timed_out = GradeResult("students/=bob.py", "grade", [
        ItemResult("make_windows", "Sliding windows", 10.0, 10.0, "all checks passed", "visible"),
        ItemResult("time_split", "Time split", 0.0, 6.0, "timed out after 5 s", "visible", outcome="timed_out"),
    ])
    return {"graded": graded, "import_failed": import_failed, "timed_out": timed_out}


def without_images(page):
    """The HTML report with each embedded PNG's bytes replaced by ``<PNG>`` (matplotlib's bytes are
    not this test's concern; the figures' number and captions are)."""
    import re

    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,<PNG>", page)


def batch_row(result):
    """The batch's meta.json row for a result, as autograder.server answers it."""
    return {"status": result.status, "score": result.score, "items": {i.id: i.score for i in result.items}}


def generate_from_main(out):
    """Write the expected files with main's functions (the code before the results type)."""
    import tempfile

    from autograder import batch, gradescope, prairielearn
    from autograder.engine import GradeResult, ItemResult
    from autograder.html_report import html_report
    from autograder.report import progress_line, results_json, text_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = hand_built(GradeResult, ItemResult)
    for name, result in results.items():
        (out / f"{name}.txt").write_text(text_report(result))
        (out / f"{name}.json").write_text(json.dumps(results_json(result), indent=2, allow_nan=False) + "\n")
        (out / f"{name}.html").write_text(without_images(html_report(result)))
        (out / f"{name}.prairielearn.json").write_text(
            json.dumps(prairielearn.prairielearn_results(result), indent=2, allow_nan=False) + "\n")
        (out / f"{name}.progress.txt").write_text(
            "".join(progress_line(n, len(result.items), item) + "\n" for n, item in enumerate(result.items, 1)))
    rubric = fake_rubric()
    rows = {"alice": batch_row(results["graded"]), "=bob": batch_row(results["timed_out"]),
            "carol": {"status": "ungradable", "score": 0.0, "items": {}}}
    (out / "grades.csv").write_text(batch.grades_csv(rows, rubric))
    for name, reason in (("ungradable.batch.json", REASON), ("ungradable.batch-hostile.json", HOSTILE_REASON)):
        with tempfile.TemporaryDirectory() as tmp:
            batch.write_zero_results(tmp, rubric, reason)
            (out / name).write_text(Path(tmp, "results.json").read_text())
    (out / "ungradable.gradescope.json").write_text(json.dumps(gradescope.zero_results(rubric, REASON), indent=2) + "\n")
    (out / "ungradable.gradescope-no-rubric.json").write_text(
        json.dumps(gradescope.zero_results(None, REASON), indent=2) + "\n")
    (out / "ungradable.prairielearn.json").write_text(
        json.dumps(prairielearn.not_gradable(PRAIRIELEARN_REASON), indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    generate_from_main(sys.argv[1])
