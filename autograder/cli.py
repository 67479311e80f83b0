"""The ``autograder`` command: one subcommand per job, each in its own module.

    autograder grade PATH [--json OUT]   grade a submission (instructors, TAs, platforms)
    autograder check [PATH] [--only ID]  the student's quick self-check on public data
    autograder assign                    regenerate lessons/ from solutions/ (and rubric.toml's defaults comment)
    autograder batch DIR --out OUT       grade a whole class (or, with --shard K/N, one machine's share)
    autograder merge OUT1 OUT2 ... --out MERGED   combine the shards' outputs into one class
    autograder gradescope ZIP            build the Gradescope autograder zip
    autograder prairielearn OUT          build the PrairieLearn external-grader bundle
    autograder release OUT               the student hand-out (no answer key) and both platform bundles

In the student hand-out (see autograder/handout/release.py) only ``check`` exists.
"""

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_UNGRADABLE, EXIT_UNSAFE = 0, 2, 3


LESSON_FILE = "sequence_modeling.py"


def default_check_path(start=None):
    """What ``autograder check`` with no PATH checks: ``sequence_modeling.py`` in this folder (inside
    ``lessons/``), else ``lessons/sequence_modeling.py`` here or in the nearest folder above (from
    anywhere in the hand-out). Shown relative to ``start``; None when there is none."""
    start = Path(start or Path.cwd()).absolute()
    candidates = [start / LESSON_FILE] + [folder / "lessons" / LESSON_FILE for folder in (start, *start.parents)]
    found = next((path for path in candidates if path.is_file()), None)
    return None if found is None else Path(os.path.relpath(found, start))


def _grade_one(args, mode):
    from autograder.engine import grade
    from autograder.hidden import warn_short_secret
    from autograder.rubric import RubricError, load_rubric
    from autograder.safe_text import one_line
    from autograder.sandbox import ConfinementFailed
    from autograder.seedplan import SeedError
    from autograder.submitted_file import UngradablePath

    if args.path is None:
        args.path = default_check_path()
        if args.path is None:
            print(f"autograder: no {LESSON_FILE} here and no lessons/{LESSON_FILE} here or in a folder above; "
                  "name the file: autograder check PATH", file=sys.stderr)
            return EXIT_UNGRADABLE
    try:
        rubric = load_rubric(args.rubric)
        if rubric.scaling_note():
            print(f"autograder: {rubric.scaling_note()}", file=sys.stderr)
        if mode == "grade":
            warn_short_secret(rubric.hidden_seed)
        only = getattr(args, "only", None)
        unknown = [item for item in only or () if item not in {i.id for i in rubric.items}]
        if unknown:
            raise RubricError(f"no item named {unknown[0]!r}; the items are {', '.join(i.id for i in rubric.items)}")
        result = grade(args.path, mode=mode, rubric=rubric, only=only, progress=_progress_printer(mode))
    except (UngradablePath, RubricError, SeedError) as problem:
        print(f"autograder: {one_line(problem)}", file=sys.stderr)
        return EXIT_UNGRADABLE
    except ConfinementFailed as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return EXIT_UNSAFE
    if mode == "grade" and rubric.seed_warning():          # said once grading ran: a refusal stays one line
        print(f"autograder: warning: {rubric.seed_warning()}", file=sys.stderr)
    sys.stdout.write(result.text())
    if args.json:
        result.write_gradescope(args.json)
    if getattr(args, "html", None):
        from autograder.files import atomic_write_text
        atomic_write_text(args.html, result.html())
    return EXIT_OK


def _progress_printer(mode):
    """Item-by-item progress on stderr: always for the self-check, for ``grade`` in a terminal
    (platforms and batches capture stderr, and want it empty when all went well)."""
    if mode != "check" and not sys.stderr.isatty():
        return None
    def show(number, total, item):
        print(item.progress_line(number, total), file=sys.stderr, flush=True)
    return show


def cmd_grade(args):
    return _grade_one(args, "grade")


def cmd_check(args):
    return _grade_one(args, "check")


def cmd_assign(args):
    from autograder.assign import write_generated_files

    for path in write_generated_files():
        print(f"wrote {path}")
    return EXIT_OK


def cmd_batch(args):
    from autograder.classroom.shard import ShardError, parse_shard

    shard = None
    if args.shard is not None:
        try:
            shard = parse_shard(args.shard)
        except ShardError as problem:
            print(f"autograder: {problem}", file=sys.stderr)
            return EXIT_UNGRADABLE
    from autograder.classroom.batch import run_batch
    return run_batch(args.submissions, args.out, jobs=args.jobs, force=args.force, rubric_path=args.rubric,
                     shard=shard, manual=args.manual)


def cmd_merge(args):
    from autograder.classroom.merge import MergeRefused, merge_shards
    from autograder.rubric import RubricError, load_rubric

    try:
        merged = merge_shards(args.shards, args.out, load_rubric(args.rubric), allow_partial=args.allow_partial)
    except (MergeRefused, RubricError) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return EXIT_UNGRADABLE
    for warning in merged.warnings:
        print(f"autograder: warning: {warning}", file=sys.stderr)
    print(f"merged {len(merged.shards)} of {merged.n} shards ({merged.students} students) into {merged.out}")
    return EXIT_OK


def _build_bundle(build, target, args):
    """Build a platform bundle at ``target``; a broken rubric or seed is a one-line error."""
    from autograder.rubric import RubricError

    try:
        path, seed_source = build(target, rubric_path=args.rubric, seed=args.seed)
    except (RubricError, ValueError) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return EXIT_UNGRADABLE
    print(f"wrote {path} (hidden seed: {seed_source})")
    return EXIT_OK


