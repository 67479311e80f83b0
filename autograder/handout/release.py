"""``autograder release OUT``: what students get, and the Gradescope bundle that grades them.

``OUT/student/`` is the hand-out: the stubs and notebook (made by
autograder.assign), the lesson guide, and a self-check package that installs
with one ``pip install`` and provides ``autograder check [PATH]``. It holds no
reference: checks consult a ``ReplayOracle`` (autograder.handout.oracle) whose
answers are recorded here, now, by grading the reference in check mode on the
public seed through a ``RecordingOracle``. It holds no hidden seed either (the
shipped rubric has none) and only the grader modules the check imports.

``OUT/gradescope.zip`` is autograder.platforms.gradescope's bundle and ``OUT/prairielearn/``
autograder.platforms.prairielearn's, both with the one hidden seed from ``--seed``,
``$AUTOGRADER_HIDDEN_SEED`` or drawn fresh.
"""

import json
import shutil
from pathlib import Path

from autograder import assign, project, seedplan
from autograder.platforms import bundle, gradescope, prairielearn
from autograder.rubric import load_rubric, with_hidden_seed

KIT_ROOT = project.KIT_ROOT
# The grader modules ``autograder check`` imports, and nothing else (no assign, batch, gradescope...).
SELF_CHECK_MODULES = ("__init__.py", "__main__.py", "cli.py", "engine.py", "submission.py",
                      "submitted_file.py", "notebook_reader.py", "rubric.py", "files.py", "hidden.py",
                      "handout/__init__.py", "handout/oracle.py", "seedplan.py", "reference_pipeline.py",
                      "safe_text.py", "notebook.py", "handout/notebook.py",
                      "reports/__init__.py", "reports/results.py", "reports/terminal.py",
                      "reports/diagnosis.py")      # the plot's answer is judged on the diagnosis's patterns
# Its subpackages, every module of each.
SELF_CHECK_PACKAGES = ("items", "sandbox")
# The hand-out's dependencies, as the kit's pyproject.toml declares their ranges: what the self-check
# imports, and what the notebook's lab cell and the guide use (matplotlib draws the lab's plot).
SELF_CHECK_DEPENDENCIES = ("torch", "numpy", "matplotlib", "nbformat", "hypothesis", "tomli")
# grad_clipping reruns the reference for as many epochs as the student's loop took
# optimizer steps; the self-check knows the answers for loops of 1 to 20 steps.
RECORDED_VARIANTS = {"train_model": ("epochs", range(1, 21))}
RECORDING_SECONDS = 600          # per item while recording: the recording runs extra reference trainings

STUDENT_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqmodel-selfcheck"
version = "{version}"
description = "Lesson 6.4.4 Sequence Modeling in Practice: the student self-check (autograder check)"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
{dependencies}
]

[project.scripts]
autograder = "autograder.cli:run"

[tool.setuptools]
packages = ["autograder", "autograder.handout", "autograder.items", "autograder.reports", "autograder.sandbox"]

[tool.setuptools.package-data]
autograder = ["rubric.toml", "check_answers.json.gz", "seed_plans.json"]
"""

STUDENT_README = """# Lesson 6.4.4: Sequence Modeling in Practice (student hand-out)

| file | what it is |
|---|---|
| `lessons/sequence_modeling.py` | the functions to complete |
| `lessons/sequence_modeling.ipynb` | the same functions as a notebook |
| `lessons/README.md` | the lesson guide |
| `pyproject.toml`, `autograder/` | the self-check: `autograder check` |

## Install the self-check (once)

From this folder, in a fresh virtual environment (Python 3.10 or newer):

```sh
python3 -m venv .venv && . .venv/bin/activate && pip install -c constraints.txt .
```

`constraints.txt` pins PyTorch 2.13.0. If your machine does not already offer
its CPU build, add `--extra-index-url https://download.pytorch.org/whl/cpu` to
the `pip install` so pip does not download the several-GB CUDA build.

## Check your work

```sh
autograder check                                  # lessons/sequence_modeling.py, from any folder here
autograder check lessons/sequence_modeling.ipynb  # or the notebook
```

In Jupyter or Colab, run the notebook's "Check your work so far" cells
(`from autograder.notebook import check; check()`): they check the code the
kernel ran, no saved file needed. Install this folder into the kernel's
environment first: in Jupyter, `%pip install ..` in a notebook cell (the notebook
sits in `lessons/`, this folder is its parent); in Colab, upload
this folder as a zip and run `!unzip -q student.zip && pip install -q ./student`.

