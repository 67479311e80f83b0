"""PrairieLearn: build the external-grader bundle, and the entry point that runs inside it.

``autograder release OUT`` (or ``autograder prairielearn OUT``) writes the
bundle: ``serverFilesCourse/seqmodel/`` (the grading kit, a rubric carrying
the hidden seed, ``requirements.txt`` and the entry script
``run_prairielearn``), ``info.json`` (the question's ``externalGradingOptions``)
and a README. The course copies ``seqmodel/`` into its ``serverFilesCourse``;
PrairieLearn copies it into the grading container as
``/grade/serverFilesCourse/seqmodel/``, the student's files into
``/grade/student/`` and reads ``/grade/results/results.json``.

What counts as "not gradable" (``gradable: false``: PrairieLearn records no
score and no penalty, the student submits again): nothing of the student's
code could be run. That is a submission with no gradable file (missing, a
link, not UTF-8, a malformed notebook: the reason is shown), and every
failure of the grader itself (a broken rubric or seed, confinement refused,
a crash, or Python dying: "not your fault"). Code that was run and failed
(a syntax error, an exception at import, a hang) is graded: it scores 0 on
what it lost, like anywhere else. The root is ``$AUTOGRADER_ROOT`` (default
``/grade``), so tests run the same script against a temporary folder.
"""

import json
import os
import sys
from pathlib import Path

from autograder.platforms.bundle import (INSTALL_SCRIPT, choose_seed, crash_summary, fresh_folder, kit_contents,
                                         runner_main, runner_script)

COURSE_FOLDER = "seqmodel"          # the bundle's folder inside the course's serverFilesCourse
ENTRY_SCRIPT = "run_prairielearn"
DEFAULT_IMAGE = "seqmodel-grader:latest"
ENTRYPOINT = f"/grade/serverFilesCourse/{COURSE_FOLDER}/{ENTRY_SCRIPT}"
NOT_YOUR_FAULT = ("This submission was not graded and costs you nothing; this is not your fault: "
                  "tell your instructor.")

RUN_PRAIRIELEARN = runner_script(
    "PrairieLearn (info.json's entrypoint)", "/grade", '"$(cd "$(dirname "$0")" && pwd)"', "prairielearn",
    {"gradable": False, "score": 0.0,
     "message": f"The grader could not run (exit status STATUS). {NOT_YOUR_FAULT}", "output": "", "tests": []})


def external_grading_options(rubric):
    """info.json's ``externalGradingOptions`` for a question graded by this bundle; the timeout is
    the rubric's ``[prairielearn] timeout_seconds``."""
    return {
        "enabled": True,
        "image": DEFAULT_IMAGE,
        "entrypoint": ENTRYPOINT,
        "serverFilesCourse": [f"{COURSE_FOLDER}/"],
        "timeout": int(rubric.prairielearn.timeout_seconds),
    }


def info_json(rubric):
    """The part of a question's info.json that turns on this external grader."""
    return {"gradingMethod": "External", "externalGradingOptions": external_grading_options(rubric)}


BUNDLE_README = """# PrairieLearn external grader for lesson 6.4.4

1. Copy `serverFilesCourse/{folder}/` into your course repository's
   `serverFilesCourse/` (keep the mode of `{entry}`: it is executable). The
   rubric in it carries the hidden seed: your course repository is staff-only,
   and PrairieLearn never serves `serverFilesCourse` to students.
2. Build the grading image from the kit's root with its `Dockerfile`
   (`docker build -t seqmodel-grader .`), push it where your PrairieLearn
   pulls images, and name it in `image` below.
3. In the question's `info.json`, add:

```json
{info}
```

   and let students upload `sequence_modeling.py` (or the notebook), e.g.
   `<pl-file-upload file-names="sequence_modeling.py"></pl-file-upload>`.

PrairieLearn's grader host gives each job's container the engine's default
powers (no `CAP_SYS_ADMIN`, the default seccomp profile). That is enough: the
grader then confines student code in its `own-uid` tier (a uid of its own,
the kit and seed made root's alone, Landlock where the kernel offers it,
seccomp), and the report's second line names the tier. Nothing needs granting.

PrairieLearn has no per-test visibility: every item, `beats_baseline`
included, is shown with its points once graded. `gradable` is false only
when nothing of the student's code could be run (no gradable file, or a
grader failure); a submission that fails to import scores 0.
"""


def build_bundle(out, rubric_path=None, seed=None, checked=False):
    """Write the PrairieLearn bundle into ``out``; returns (path, where the hidden seed came from).
    ``checked``: ``seed`` already came from ``choose_seed``."""
    from autograder.rubric import load_rubric

    rubric = load_rubric(rubric_path)                             # refuse a broken rubric before packing it
    seed, source = (seed, "--seed") if checked else choose_seed(seed, rubric_path)
    out = Path(out)
    fresh_folder(out)
    kit = out / "serverFilesCourse" / COURSE_FOLDER
    for name, data in kit_contents(rubric_path, seed):
        path = kit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (kit / ENTRY_SCRIPT).write_text(RUN_PRAIRIELEARN)
    for script in (kit / ENTRY_SCRIPT, kit / INSTALL_SCRIPT):
        script.chmod(0o755)
    snippet = json.dumps(info_json(rubric), indent=2)
    (out / "info.json").write_text(snippet + "\n")
    (out / "README.md").write_text(BUNDLE_README.format(folder=COURSE_FOLDER, entry=ENTRY_SCRIPT, info=snippet))
    return out, source


def run(root):
    """Grade ``root/student`` into ``root/results/results.json``; returns the exit status (0).

    The file graded is ``submitted_file.find_submission_file``'s choice (the rule of
    ``grade``, ``batch`` and Gradescope). Every failure ends in a valid results.json.
    """
    import traceback

    from autograder.files import atomic_write_text
    from autograder.reports.results import GradeResult

    root = Path(root)
    results = root / "results" / "results.json"
    rubric = None
    try:
        from autograder.engine import grade
        from autograder.rubric import load_rubric
        from autograder.safe_text import one_line
        from autograder.submitted_file import UngradablePath

        kit = Path(__file__).resolve().parent.parent
        if os.geteuid() == 0 and root.resolve() in kit.parents:
            os.chmod(kit, 0o700)                  # the entry script did it; a direct call in the bundle does too
        rubric = load_rubric()
        try:
            result = grade(root / "student", rubric=rubric)
        except UngradablePath as problem:
            data = GradeResult.ungradable(rubric, f"Your submission could not be graded: {one_line(problem)}. "
                                                  "It was not counted: fix it and submit again.").to_prairielearn()
            print(problem)
        else:
            data = result.to_prairielearn()
            print(result.text())
    except BaseException as crash:  # noqa: BLE001  (whatever broke, the student gets a result and a reason)
        traceback.print_exc(file=sys.stdout)      # the job's log, for staff
        data = GradeResult.ungradable(rubric, f"The grader failed ({crash_summary(crash, rubric)}). "
                                              f"{NOT_YOUR_FAULT}").to_prairielearn()
    atomic_write_text(results, json.dumps(data, indent=2, allow_nan=False) + "\n")
    return 0


def main(argv=None):
    return runner_main("prairielearn", "/grade", "student", run, argv)


if __name__ == "__main__":
    os._exit(main())
