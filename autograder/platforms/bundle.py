"""What every platform bundle (Gradescope, PrairieLearn) carries, and how it runs.

A bundle is the grading kit (the grader, the reference, a rubric carrying the
hidden seed, the seed plans decided for it), ``requirements.txt`` and one
runner script. The platform image gets its dependencies from one script,
``autograder/platforms/install.sh``, which Gradescope's setup.sh, the PrairieLearn
bundle and the repository's Dockerfile all run: one install path. The kit is
never installed into a site-packages every user can read; the runner closes
its folder to all but root before any student code runs, and whatever
happens leaves a valid results.json (the shell writes a minimal one if Python
itself dies).
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from autograder import project
from autograder.rubric import with_hidden_seed

KIT_ROOT = project.KIT_ROOT
TOP_FILES = ("pyproject.toml", "constraints.txt")
INSTALL_SCRIPT = "autograder/platforms/install.sh"
SEED_DRAWS = 5                   # fresh seeds tried before giving up on a reference that fails them all
# What the grader imports at run time; install.sh installs these, and nothing of the kit.
RUNTIME_DEPENDENCIES = ("torch", "numpy", "matplotlib", "nbformat", "hypothesis", "tqdm", "tomli")
MARKER = ".autograder-release"

RUNNER = """#!/usr/bin/env bash
# {platform} runs this for every submission. Whatever happens it leaves a valid results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-{default_root}}}"
KIT={kit}
RESULTS="$ROOT/results/results.json"
# No `umask 077` here: the confined worker, as root, builds its root file system under this umask,
# and folders closed to its own uid would hide numpy and torch from it.
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
if [ "$(id -u)" = 0 ]; then
  # The reference, the rubric and the hidden seed are root's alone while student code runs.
  chown -R 0:0 "$KIT"
  chmod -R go-rwx "$KIT"
fi
cd "$KIT"
PYTHONPATH="$KIT" PYTHONDONTWRITEBYTECODE=1 "${{AUTOGRADER_PYTHON:-python3}}" -m autograder.platforms.{module} run --root "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then
  # Python died before writing anything: a minimal valid results.json, with no score to give away.
  printf '%s\\n' '{fallback}' | sed "s/STATUS/$status/" > "$RESULTS"
fi
exit 0
"""


def runner_script(platform, default_root, kit, module, fallback):
    """The platform's per-submission entry script; ``fallback`` is the JSON written if Python dies
    (``STATUS`` in it becomes Python's exit status)."""
    text = json.dumps(fallback)
    if "'" in text:
        raise ValueError("the fallback results.json may not hold a single quote")
    return RUNNER.format(platform=platform, default_root=default_root, kit=kit, module=module, fallback=text)


def kit_files():
    """(path on disk, name in the bundle) for every file of the kit the grader needs."""
    files = []
    for package in project.GRADING_PACKAGES:
        for path in sorted((KIT_ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append((path, path.relative_to(KIT_ROOT).as_posix()))
    files += [(KIT_ROOT / name, name) for name in TOP_FILES if (KIT_ROOT / name).is_file()]
    return files


def kit_contents(rubric_path, seed):
    """(name, bytes) for every file of a bundle's kit: the rubric carries ``seed``, the seed plans
    are decided for it, and ``requirements.txt`` lists what install.sh installs."""
    from autograder.rubric import load_rubric

    rubric_text = with_hidden_seed(load_rubric(rubric_path).text, seed)
    plans = bundle_plans(rubric_path, seed)
    contents = [("requirements.txt", requirements_text().encode())]
    for source_path, name in kit_files():
        if name == "autograder/rubric.toml":
            contents.append((name, rubric_text.encode()))
        elif name == "autograder/seed_plans.json":
            contents.append((name, plans.encode()))
        else:
            contents.append((name, source_path.read_bytes()))
    return contents


def resolve_seed(seed=None):
    """(seed, where it came from): --seed, else $AUTOGRADER_HIDDEN_SEED, else drawn fresh (128 bits).
    A given seed shorter than that is refused: a bundle's seed must not be searchable."""
    from autograder.hidden import fresh_secret, short_secret

    if seed is None and os.environ.get("AUTOGRADER_HIDDEN_SEED", "").strip():
        seed, source = os.environ["AUTOGRADER_HIDDEN_SEED"].strip(), "AUTOGRADER_HIDDEN_SEED"
    elif seed is None:
        return fresh_secret(), "drawn fresh (recorded only inside the bundle)"
    else:
        source = "--seed"
    try:
        value = int(str(seed).replace("_", ""))
    except ValueError:
        raise ValueError(f"the hidden seed from {source} must be a whole number, got {seed!r}") from None
    if value < 0:
        raise ValueError(f"the hidden seed from {source} must not be negative, got {value}")
    if short_secret(value):
        raise ValueError(f"refusing the hidden seed from {source}: {short_secret(value)}")
    return value, source


def requirements_text():
    """The runtime dependencies, as the ranges pyproject.toml declares (constraints.txt pins torch)."""
    wanted = project.dependencies(RUNTIME_DEPENDENCIES)
    return "# Installed by autograder/platforms/install.sh; the kit itself runs from the bundle's folder.\n" + \
        "\n".join(wanted) + "\n"


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


def bundle_plans(rubric_path, seed):
    """seed_plans.json for a bundle: the series its hidden seed grades on (and the public check's),
    decided here once, so no submission's run trains the reference to decide them."""
    from autograder import seedplan
    from autograder.rubric import load_rubric

    rubric = load_rubric(rubric_path, hidden_seed=seed)
    plans = {seedplan.plan_key(s, rubric, mode): seedplan.plan_for(s, rubric, mode, seedplan.load_reference)
             for s, mode in ((seed, "grade"), (rubric.public_seed, "check"))}
    return json.dumps(plans, indent=1, sort_keys=True) + "\n"


def fresh_folder(folder):
    """An empty ``folder``; an earlier release there is replaced, anything else is left alone."""
    folder = Path(folder)
    if folder.exists():
        if any(folder.iterdir()) and not (folder / MARKER).is_file():
            raise ValueError(f"{folder} exists and was not made by `autograder release`; choose another OUT")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by `autograder release`; the next release replaces this folder\n")


def scrub(text, rubric):
    """``text`` without the hidden seed's digits: a crash message is shown to the student."""
    seed = str(getattr(rubric, "hidden_seed", "") or "")
    return text.replace(seed, "<hidden seed>") if len(seed) >= 4 else text


def crash_summary(crash, rubric):
    """``Type: message`` of a grader crash, short, for a student to read: never the hidden seed."""
    return f"{type(crash).__name__}: {scrub(str(crash), rubric)[:300]}"


def runner_main(module, default_root, graded, run, argv=None):
    """``python -m autograder.platforms.MODULE run [--root ROOT]``: the command a platform's entry script runs.
    The root defaults to $AUTOGRADER_ROOT, else ``default_root``; ``graded`` names what is graded."""
    parser = argparse.ArgumentParser(prog=f"python -m autograder.platforms.{module}")
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help=f"grade ROOT/{graded} into ROOT/results/results.json")
    runner.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", default_root))
    args = parser.parse_args(argv)
    code = run(args.root)
    sys.stdout.flush()
    return code
