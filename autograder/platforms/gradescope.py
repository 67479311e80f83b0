"""Gradescope: build the autograder zip, and the entry point that runs inside it.

The zip holds ``setup.sh`` and ``run_autograder`` at its root and the grading
kit beside them (the grader, the reference, and a rubric carrying the hidden
seed); Gradescope unpacks it to ``/autograder/source``. ``setup.sh`` installs
only the dependencies, with the kit's one install script (autograder/platforms/install.sh,
shared with PrairieLearn's image and the Dockerfile): the kit is never installed into a world-readable
site-packages, it runs from ``/autograder/source``, which ``run_autograder``
closes to everyone but root (folders 0700, files 0600) before any student code
runs. ``run_autograder`` grades ``/autograder/submission/`` and always leaves a
valid ``/autograder/results/results.json``: an ungradable submission or a
grader crash gets zeros and the reason, and if Python itself cannot run, the
shell writes a minimal one. The root is ``$AUTOGRADER_ROOT`` (default
``/autograder``), so the same script runs in a test against a temporary folder
laid out the same way.
"""

import os
import stat
import sys
import zipfile
from pathlib import Path

from autograder.platforms.bundle import (INSTALL_SCRIPT, choose_seed, crash_summary, kit_contents, runner_main,
                                         runner_script)

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Only the dependencies are installed, by the kit's one install script (the
# Dockerfile and the PrairieLearn image use it too). The kit (the reference,
# the rubric and the hidden seed) stays in /autograder/source, never in a
# site-packages that every user can read; run_autograder closes it to all but root.
set -euo pipefail
cd /autograder/source
bash {INSTALL_SCRIPT} /autograder/source
chmod -R go-rwx /autograder/source     # closed from the start; run_autograder closes it again before grading
"""

RUN_AUTOGRADER = runner_script(
    "Gradescope", "/autograder", '"$ROOT/source"', "gradescope",
    {"score": 0.0, "output": "The autograder could not run (exit status STATUS). This is not your fault: "
                             "tell your instructor.",
     "visibility": "visible", "stdout_visibility": "hidden", "tests": []})


def _add(zf, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))       # fixed: the same kit, the same zip
    info.external_attr = (0o755 if executable else 0o644) << 16 | stat.S_IFREG << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(path, rubric_path=None, seed=None, checked=False):
    """Write the Gradescope autograder zip; returns (path, where the hidden seed came from).

    A custom rubric replaces the kit's; the hidden seed is written into the
    zip's rubric and nowhere else (no file of the kit holds it). ``checked``:
    ``seed`` already came from ``choose_seed``.
    """
    from autograder.rubric import load_rubric

    load_rubric(rubric_path)                                      # refuse a broken rubric before packing it
    seed, source = (seed, "--seed") if checked else choose_seed(seed, rubric_path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        for name, data in kit_contents(rubric_path, seed):
            _add(zf, name, data, executable=name.endswith(".sh"))
    return path, source


def run(root):
    """Grade ``root/submission`` and write ``root/results/results.json``; returns the exit status.

    The file graded is ``submitted_file.find_submission_file``'s choice (the rule ``grade``
    and ``batch`` use). Every failure ends in a valid results.json: an ungradable
    submission with its reason, a grader crash with zeros and "not your fault".
    """
    import traceback

    from autograder.reports.results import GradeResult

    root = Path(root)
    results = root / "results" / "results.json"
    rubric = None
    try:
        from autograder.engine import grade
        from autograder.rubric import load_rubric
        from autograder.submitted_file import UngradablePath

        if os.geteuid() == 0:
            os.chmod(root / "source", 0o700)      # run_autograder did this already; a direct call does it too
        rubric = load_rubric()
        try:
            result = grade(root / "submission", rubric=rubric)
        except UngradablePath as problem:
            GradeResult.ungradable(rubric, f"Your submission could not be graded: {problem}").write_gradescope(results)
            print(problem)
            return 0
        result.write_gradescope(results)
        print(result.text())
    except BaseException as crash:  # noqa: BLE001  (whatever broke, the student gets a result and a reason)
        traceback.print_exc(file=sys.stdout)      # stdout is hidden from students
        reason = (f"The autograder failed while grading ({crash_summary(crash, rubric)}). "
                  "This is not your fault: tell your instructor.")
        GradeResult.ungradable(rubric, reason).write_gradescope(results)
    return 0


def main(argv=None):
    return runner_main("gradescope", "/autograder", "submission", run, argv)


if __name__ == "__main__":
    os._exit(main())
