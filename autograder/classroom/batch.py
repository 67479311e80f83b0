"""Grade a whole class: ``autograder batch SUBMISSIONS --out DIR [--jobs N] [--force]``.

SUBMISSIONS holds one ``.py`` or ``.ipynb`` per student, or one folder per
student; the file or folder name is the student id. For each student the
batch writes ``DIR/students/ID/`` (results.json, report.txt, report.html,
meta.json), and after every student it rewrites ``DIR/grades.csv``, so the
CSV always exists and an interrupted batch keeps everything it finished.

A student whose submission file and rubric are unchanged since the last run
(same content hash) is not graded again unless ``--force`` is given. Every
meta.json already in DIR is loaded first, so a row keeps its previous values
until its student is graded again: an interrupted run, forced or not, never
leaves grades.csv shorter than it was.

Which file of a student's folder is graded is ``submitted_file.find_submission_file``'s
rule, the same as for ``grade`` and Gradescope. A file name that is not UTF-8
(or holds control characters) is graded under an escaped id (``caf%E9``) with
a warning; two entries with one id (``alice.py`` and ``alice.ipynb``) are an
error for that student alone.
"""

import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder import sandbox, seedplan
from autograder.classroom import shard as shards
from autograder.classroom.manual import ManualScoresError, keep, kept_scores, read_manual_scores
from autograder.files import atomic_write_text
from autograder.reports.grades import grades_csv
from autograder.reports.questions import write_question_pages
from autograder.reports.results import GradeResult
from autograder.rubric import HIDDEN_SEED_VARIABLE, load_rubric
from autograder.safe_text import printable
from autograder.submitted_file import SUFFIXES, UngradablePath, find_submission_file, read_submission_file

STATUSES = ("graded", "import_failed", "timed_out", "ungradable", "grader_failed")


class SubmissionsUnreadable(Exception):
    """The submissions folder itself cannot be listed; the message is the one-line reason (exit 2)."""


@dataclass
class Student:
    id: str
    path: Path
    problem: str = ""        # a reason this student cannot be graded, found before grading (two entries, one id)


def student_id(name):
    """The id for a file or folder name: bytes that are not UTF-8, and control characters, as %XX.

    Deterministic, so reruns find the same folder; readable, so a TA can match it to the file.
    """
    escaped = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:             # os.fsdecode's stand-in for an undecodable byte
            escaped.append(f"%{code - 0xDC00:02X}")
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            escaped.append(f"%{code:02X}" if code <= 0xFF else f"%u{code:04X}")
        else:
            escaped.append(char)
    return "".join(escaped)


def _entry_kind(entry):
    """"file", "folder" or None (not a submission) for a directory entry; links count as what they claim."""
    suffix = Path(entry.name).suffix
    if entry.is_symlink():               # refused when graded; here only: is it meant as a student?
        if suffix in SUFFIXES:
            return "file"
        try:
            return "folder" if entry.is_dir(follow_symlinks=True) else None
        except OSError:
            return None
    if entry.is_dir(follow_symlinks=False):
        return "folder"
    return "file" if suffix in SUFFIXES else None


