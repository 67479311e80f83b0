"""Grade a whole class: ``autograder batch SUBMISSIONS --out DIR [--jobs N] [--force]``.

SUBMISSIONS holds one ``.py`` or ``.ipynb`` per student, or one folder per
student; the file or folder name is the student id. For each student the
batch writes ``DIR/students/ID/`` (results.json, report.txt, report.html,
meta.json), and after every student it rewrites ``DIR/grades.csv``, so the
CSV always exists and an interrupted batch keeps everything it finished.

A student whose submission file and rubric are unchanged since the last run
(same content hash) is not graded again unless ``--force`` is given.
"""

import csv
import hashlib
import io
import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import sandbox, seedplan
from autograder.files import atomic_write_text
from autograder.rubric import HIDDEN_SEED_VARIABLE, load_rubric
from autograder.submission import MODULE_FILE

STATUSES = ("graded", "import_failed", "timed_out", "ungradable", "grader_failed")


def discover(folder):
    """[(student id, path)] in name order: .py/.ipynb files and sub-folders."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder of submissions")
    students = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() or entry.suffix in (".py", ".ipynb"):
            students.append((entry.stem if entry.is_file() else entry.name, entry))
    return students


def submission_file(path):
    """The file that will be graded for ``path`` (a folder resolves to its sequence_modeling file)."""
    path = Path(path)
    if path.is_dir():
        for candidate in (path / f"{MODULE_FILE}.py", path / f"{MODULE_FILE}.ipynb"):
            if candidate.is_file():
                return candidate
    return path


def content_hash(path, rubric_text, hidden_seed=None):
    """What a student's grade depends on: the submission, the rubric and the hidden seed (hashed
    with the rest, so meta.json never holds the seed itself). Unchanged means nothing to regrade."""
    digest = hashlib.sha256()
    digest.update(rubric_text.encode())
    digest.update(f"seed:{hidden_seed}".encode())
    try:
        digest.update(submission_file(path).read_bytes())
    except OSError:
        digest.update(b"<unreadable>")
    return digest.hexdigest()


class GradingServer:
    """One ``autograder.server`` process, replaced whenever it dies or overruns."""

    def __init__(self):
        self.proc = None

    def start(self):
        # The hidden seed travels in each job, never in the environment: the server forks its
        # zygote (and so every worker) from its own memory, which holds its initial environment.
        env = {name: value for name, value in os.environ.items() if name != HIDDEN_SEED_VARIABLE}
        env["OMP_NUM_THREADS"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.server"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)

    def grade(self, job, timeout):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answers = queue.Queue()
        threading.Thread(target=lambda: answers.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = answers.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            return {"status": "grader_failed", "reason": f"grading took longer than the batch limit of {timeout:.0f} s"}
        if not line:
            self.kill()
            return {"status": "grader_failed", "reason": "the grading process died"}
        return json.loads(line)

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self, wait=True):
        """End of input: the server exits. With wait=False, only say so (close several at once)."""
        if self.proc is None:
            return
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        if wait:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def student_limit(rubric):
    """A safety net far above what per-item limits allow: every item lost and re-imported."""
    per_item = [item.seconds + float(rubric.limits["import_seconds"]) for item in rubric.items]
    return sum(per_item) + float(rubric.limits["import_seconds"]) + 60


def load_meta(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def run_batch(submissions, out, jobs=None, force=False, rubric_path=None, progress=True):
    from tqdm import tqdm

    from autograder.summary import write_class_summary

    rubric = load_rubric(rubric_path)
    try:
        students = discover(submissions)
        seedplan.plan_for(rubric.hidden_seed, rubric, "grade", seedplan.load_reference)   # before any student
    except (NotADirectoryError, seedplan.SeedError) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    out = Path(out)
    (out / "students").mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or os.cpu_count() or 1)
    sandbox.become_subreaper()

    rows, todo = {}, []
    for student, path in students:
        digest = content_hash(path, rubric.text, rubric.hidden_seed)
        meta = load_meta(out / "students" / student / "meta.json")
        if not force and meta and meta.get("hash") == digest and meta.get("status") in STATUSES:
            rows[student] = meta
        else:
            todo.append((student, path, digest))

    lock = threading.Lock()
    servers = queue.Queue()
    for _ in range(min(jobs, len(todo))):
        server = GradingServer()
        server.start()                     # torch loads in the servers while this process goes on
        servers.put(server)
    limit = student_limit(rubric)

    def write_csv():
        atomic_write_text(out / "grades.csv", grades_csv(rows, rubric))

    def grade_one(student, path, digest):
        server = servers.get()
        try:
            answer = server.grade({"path": str(path), "out_dir": str(out / "students" / student),
                                   "rubric": str(rubric.path), "hidden_seed": rubric.hidden_seed}, limit)
        finally:
            servers.put(server)
            with lock:
                sandbox.reap_orphans(keep=live_servers())
        meta = {"student": student, "hash": digest, "status": answer.get("status", "grader_failed"),
                "score": answer.get("score", 0.0), "items": answer.get("items", {}),
                "reason": answer.get("reason", ""), "submission": str(path)}
        if meta["status"] in ("ungradable", "grader_failed"):
            write_zero_results(out / "students" / student, rubric, meta["reason"])
        atomic_write_text(out / "students" / student / "meta.json", json.dumps(meta, indent=2) + "\n")
        with lock:
            rows[student] = meta
            write_csv()

    all_servers = list(servers.queue)

    def live_servers():
        return {s.proc.pid for s in all_servers if s.proc is not None and s.proc.poll() is None}

    write_csv()
    if todo:
        import matplotlib  # noqa: F401  (for the class chart; loads now, while the servers start)
    started = time.monotonic()
    bar = tqdm(total=len(todo), unit="submission", file=sys.stderr, disable=not progress or not todo,
               desc="grading", dynamic_ncols=True)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(grade_one, *job) for job in todo]
            for future in futures:
                future.result()
                bar.update(1)
    finally:
        bar.close()
        for server in all_servers:          # tell every server first, then wait: they exit together
            server.close(wait=False)
        for server in all_servers:
            server.close()
        with lock:
            write_csv()
    write_class_summary(rows, rubric, out)
    counts = {status: sum(1 for r in rows.values() if r["status"] == status) for status in STATUSES}
    print(f"graded {len(todo)} of {len(students)} students in {time.monotonic() - started:.1f} s "
          f"({len(students) - len(todo)} up to date, skipped)")
    print(f"status: {counts['graded']} graded, {counts['import_failed']} failed to import, "
          f"{counts['timed_out']} timed out, {counts['ungradable']} ungradable, "
          f"{counts['grader_failed']} grader failures")
    print(f"wrote {out / 'grades.csv'}, {out / 'summary.md'}, {out / 'summary.png'} and {out / 'students'}/")
    return 0


def write_zero_results(folder, rubric, reason):
    """A results.json for a student the grader could not finish: zeros, with the reason."""
    tests = [{"name": item.name, "number": str(i), "score": 0.0, "max_score": item.points, "status": "failed",
              "output": reason, "visibility": item.visibility, "tags": [item.id]}
             for i, item in enumerate(rubric.items, start=1)]
    data = {"score": 0.0, "max_score": rubric.max_score, "execution_time": 0.0, "output": reason, "tests": tests}
    atomic_write_text(Path(folder) / "results.json", json.dumps(data, indent=2) + "\n")


def grades_csv(rows, rubric):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "total"] + [item.id for item in rubric.items] + ["status"])
    for student in sorted(rows):
        meta = rows[student]
        items = meta.get("items", {})
        writer.writerow([student, f"{meta.get('score', 0.0):.2f}"] +
                        [f"{items.get(item.id, 0.0):.2f}" for item in rubric.items] + [meta["status"]])
    return buffer.getvalue()