def cmd_gradescope(args):
    from autograder.platforms.gradescope import build_zip
    return _build_bundle(build_zip, args.zip, args)


def cmd_prairielearn(args):
    from autograder.platforms.prairielearn import build_bundle
    return _build_bundle(build_bundle, args.out, args)


def cmd_release(args):
    from autograder.handout.release import ReleaseError, release
    from autograder.rubric import RubricError

    try:
        lines = release(args.out, seed=args.seed, rubric_path=args.rubric)
    except (ReleaseError, RubricError, ValueError) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return EXIT_UNGRADABLE
    print("\n".join(lines))
    return EXIT_OK


def build_parser():
    parser = argparse.ArgumentParser(prog="autograder", description="Lesson 6.4.4 autograder")
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one submission (.py, .ipynb or a folder)")
    grade.add_argument("path")
    grade.add_argument("--json", metavar="OUT", help="write Gradescope's results.json here")
    grade.add_argument("--html", metavar="OUT", help="write a self-contained HTML feedback report here")
    grade.add_argument("--rubric", metavar="TOML", help="a rubric other than the kit's")
    grade.set_defaults(func=cmd_grade)

    check = _check_parser(sub)
    check.add_argument("--rubric", metavar="TOML")

    assign = sub.add_parser("assign", help="regenerate the student stubs and notebook from solutions/, and rubric.toml's comment of defaults")
    assign.set_defaults(func=cmd_assign)

    batch = sub.add_parser("batch", help="grade a folder of submissions")
    batch.add_argument("submissions")
    batch.add_argument("--out", required=True)
    batch.add_argument("--jobs", type=int, default=None)
    batch.add_argument("--force", action="store_true", help="regrade students already graded")
    batch.add_argument("--rubric", metavar="TOML")
    batch.add_argument("--shard", metavar="K/N", help="grade only shard K of N (one task of a job array)")
    batch.add_argument("--manual", metavar="CSV", help="merge a TA's scores for the items graded by hand "
                       "(columns: student, reasoning) into grades.csv")
    batch.set_defaults(func=cmd_batch)

    merge = sub.add_parser("merge", help="combine the outputs of `batch --shard K/N` into one class")
    merge.add_argument("shards", nargs="+", metavar="OUT", help="a shard's --out folder")
    merge.add_argument("--out", required=True, help="the merged class's folder")
    merge.add_argument("--rubric", metavar="TOML", help="the rubric the shards were graded with")
    merge.add_argument("--allow-partial", action="store_true",
                       help="merge even with shards missing or unfinished (each gap is a warning)")
    merge.set_defaults(func=cmd_merge)

    gradescope = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    gradescope.add_argument("zip")
    gradescope.add_argument("--rubric", metavar="TOML")
    gradescope.add_argument("--seed", help="the hidden seed (default: $AUTOGRADER_HIDDEN_SEED, else drawn fresh)")
    gradescope.set_defaults(func=cmd_gradescope)

    prairielearn = sub.add_parser("prairielearn", help="build the PrairieLearn external-grader bundle in OUT")
    prairielearn.add_argument("out")
    prairielearn.add_argument("--rubric", metavar="TOML")
    prairielearn.add_argument("--seed", help="the hidden seed (default: $AUTOGRADER_HIDDEN_SEED, else drawn fresh)")
    prairielearn.set_defaults(func=cmd_prairielearn)

    release = sub.add_parser("release", help="write OUT/student (the hand-out, no answer key), OUT/gradescope.zip "
                                             "and OUT/prairielearn/")
    release.add_argument("out")
    release.add_argument("--seed", help="the hidden seed (default: $AUTOGRADER_HIDDEN_SEED, else drawn fresh)")
    release.add_argument("--rubric", metavar="TOML")
    release.set_defaults(func=cmd_release)
    return parser


def build_student_parser():
    """The hand-out's command: ``autograder check [PATH]`` and nothing else."""
    parser = argparse.ArgumentParser(prog="autograder", description="Lesson 6.4.4 self-check on public data")
    sub = parser.add_subparsers(dest="command", required=True)
    _check_parser(sub).set_defaults(rubric=None)
    return parser


def _check_parser(sub):
    """``check [PATH] [--json OUT] [--only ID...]``: the same in the kit and in the hand-out."""
    check = sub.add_parser("check", help="quick self-check on public data")
    check.add_argument("path", nargs="?", default=None,
                       help=f"default: {LESSON_FILE} here, else lessons/{LESSON_FILE} here or in a folder above")
    check.add_argument("--json", metavar="OUT")
    check.add_argument("--only", metavar="ITEM", nargs="+", help="check only these items (ids as in the report)")
    check.set_defaults(func=cmd_check)
    return check


def main(argv=None):
    from autograder.handout.oracle import is_release

    argv = sys.argv[1:] if argv is None else list(argv)
    if is_release():
        if argv and argv[0] in ("grade", "assign", "batch", "gradescope", "release"):
            print(f"autograder: `autograder {argv[0]}` is not part of the student self-check; "
                  "use `autograder check [PATH]`", file=sys.stderr)
            return EXIT_UNGRADABLE
        args = build_student_parser().parse_args(argv)
    else:
        args = build_parser().parse_args(argv)
    return args.func(args)


def run():
    """The console entry point: ``main``, then an immediate exit.

    With torch and its compiler stack loaded, interpreter teardown takes about
    a second and does nothing useful: every file is written and closed by now.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