Every item gets one line of feedback on public data, in seconds. The
self-check compares your results with answers recorded from the lesson's
reference on that public data; your grade uses series you have not seen, so
aim for code that is right in general. Hand in `sequence_modeling.py` or the
notebook as your course says.
"""


class ReleaseError(Exception):
    """The release cannot be built; the message names the problem."""


def strip_hidden_seed(rubric_text):
    """The rubric as students may see it: no ``hidden_seed`` line (their check uses public_seed only)."""
    try:
        return with_hidden_seed(rubric_text, None)
    except ValueError as problem:
        raise ReleaseError(str(problem)) from None


def _dependencies():
    return project.dependencies(SELF_CHECK_DEPENDENCIES)


def _fresh_folder(folder):
    """An empty ``folder``; an earlier release there is replaced, anything else is left alone."""
    try:
        bundle.fresh_folder(folder)
    except ValueError as problem:
        raise ReleaseError(str(problem)) from None


def record_answers(rubric, answers_path):
    """Grade the reference in check mode through a RecordingOracle; save what it answered."""
    from autograder.engine import grade
    from autograder.handout.oracle import RecordingOracle

    import solutions.sequence_modeling as reference

    recording_rubric = load_rubric(rubric.path)
    for item in recording_rubric.items:
        item.seconds = max(item.seconds, RECORDING_SECONDS)
    oracle = RecordingOracle(reference, variants=RECORDED_VARIANTS)
    result = grade(KIT_ROOT / "solutions" / "sequence_modeling.py", mode="check", rubric=recording_rubric,
                   oracle=oracle)
    failed = [f"{item.id}: {item.feedback}" for item in result.items if not item.passed]
    if failed:
        raise ReleaseError("the reference does not pass its own self-check, so no answers were recorded: " +
                           "; ".join(failed))
    oracle.save(answers_path)
    return len(oracle.table["calls"])


def build_student(out, rubric):
    """Write OUT/student; returns the number of recorded reference answers."""
    student = out / "student"
    _fresh_folder(student)
    lessons = student / "lessons"
    lessons.mkdir()
    for path, text in assign.student_files().items():
        (lessons / path.name).write_text(text)
    shutil.copyfile(KIT_ROOT / "lessons" / "README.md", lessons / "README.md")

    package = student / "autograder"
    package.mkdir()
    for name in SELF_CHECK_MODULES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KIT_ROOT / "autograder" / name, package / name)
    for subpackage in SELF_CHECK_PACKAGES:
        (package / subpackage).mkdir()
        for path in sorted((KIT_ROOT / "autograder" / subpackage).glob("*.py")):
            shutil.copyfile(path, package / subpackage / path.name)
    (package / "rubric.toml").write_text(strip_hidden_seed(rubric.text))
    # Which public series the self-check uses, decided from the reference now (the hand-out cannot).
    public_plan = {seedplan.plan_key(rubric.public_seed, rubric, "check"):
                   seedplan.plan_for(rubric.public_seed, rubric, "check", seedplan.load_reference)}
    (package / seedplan.SHIPPED.name).write_text(json.dumps(public_plan, indent=1, sort_keys=True) + "\n")
    calls = record_answers(rubric, package / "check_answers.json.gz")

    dependencies = ",\n".join(f"    {json.dumps(d)}" for d in _dependencies())      # JSON strings are TOML strings
    (student / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(version=project.version(),
                                                                    dependencies=dependencies))
    shutil.copyfile(KIT_ROOT / "constraints.txt", student / "constraints.txt")
    (student / "README.md").write_text(STUDENT_README)
    return calls


def _refuse_leaks(student, seed):
    """A last guard before anyone sees the hand-out: no reference, no bytecode, no hidden seed."""
    import gzip

    for path in student.rglob("*"):
        if path.is_dir() and path.name in ("solutions", "tests", "__pycache__"):
            raise ReleaseError(f"the hand-out would contain {path.relative_to(student)}/")
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            if path.suffix == ".pyc" or (len(str(seed)) >= 8 and str(seed).encode() in data):
                raise ReleaseError(f"the hand-out's {path.relative_to(student)} would reveal the hidden seed "
                                   "or hold bytecode")


def release(out, seed=None, rubric_path=None):
    """Build OUT/student, OUT/gradescope.zip and OUT/prairielearn/; returns a list of lines describing them."""
    out = Path(out)
    rubric = load_rubric(rubric_path)
    seed_value, seed_source = gradescope.choose_seed(seed, rubric_path)
    calls = build_student(out, rubric)
    _refuse_leaks(out / "student", seed_value)
    zip_path, _ = gradescope.build_zip(out / "gradescope.zip", rubric_path=rubric_path, seed=seed_value,
                                       checked=True)
    try:
        pl_path, _ = prairielearn.build_bundle(out / "prairielearn", rubric_path=rubric_path, seed=seed_value,
                                               checked=True)
    except ValueError as problem:
        raise ReleaseError(str(problem)) from None
    return [f"wrote {out / 'student'}/ (stubs, notebook, lesson guide, self-check with {calls} recorded answers)",
            f"wrote {zip_path} (hidden seed: {seed_source})",
            f"wrote {pl_path}/ (PrairieLearn external grader, same hidden seed; see its README.md)"]
