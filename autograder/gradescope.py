"""Gradescope: build the autograder zip, and the entry point that runs inside it.

The zip holds ``setup.sh`` and ``run_autograder`` at its root and the grading
kit beside them (the grader, the reference, and a rubric carrying the hidden
seed); Gradescope unpacks it to ``/autograder/source``. ``setup.sh`` installs
only the dependencies: the kit is never installed into a world-readable
site-packages, it runs from ``/autograder/source``, which ``run_autograder``
closes to everyone but root (folders 0700, files 0600) before any student code
runs. ``run_autograder`` grades ``/autograder/submission/`` and always leaves a
valid ``/autograder/results/results.json``: an ungradable submission or a
grader crash gets zeros and the reason, and if Python itself cannot run, the
shell writes a minimal one. The root is ``$AUTOGRADER_ROOT`` (default
``/autograder``), so the same script runs in a test against a temporary folder
laid out the same way.
"""

import argparse
import os
import re
import secrets
import stat
import sys
import traceback
import zipfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "solutions")
TOP_FILES = ("pyproject.toml", "constraints.txt")
# What the grader imports at run time; setup.sh installs these, and nothing of the kit.
SEED_DRAWS = 5                   # fresh seeds tried before giving up on a reference that fails them all
RUNTIME_DEPENDENCIES = ("torch", "numpy", "matplotlib", "nbformat", "hypothesis", "tqdm", "tomli")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Only the dependencies are installed. The kit (the reference, the rubric and
# the hidden seed) stays in /autograder/source, never in a site-packages that
# every user can read; run_autograder closes it to all but root.
set -euo pipefail
cd /autograder/source
apt-get update -qq && apt-get install -y -qq python3 python3-pip >/dev/null
export PIP_BREAK_SYSTEM_PACKAGES=1     # newer Ubuntu images mark the system Python as externally managed
# The CPU build of torch (a plain install pulls CUDA, several GB), then the rest, as ranges.
pip3 install --no-cache-dir torch==2.13.0 --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
pip3 install --no-cache-dir -c constraints.txt -r requirements.txt
chmod -R go-rwx /autograder/source     # closed from the start; run_autograder closes it again before grading
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. Whatever happens it leaves a valid results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results/results.json"
umask 077
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
if [ "$(id -u)" = 0 ]; then
  # The reference, the rubric and the hidden seed are root's alone while student code runs.
  chown -R 0:0 "$SOURCE"
  chmod -R go-rwx "$SOURCE"
fi
cd "$SOURCE"
PYTHONPATH="$SOURCE" PYTHONDONTWRITEBYTECODE=1 "${AUTOGRADER_PYTHON:-python3}" -m autograder.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then
  # Python died before writing anything: a minimal valid results.json, with no score to give away.
  printf '{"score": 0.0, "output": "The autograder could not run (exit status %s). This is not your fault: tell your instructor.", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}\\n' "$status" > "$RESULTS"
fi
exit 0
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


def resolve_seed(seed=None):
    """(seed, where it came from): --seed, else $AUTOGRADER_HIDDEN_SEED, else drawn fresh with ``secrets``."""
    if seed is None and os.environ.get("AUTOGRADER_HIDDEN_SEED", "").strip():
        seed, source = os.environ["AUTOGRADER_HIDDEN_SEED"].strip(), "AUTOGRADER_HIDDEN_SEED"
    elif seed is None:
        return secrets.randbelow(2**62) + 1, "drawn fresh (recorded only inside the zip)"
    else:
        source = "--seed"
    try:
        value = int(str(seed).replace("_", ""))
    except ValueError:
        raise ValueError(f"the hidden seed from {source} must be a whole number, got {seed!r}") from None
    if value < 0:
        raise ValueError(f"the hidden seed from {source} must not be negative, got {value}")
    return value, source


def rubric_with_seed(text, seed):
    """The rubric's text with ``[data] hidden_seed`` set to ``seed`` (added when absent)."""
    from autograder.rubric import tomllib

    line = f"hidden_seed = {seed}"
    pattern = re.compile(r"^[ \t]*hidden_seed[ \t]*=.*$", re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(line, text, count=1)
    elif re.search(r"^\[data\][ \t]*$", text, re.MULTILINE):
        text = re.sub(r"^\[data\][ \t]*$", "[data]\n" + line, text, count=1, flags=re.MULTILINE)
    else:
        text = text.rstrip("\n") + f"\n\n[data]\n{line}\n"
    if tomllib.loads(text).get("data", {}).get("hidden_seed") != seed:
        raise ValueError("cannot set the hidden seed in this rubric: write it as a `hidden_seed = N` line under [data]")
    return text


def requirements_text():
    """The runtime dependencies, as the ranges pyproject.toml declares (constraints.txt pins torch)."""
    from autograder.rubric import tomllib

    declared = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    name = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
    wanted = [d for d in declared if name.match(d).group(1).lower() in RUNTIME_DEPENDENCIES]
    return "# Installed by setup.sh; the kit itself runs from /autograder/source.\n" + "\n".join(wanted) + "\n"


def reference_losses(seed, rubric_path=None):
    """What the reference loses when graded with ``seed``: a seed on which it loses points
    would grade every student against a broken check."""
    from autograder.engine import grade
    from autograder.rubric import load_rubric

    rubric = load_rubric(rubric_path)
    rubric.hidden_seed = seed
    result = grade(KIT_ROOT / "solutions" / "sequence_modeling.py", rubric=rubric)
    return [f"{item.id}: {item.feedback}" for item in result.items if not item.passed]


def choose_seed(seed=None, rubric_path=None):
    """(seed, where it came from), after grading the reference with it: a fresh seed the
    reference loses points on is redrawn, a given one is refused (ValueError)."""
    seed, source = resolve_seed(seed)
    for _ in range(SEED_DRAWS):
        losses = reference_losses(seed, rubric_path)
        if not losses or not source.startswith("drawn"):
            break
        seed = resolve_seed()[0]
    if losses:
        raise ValueError(f"with the hidden seed from {source} the reference itself loses points, so students "
                         f"would be graded against a broken check: {losses[0][:300]}")
    return seed, source


def build_zip(path, rubric_path=None, seed=None, checked=False):
    """Write the Gradescope autograder zip; returns (path, where the hidden seed came from).

    A custom rubric replaces the kit's; the hidden seed is written into the
    zip's rubric and nowhere else (no file of the kit holds it). ``checked``:
    ``seed`` already came from ``choose_seed``.
    """
    from autograder.rubric import load_rubric

    rubric_text = load_rubric(rubric_path).text                 # refuse a broken rubric before packing it
    seed, source = (seed, "--seed") if checked else choose_seed(seed, rubric_path)
    rubric_text = rubric_with_seed(rubric_text, seed)
    plans = bundle_plans(rubric_path, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(zf, "requirements.txt", requirements_text())
        for source_path, name in kit_files():
            if name == "autograder/rubric.toml":
                _add(zf, name, rubric_text)
            elif name == "autograder/seed_plans.json":
                _add(zf, name, plans)
            else:
                _add(zf, name, source_path.read_bytes())
    return path, source


def bundle_plans(rubric_path, seed):
    """seed_plans.json for the zip: the series its hidden seed grades on (and the public check's),
    decided here once, so no submission's run trains the reference to decide them."""
    import json

    from autograder import seedplan
    from autograder.rubric import load_rubric

    rubric = load_rubric(rubric_path, hidden_seed=seed)
    plans = {seedplan.plan_key(s, rubric, mode): seedplan.plan_for(s, rubric, mode, seedplan.load_reference)
             for s, mode in ((seed, "grade"), (rubric.public_seed, "check"))}
    return json.dumps(plans, indent=1, sort_keys=True) + "\n"


def zero_results(rubric, reason):
    """results.json for a submission the grader could not finish: zeros, the reason, no total to read."""
    items = rubric.items if rubric is not None else []
    tests = [{"name": item.name, "number": str(i), "score": 0.0, "max_score": item.points, "status": "failed",
              "output": reason, "output_format": "text", "visibility": item.visibility, "tags": [item.id]}
             for i, item in enumerate(items, start=1)]
    from autograder.report import top_level_visibility

    data = {"score": 0.0, "execution_time": 0.0, "output": reason, "output_format": "text",
            "visibility": top_level_visibility(item.visibility for item in items),
            "stdout_visibility": "hidden", "tests": tests}
    if rubric is not None:
        data["max_score"] = rubric.max_score
    return data


def run(root):
    """Grade ``root/submission`` and write ``root/results/results.json``; returns the exit status.

    The file graded is ``submission.find_submission_file``'s choice (the rule ``grade``
    and ``batch`` use). Every failure ends in a valid results.json: an ungradable
    submission with its reason, a grader crash with zeros and "not your fault".
    """
    import json
    import traceback

    from autograder.files import atomic_write_text

    root = Path(root)
    results = root / "results" / "results.json"
    rubric = None
    try:
        from autograder.engine import grade
        from autograder.report import text_report, write_results_json
        from autograder.rubric import load_rubric
        from autograder.submission import UngradablePath

        if os.geteuid() == 0:
            os.chmod(root / "source", 0o700)      # run_autograder did this already; a direct call does it too
        rubric = load_rubric()
        try:
            result = grade(root / "submission", rubric=rubric)
        except UngradablePath as problem:
            atomic_write_text(results, json.dumps(zero_results(rubric, f"Your submission could not be graded: "
                                                                      f"{problem}"), indent=2) + "\n")
            print(problem)
            return 0
        write_results_json(result, results)
        print(text_report(result))
    except BaseException as crash:  # noqa: BLE001  (whatever broke, the student gets a result and a reason)
        traceback.print_exc(file=sys.stdout)      # stdout is hidden from students
        reason = (f"The autograder failed while grading ({type(crash).__name__}: {str(crash)[:300]}). "
                  "This is not your fault: tell your instructor.")
        atomic_write_text(results, json.dumps(zero_results(rubric, reason), indent=2) + "\n")
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
