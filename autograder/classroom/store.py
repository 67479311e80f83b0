"""A batch's output folder: ``DIR/students/ID/`` per student and ``DIR/grades.csv``, always in step.

For each student the batch writes ``DIR/students/ID/`` (results.json, report.txt, report.html,
meta.json), and after every student it rewrites ``DIR/grades.csv``, so the CSV always exists and
an interrupted batch keeps everything it finished. Every meta.json already in DIR is loaded first,
so a row keeps its previous values until its student is graded again: an interrupted run, forced
or not, never leaves grades.csv shorter than it was.
"""

import json
import os
import threading
from pathlib import Path

from autograder.classroom.roster import student_id
from autograder.files import atomic_write_text
from autograder.reports.grades import grades_csv
from autograder.reports.results import GradeResult
from autograder.safe_text import printable

STATUSES = ("graded", "import_failed", "timed_out", "ungradable", "grader_failed")


def load_meta(path):
    """A student's meta.json, or None when it is missing or not what the batch writes."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(meta, dict) and meta.get("status") in STATUSES
            and isinstance(meta.get("score", 0.0), (int, float)) and isinstance(meta.get("items", {}), dict)):
        return None
    if not all(isinstance(v, (int, float)) for v in meta.get("items", {}).values()):
        return None
    return meta


def load_all_meta(out):
    """{student id: meta} for every student folder already in ``out``: the rows grades.csv had."""
    rows = {}
    try:
        folders = sorted(os.scandir(out / "students"), key=lambda e: e.name)
    except OSError:
        return rows
    for entry in folders:
        if entry.is_dir(follow_symlinks=False) and entry.name == student_id(entry.name):
            meta = load_meta(Path(entry.path) / "meta.json")
            if meta is not None:
                rows[entry.name] = meta
    return rows


class ClassFolder:
    """The rows of grades.csv ({student id: meta}) and the folder they are written to; thread-safe."""

    def __init__(self, out, rubric, manual_scores, rows):
        self.out, self.rubric, self.manual_scores, self.rows = Path(out), rubric, manual_scores, rows
        self.lock = threading.Lock()

    def write_csv(self):
        with self.lock:
            self._write_csv()

    def _write_csv(self):
        atomic_write_text(self.out / "grades.csv", grades_csv(self.rows, self.rubric, self.manual_scores))

    def record(self, student, digest, answer):
        """Store one student's answer from the grader (or the reason it was not graded) and rewrite grades.csv."""
        meta = {"student": student.id, "hash": digest, "status": answer.get("status", "grader_failed"),
                "score": answer.get("score", 0.0), "items": answer.get("items", {}),
                "reason": printable(answer.get("reason", "")), "submission": printable(student.path),
                "confinement": answer.get("confinement", "")}
        if isinstance(answer.get("answers"), dict):       # for the by-question pages (reports/questions.py)
            meta["answers"] = answer["answers"]
        if meta["status"] not in STATUSES:
            meta["status"] = "grader_failed"
        folder = self.out / "students" / student.id
        if meta["status"] in ("ungradable", "grader_failed"):
            GradeResult.ungradable(self.rubric, meta["reason"]).write_gradescope(folder / "results.json")
            for stale in ("report.txt", "report.html"):      # an earlier run's reports would contradict it
                (folder / stale).unlink(missing_ok=True)
        atomic_write_text(folder / "meta.json", json.dumps(meta, indent=2) + "\n")
        with self.lock:
            self.rows[student.id] = meta
            self._write_csv()
