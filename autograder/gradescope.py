"""Gradescope: build the autograder zip, and the entry point that runs inside it.

The zip holds ``setup.sh`` and ``run_autograder`` at its root and the kit
beside them; Gradescope unpacks it to ``/autograder/source``. ``run_autograder``
grades ``/autograder/submission/`` and writes ``/autograder/results/results.json``
(always: an ungradable submission gets zeros and the reason). The root is
``$AUTOGRADER_ROOT`` (default ``/autograder``), so the same script runs in a
test against a temporary folder laid out the same way.
"""

import argparse
import os
import stat
import sys
import zipfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "solutions", "lessons")
TOP_FILES = ("pyproject.toml", "constraints.txt", "README.md")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built.
set -euo pipefail
cd /autograder/source
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
# The CPU build of torch (a plain install pulls CUDA, several GB), then the kit.
pip3 install --no-cache-dir torch==2.13.0 --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
pip3 install --no-cache-dir -c constraints.txt .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source"
exec "${AUTOGRADER_PYTHON:-python3}" -m autograder.gradescope run --root "$ROOT"
"""


def kit_files():
    """(path on disk, name in the zip) for every file of the kit the grader needs."""
    files = []
    for package in PACKAGES:
        for path in sorted((KIT_ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append((path, path.relative_to(KIT_ROOT).as_posix()))
    files += [(KIT_ROOT / name, name) for name in TOP_FILES if (KIT_ROOT / name).is_file()]
    return files


def _add(zf, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))       # fixed: the same kit, the same zip
    info.external_attr = (0o755 if executable else 0o644) << 16 | stat.S_IFREG << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(path, rubric_path=None):
    """Write the Gradescope autograder zip; a custom rubric replaces the kit's."""
    from autograder.rubric import load_rubric

    rubric_text = load_rubric(rubric_path).text                 # refuse a broken rubric before packing it
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        for source, name in kit_files():
            if name == "autograder/rubric.toml":
                _add(zf, name, rubric_text)
            else:
                _add(zf, name, source.read_bytes())
    return path


def run(root):
    """Grade ``root/submission`` and write ``root/results/results.json``; returns the exit status.

    The file graded is ``submission.find_submission_file``'s choice (the rule ``grade``
    and ``batch`` use). results.json is written whatever happens: zeros and the
    reason for a submission that cannot be graded, and for a grader failure too.
    """
    import traceback

    from autograder.batch import write_zero_results
    from autograder.engine import grade
    from autograder.report import text_report, write_results_json
    from autograder.rubric import load_rubric
    from autograder.submission import UngradablePath

    root = Path(root)
    results = root / "results" / "results.json"
    rubric = load_rubric()
    if os.geteuid() == 0:
        os.chmod(root / "source", 0o700)          # the unprivileged student user cannot read the kit
    try:
        result = grade(root / "submission", rubric=rubric)
    except UngradablePath as problem:
        write_zero_results(results.parent, rubric, f"Your submission could not be graded: {problem}")
        print(problem)
        return 0
    except Exception as bug:  # noqa: BLE001  (the student still gets a results.json; the log keeps the trace)
        write_zero_results(results.parent, rubric, "GRADER ERROR (not your fault, tell your instructor): "
                                                   f"{type(bug).__name__}")
        traceback.print_exc()
        return 1
    write_results_json(result, results)
    print(text_report(result))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json")
    runner.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    return run(args.root)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
