"""Grade a whole class: ``autograder batch SUBMISSIONS --out DIR [--jobs N] [--force]``.

The run in three parts, each in its own module: who is graded (``roster``: the students of
SUBMISSIONS and the content hash of what each handed in), by whom (``pool``: grader processes, one
per job), and where it goes (``store``: DIR/students/ID/ and grades.csv, rewritten after every
student). A student whose submission and rubric are unchanged since the last run (same content
hash) is not graded again unless ``--force`` is given.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import sandbox, seedplan
from autograder.classroom import shard as shards
from autograder.classroom.manual import ManualScoresError, keep, kept_scores, read_manual_scores
from autograder.classroom.pool import GraderPool, student_limit
from autograder.classroom.roster import SubmissionsUnreadable, content_hash, discover
from autograder.classroom.store import STATUSES, ClassFolder, load_all_meta
from autograder.reports.questions import write_question_pages
from autograder.rubric import load_rubric


def students_to_grade(students, rows, rubric, force):
    """(todo, refused): every student whose content hash differs from their row's (all with ``force``),
    as (student, hash) to grade and as (student, hash, reason) for those that cannot be graded."""
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
    return todo, refused


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
    todo, refused = students_to_grade(students, rows, rubric, force)

    folder = ClassFolder(out, rubric, manual_scores, rows)
    pool = GraderPool(min(jobs, len(todo)), student_limit(rubric))

    def grade_one(student, digest):
        answer = pool.grade({"path": str(student.path), "out_dir": str(out / "students" / student.id),
                             "rubric": str(rubric.path), "hidden_seed": rubric.hidden_seed})
        folder.record(student, digest, answer)

    folder.write_csv()
    for student, digest, reason in refused:            # nothing to run: zeros and the reason, right away
        folder.record(student, digest, {"status": "ungradable", "reason": reason})
    if todo:
        import matplotlib  # noqa: F401  (for the class chart; loads now, while the graders start)
    started = time.monotonic()
    bar = tqdm(total=len(todo), unit="submission", file=sys.stderr, disable=not progress or not todo,
               desc="grading", dynamic_ncols=True)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            futures = [threads.submit(grade_one, *job) for job in todo]
            for future in futures:
                future.result()
                bar.update(1)
    finally:
        bar.close()
        pool.close()
        folder.write_csv()
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
