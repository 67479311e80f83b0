"""Batch grading throughput, measured side by side in one run.

Twenty submissions (correct ones, classic mistakes, and hostile ones that
crash, segfault or hang) are graded three ways: ``autograder batch --jobs 1``,
``autograder batch --jobs 2``, and ``autograder grade`` on each one alone.
The rubric's item limit is cut to 5 s so the hanging submission costs seconds.

    python bench/batch.py [--repeat 3]

Targets (issue 4): --jobs 2 at least 1.7x faster than --jobs 1; the cost of a
submission inside a batch at most 1.1x the cost of grading it alone. Before
any figure is printed, both batches' grades are checked: no grader failure,
every correct submission at 100, and the same grades with 1 and 2 jobs.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import corpus  # noqa: E402

PY = sys.executable


def make_class(folder):
    """20 submissions: 8 correct, 8 wrong, 4 hostile."""
    reference = corpus.REFERENCE.read_text()
    for i in range(4):
        (folder / f"correct_{i}.py").write_text(reference)
    for case in corpus.CORRECT_VARIANTS:
        (folder / f"variant_{case.name}.py").write_text(corpus.build(case))
    for case in corpus.WRONG[:8]:
        (folder / f"wrong_{case.name}.py").write_text(corpus.build(case))
    for name in ("os_exit_at_import", "segfault_in_forward", "infinite_loop", "imports_the_solution"):
        case = next(c for c in corpus.HOSTILE if c.name == name)
        (folder / f"hostile_{name}.py").write_text(corpus.build(case))
    return sorted(folder.glob("*.py"))


def check_grades(csv_path):
    """A speed figure means nothing if grading went wrong: verify the batch's grades."""
    import csv

    with open(csv_path) as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    failed = [s for s, row in rows.items() if row["status"] == "grader_failed"]
    wrong = [s for s, row in rows.items() if s.startswith(("correct_", "variant_")) and row["total"] != "100.00"]
    if failed or wrong or len(rows) != 20:
        raise SystemExit(f"{csv_path}: grader failures {failed}, correct ones not at 100 {wrong}")
    return {s: (row["total"], row["status"]) for s, row in rows.items()}


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each batch (medians compared)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        room = work / "class"
        room.mkdir()
        files = make_class(room)
        rubric = work / "rubric.toml"
        rubric.write_text((ROOT / "autograder" / "rubric.toml").read_text() + "\n[limits]\nitem_seconds = 5\n")
        batch = [PY, "-m", "autograder", "batch", str(room), "--force", "--rubric", str(rubric)]
        runs = {1: [], 2: []}
        for _ in range(args.repeat):
            for jobs in (1, 2):
                runs[jobs].append(timed(batch + ["--out", str(work / f"out{jobs}"), "--jobs", str(jobs)]))
        if check_grades(work / "out1" / "grades.csv") != check_grades(work / "out2" / "grades.csv"):
            raise SystemExit("--jobs 1 and --jobs 2 gave different grades")
        alone = sum(timed([PY, "-m", "autograder", "grade", str(f), "--rubric", str(rubric)]) for f in files)
        one, two = statistics.median(runs[1]), statistics.median(runs[2])
        n = len(files)
        speedup = one / two
        overhead = (one / n) / (alone / n)
        print(f"{n} submissions on 2 cores; batch times are medians of {args.repeat} interleaved runs")
        print(f"batch --jobs 1      {one:7.1f} s  ({one / n:.2f} s per submission)  runs: "
              + ", ".join(f"{t:.1f}" for t in runs[1]))
        print(f"batch --jobs 2      {two:7.1f} s  ({two / n:.2f} s per submission)  runs: "
              + ", ".join(f"{t:.1f}" for t in runs[2]))
        print(f"grade, each alone   {alone:7.1f} s  ({alone / n:.2f} s per submission)")
        print(f"--jobs 2 speed-up over --jobs 1: {speedup:.2f}x (target >= 1.7x): {'ok' if speedup >= 1.7 else 'UNDER'}")
        print(f"cost in a batch / cost alone: {overhead:.2f}x (target <= 1.1x): {'ok' if overhead <= 1.1 else 'OVER'}")
        return 0 if speedup >= 1.7 and overhead <= 1.1 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
