"""A long-lived grading process for batch runs: one job per line on stdin, one answer per line on stdout.

Why one process for many students and not ``autograder grade`` per student: torch and the
reference load once per process instead of once per submission. Why not grade in the batch
process itself: a grader that dies (it should not, but a batch of hundreds must not bet on it)
takes only its current student with it; the batch starts a new one and moves on
(classroom/pool.py).

A job is {"path", "out_dir", "rubric", "hidden_seed"}; the process writes results.json,
report.txt and report.html into out_dir and answers with a short summary.
"""

import json
import os
import sys
from pathlib import Path


def grade_job(job, zygote=None):
    from autograder.engine import grade
    from autograder.files import atomic_write_text
    from autograder.rubric import load_rubric
    from autograder.submitted_file import UngradablePath

    out = Path(job["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    try:
        rubric = load_rubric(job.get("rubric"), hidden_seed=job.get("hidden_seed"))
        result = grade(job["path"], rubric=rubric, zygote=zygote)
    except UngradablePath as problem:
        return {"status": "ungradable", "reason": str(problem)}
    result.write_gradescope(out / "results.json")
    atomic_write_text(out / "report.txt", result.text())
    try:
        page = result.html()
    except Exception as exc:  # noqa: BLE001  (a report that cannot be drawn must not cost the grade)
        page = f"<!doctype html><p>The HTML report could not be drawn ({type(exc).__name__}); report.txt has it all.</p>"
    atomic_write_text(out / "report.html", page)
    return result.batch_row()


def main():
    # Answers go on the real stdout; anything else that prints goes to stderr.
    import torch._dynamo  # noqa: F401  (loaded once here; the zygote forked next shares it)

    from autograder.sandbox import Zygote

    from autograder.rubric import HIDDEN_SEED_VARIABLE

    answers = sys.stdout
    sys.stdout = sys.stderr
    if HIDDEN_SEED_VARIABLE in os.environ:
        # Started with the seed in its environment (not by the batch, which sends it in each
        # job): the seed is in this process's memory for good, so no worker may be forked from it.
        zygote = Zygote()
    else:
        zygote = Zygote.fork_here()   # before the reference is loaded: it must never hold it
    for line in sys.stdin:
        job = json.loads(line)
        if not zygote.alive:
            zygote = Zygote()         # a clean interpreter: this process holds the reference now
        try:
            answer = grade_job(job, zygote)
        except Exception as exc:  # noqa: BLE001  (report, keep serving: the batch decides)
            answer = {"status": "grader_failed", "reason": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    zygote.close()


if __name__ == "__main__":
    main()
    sys.stderr.flush()
    os._exit(0)                       # no second of interpreter teardown: every file is written