def discover(folder):
    """([Student] in id order, [warning]): .py/.ipynb files and sub-folders of ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionsUnreadable(f"{printable(folder)}: not a folder of submissions")
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise SubmissionsUnreadable(f"{printable(folder)}: cannot read the folder of submissions "
                                    f"({exc.strerror})") from None
    by_id, warnings = {}, []
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        kind = _entry_kind(entry)
        if kind is None:
            continue
        name = Path(entry.name).stem if kind == "file" else entry.name
        student = student_id(name)
        if student != name:
            warnings.append(f"{printable(entry.name)}: the name is not plain UTF-8 text; "
                            f"graded as student id {student}")
        by_id.setdefault(student, []).append(Path(entry.path))
    students = []
    for student, paths in sorted(by_id.items()):
        problem = ""
        if len(paths) > 1:
            names = [printable(p.name) for p in paths]
            problem = (f"two submissions for student {student}: {names[0]} and {names[1]}"
                       f"{' (and more)' if len(names) > 2 else ''}; hand in one of them")
        students.append(Student(student, paths[0], problem))
    return students, warnings


def content_hash(student, rubric_text, seed_fingerprint=""):
    """(hash, reason): the hash of what is graded (the submission, the rubric and the hidden seed's
    slow fingerprint: a plain hash of a short seed could be reversed by trying every value), and
    why it cannot be graded ("" when it can). An unchanged hash means nothing to regrade."""
    digest = hashlib.sha256()
    digest.update(rubric_text.encode())
    digest.update(f"seed:{seed_fingerprint}".encode())
    reason = student.problem
    if not reason:
        try:
            digest.update(read_submission_file(*find_submission_file(student.path)))
        except UngradablePath as problem:
            reason = str(problem)
    if reason:
        digest.update(b"\0ungradable\0" + reason.encode("utf-8", "backslashreplace"))
    return digest.hexdigest(), reason


class GradingServer:
    """One ``autograder.classroom.stdio_grader`` process, replaced whenever it dies or overruns."""

    def __init__(self):
        self.proc = None

    def start(self):
        # The hidden seed travels in each job, never in the environment: the server forks its
        # zygote (and so every worker) from its own memory, which holds its initial environment.
        env = {name: value for name, value in os.environ.items() if name != HIDDEN_SEED_VARIABLE}
        env["OMP_NUM_THREADS"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.classroom.stdio_grader"], stdin=subprocess.PIPE,
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
    per_item = [item.seconds + float(rubric.limits.import_seconds) for item in rubric.items]
    return sum(per_item) + float(rubric.limits.import_seconds) + 60


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


def run_batch(submissions, out, jobs=None, force=False, rubric_path=None, progress=True, shard=None, manual=None):
    """Grade the class in ``submissions`` into ``out``; with ``shard`` (a shard.Shard), only its students;
    with ``manual`` (a TA's CSV, autograder/classroom/manual.py), merge its scores into grades.csv."""
    from tqdm import tqdm

    from autograder.hidden import warn_short_secret
    from autograder.reports.summary import write_class_summary

    rubric = load_rubric(rubric_path)
    if rubric.scaling_note():
        print(f"autograder: {rubric.scaling_note()}", file=sys.stderr)
    warn_short_secret(rubric.hidden_seed)
    out = Path(out)
    try:
        students, warnings = discover(submissions)
        previous = shards.claim_output(out, shard)
        seedplan.plan_for(rubric.hidden_seed, rubric, "grade", seedplan.load_reference)   # before any student
        ids = [student.id for student in students]
        manual_scores = read_manual_scores(manual, rubric, ids) if manual else kept_scores(out, rubric, ids)
    except (SubmissionsUnreadable, seedplan.SeedError, shards.ShardError, ManualScoresError) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    seed_warning = rubric.seed_warning()            # said only now: a refused batch above said one line
    for warning in ([seed_warning] if seed_warning else []) + warnings:
        print(f"autograder: warning: {warning}", file=sys.stderr)
    (out / "students").mkdir(parents=True, exist_ok=True)
    if manual:
        keep(manual_scores, out)            # merged again by every later run into this folder
    try:
        tier = sandbox.confinement_in_force()
    except sandbox.ConfinementFailed as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 3
    # Classmates' files and the grades are root's alone before any worker starts (own-uid tier).
    sandbox.hide_from_workers([submissions, out, rubric.path, seedplan.cache_dir(), *sandbox.kit_paths_to_hide()])
    jobs = max(1, jobs or os.cpu_count() or 1)
    sandbox.become_subreaper()

    rows = load_all_meta(out)               # every row keeps its values until its student is regraded
    if shard is not None:
        class_size = len(students)
        students = [student for student in students if shard.owns(student.id)]
        rows = {student: meta for student, meta in rows.items() if shard.owns(student)}
        identity = shards.grading_identity(rubric)
        if previous is not None and previous["kit"] != identity["kit"] and not force:
            print(f"autograder: the kit changed since shard {shard} was graded here "
                  f"({previous['kit']} -> {identity['kit']}); regrading all its students", file=sys.stderr)
            force = True
        print(f"shard {shard}: {len(students)} of the class's {class_size} students")

        def write_manifest(finished):
            shards.write_manifest(out, shards.manifest(shard, identity, set(rows) | {s.id for s in students},
                                                       finished))

        write_manifest(finished=False)      # the folder is marked as this shard before any student is written
    todo, refused = [], []
    seed_tag = shards.seed_fingerprint(rubric.hidden_seed)
    for student in students:
        digest, reason = content_hash(student, rubric.text, seed_tag)
        meta = rows.get(student.id)
        if not force and meta and meta.get("hash") == digest:
            continue
        if reason:
            refused.append((student, digest, reason))
        else:
            todo.append((student, digest))

    lock = threading.Lock()
    servers = queue.Queue()
    for _ in range(min(jobs, len(todo))):
        server = GradingServer()
        server.start()                     # torch loads in the servers while this process goes on
        servers.put(server)
    limit = student_limit(rubric)

    def write_csv():
        atomic_write_text(out / "grades.csv", grades_csv(rows, rubric, manual_scores))

    def record(student, digest, answer):
        meta = {"student": student.id, "hash": digest, "status": answer.get("status", "grader_failed"),
                "score": answer.get("score", 0.0), "items": answer.get("items", {}),
                "reason": printable(answer.get("reason", "")), "submission": printable(student.path),
                "confinement": answer.get("confinement", "")}
        if isinstance(answer.get("answers"), dict):       # for the by-question pages (reports/questions.py)
            meta["answers"] = answer["answers"]
        if meta["status"] not in STATUSES:
            meta["status"] = "grader_failed"
        if meta["status"] in ("ungradable", "grader_failed"):
            GradeResult.ungradable(rubric, meta["reason"]).write_gradescope(out / "students" / student.id / "results.json")
            for stale in ("report.txt", "report.html"):      # an earlier run's reports would contradict it
                (out / "students" / student.id / stale).unlink(missing_ok=True)
        atomic_write_text(out / "students" / student.id / "meta.json", json.dumps(meta, indent=2) + "\n")
        with lock:
            rows[student.id] = meta
            write_csv()

    def grade_one(student, digest):
        server = servers.get()
        try:
            answer = server.grade({"path": str(student.path), "out_dir": str(out / "students" / student.id),
                                   "rubric": str(rubric.path), "hidden_seed": rubric.hidden_seed}, limit)
        finally:
            servers.put(server)
            with lock:
                sandbox.reap_orphans(keep=live_servers())
        record(student, digest, answer)

    all_servers = list(servers.queue)

    def live_servers():
        return {s.proc.pid for s in all_servers if s.proc is not None and s.proc.poll() is None}

    write_csv()
    for student, digest, reason in refused:            # nothing to run: zeros and the reason, right away
        record(student, digest, {"status": "ungradable", "reason": reason})
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
    write_question_pages(rows, out)
    if shard is not None:
        write_manifest(finished=True)
    counts = {status: sum(1 for r in rows.values() if r["status"] == status) for status in STATUSES}
    graded = len(todo) + len(refused)
    print(f"graded {graded} of {len(students)} students in {time.monotonic() - started:.1f} s "
          f"({len(students) - graded} up to date, skipped)")
    print(f"status: {counts['graded']} graded, {counts['import_failed']} failed to import, "
          f"{counts['timed_out']} timed out, {counts['ungradable']} ungradable, "
          f"{counts['grader_failed']} grader failures")
    print(f"confinement: {tier.line()}")
    print(f"wrote {out / 'grades.csv'}, {out / 'summary.md'}, {out / 'summary.png'}, {out / 'students'}/ and "
          f"the by-question pages in {out / 'questions'}/")
    if shard is not None:
        print(f"wrote {out / shards.MANIFEST}: combine the shards with `autograder merge`")
    return 0
