"""``check()`` inside a real Jupyter kernel: the generated notebook executed with nbclient.

Three states of the notebook, each run top to bottom as a student would run it:
the reference's code in the stub cells (every check cell shows full points),
one wrong function (only its items fail), the untouched stubs (every item "not
implemented"). Then, without the reference: the kernel runs with the hand-out's
self-check package first on its path and ``solutions`` made unimportable in it
and every process it starts, and the check still gives full points through the
recorded answers (autograder.handout.oracle's ReplayOracle).
"""

import json
import re
import shutil
import sys
import textwrap

import nbformat
import pytest

import corpus
from autograder import assign
from autograder.engine import grade
from autograder.handout import release
from autograder.handout.oracle import RecordingOracle
from autograder.items import registry
from autograder.rubric import load_rubric
from conftest import ROOT

nbclient = pytest.importorskip("nbclient")
slow = pytest.mark.slow

KERNEL = "autograder-nbcheck-test"
CELL_SECONDS = 600


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A kernelspec running this interpreter (the venv's, where ipykernel and the kit are installed)."""
    jupyter = tmp_path_factory.mktemp("jupyter")
    spec = jupyter / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "autograder test", "language": "python"}))
    return jupyter


def execute(notebook, folder, kernel_path, monkeypatch, env=None):
    """Run every cell (errors allowed, as a student's kernel goes on); return the executed notebook."""
    import os

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    kernel_env = dict(os.environ, MPLBACKEND="Agg", **(env or {}))
    client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_SECONDS, allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute(env=kernel_env)
    return notebook


def student_notebook(fill=None, checks_after=None):
    """The generated notebook without its run cell (it trains the lab: minutes, and not under test).

    ``fill``: section title -> code replacing that stub cell (the reference's, or a wrong one's).
    ``checks_after``: keep only these sections' check cells and the last one, ``check()`` (each
    check is a grading run of its own: seconds on a loaded machine); None keeps every one.
    """
    notebook = nbformat.read(assign.NOTEBOOK_FILE, as_version=4)
    notebook.cells = [c for c in notebook.cells if not (c.cell_type == "code" and "run_lab()" in c.source)]
    if checks_after is not None:
        kept = {assign.check_cell_source()} | {assign.check_cell_source(registry.checks_after()[t]) for t in checks_after}
        notebook.cells = [c for c in notebook.cells if "autograder.notebook" not in c.source or c.source in kept]
    if fill:
        assert fill_stubs(notebook, fill) >= 8
        answer_as_the_reference(notebook)
    return notebook


def answer_as_the_reference(notebook):
    """Each answer cell holds the reference's answers (its BEGIN/END ANSWER region), as a student
    who ran the reference's code would answer."""
    regions = re.findall(r"^# BEGIN ANSWER\n(.*?)^# END ANSWER", assign.REFERENCE.read_text(), flags=re.S | re.M)
    for cell in notebook.cells:
        if cell.cell_type == "code" and assign.ANSWER_HEADER in cell.source:
            first = re.search(r"^([A-Z_]+) = None", cell.source, flags=re.M).group(1)
            cell.source = next(region for region in regions if region.startswith(first + " "))


def fill_stubs(notebook, fill):
    """Replace the stub cells of the sections ``fill`` names with its code; returns how many were replaced."""
    sections = assign._split_sections(assign.STUB_FILE.read_text())
    replaced = 0
    for cell in notebook.cells:
        for title, stub_code in sections:
            if cell.cell_type == "code" and title in fill and cell.source.split("\n")[0] == stub_code.split("\n")[0]:
                cell.source = fill[title]
                replaced += 1
                break
    return replaced


def sections_of(source):
    return dict(assign._split_sections(strip_markers(source)))


def strip_markers(source):
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"\s*# (BEGIN SOLUTION|END SOLUTION|HINT:)", line)) + "\n"


def check_outputs(notebook):
    """[(items the cell checks, {item: (score, max, feedback)}, total text)] for every check cell."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "autograder.notebook" not in cell.source:
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{cell.source!r} raised: {errors[0].ename}: {errors[0].evalue}"
        shown = [o["data"]["text/html"] for o in cell.outputs if o.output_type == "display_data"
                 and "text/html" in o.get("data", {})]
        assert len(shown) == 1, cell.outputs
        rows = re.findall(r"<tr[^>]*><td[^>]*><code>([^<]*)</code></td><td[^>]*>([\d.]+)/([\d.]+)</td>"
                          r"<td[^>]*><pre[^>]*>(.*?)</pre></td></tr>", shown[0], flags=re.S)
        asked = tuple(re.findall(r'"([a-z_]+)"', cell.source.split("check(", 1)[1]))
        found.append((asked, {item: (float(s), float(m), feedback) for item, s, m, feedback in rows}, shown[0]))
    return found


@slow
def test_the_reference_filled_in_gets_full_points_in_every_check_cell(tmp_path, kernel_path, monkeypatch):
    notebook = execute(student_notebook(fill=sections_of(assign.REFERENCE.read_text())), tmp_path, kernel_path,
                       monkeypatch)
    outputs = check_outputs(notebook)
    assert len(outputs) == len(registry.checks_after()) + 1
    every_item = {item.id for item in load_rubric().items if item.self_check}
    for asked, rows, shown in outputs:
        assert set(rows) == (set(asked) or every_item), (asked, list(rows))
        assert all(score == most > 0 for score, most, _ in rows.values()), rows
    assert "100/100" in outputs[-1][2]


@slow
def test_one_wrong_function_fails_only_its_items_with_the_failing_input(tmp_path, kernel_path, monkeypatch):
    case = next(c for c in corpus.WRONG if c.name == "y_is_last_input")
    notebook = execute(student_notebook(fill=sections_of(corpus.build(case)), checks_after=["Step 1"]), tmp_path,
                       kernel_path, monkeypatch)
    failed = {item for _, rows, _ in check_outputs(notebook) for item, (score, most, _) in rows.items()
              if score < most}
    assert failed == case.loses
    step1 = check_outputs(notebook)[0][1]["make_windows"][2]
    assert "[1..6], window 3" in step1, step1                # the smallest failing input reaches the cell


@slow
def test_untouched_stubs_read_not_implemented(tmp_path, kernel_path, monkeypatch):
    outputs = check_outputs(execute(student_notebook(checks_after=[]), tmp_path, kernel_path, monkeypatch))
    assert len(outputs) == 1
    last = outputs[-1][1]
    assert len(last) == len(load_rubric().items) - sum(not i.self_check for i in load_rubric().items)
    from verdicts import ANSWER_ITEMS

    code = {item: row for item, row in last.items() if item not in ANSWER_ITEMS}
    answers = {item: row for item, row in last.items() if item in ANSWER_ITEMS}
    assert all(score == 0 and "not implemented" in feedback for score, _, feedback in code.values()), last
    assert answers and all(score == 0 and "no answer yet" in feedback for score, _, feedback in answers.values()), last


@slow
def test_a_check_that_fails_to_run_says_why_in_the_cell(tmp_path, kernel_path, monkeypatch):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'from autograder.notebook import check\n\ncheck("no_such_item")')])
    error = [o for o in execute(notebook, tmp_path, kernel_path, monkeypatch).cells[0].outputs
             if o.output_type == "error"]
    assert error and error[0].ename == "CheckError" and "no self-check item named 'no_such_item'" in error[0].evalue


# --- without the reference -------------------------------------------------------------------

NO_SOLUTIONS = '''
"""Test-only: `solutions` cannot be imported in this interpreter or any Python it starts."""
import sys


class _NoSolutions:
    def find_spec(self, name, path=None, target=None):
        if name == "solutions" or name.startswith("solutions."):
            raise ImportError("solutions is not part of the student hand-out")
        return None


sys.meta_path.insert(0, _NoSolutions())
'''

REPLAYED_ITEMS = ("make_windows", "make_windows_multifeature", "time_split")


@pytest.fixture(scope="module")
def hand_out(tmp_path_factory):
    """The hand-out's self-check package, with answers recorded for a few items only (seconds, not minutes).

    The same modules ``autograder release`` ships (SELF_CHECK_MODULES); the answers come from a
    RecordingOracle over the live reference, as ``release.record_answers`` makes them.
    """
    import solutions.sequence_modeling as reference

    folder = tmp_path_factory.mktemp("hand-out")
    package = folder / "autograder"
    (package / "items").mkdir(parents=True)
    for name in release.SELF_CHECK_MODULES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "autograder" / name, package / name)
    for path in (ROOT / "autograder" / "items").glob("*.py"):
        shutil.copyfile(path, package / "items" / path.name)
    rubric = load_rubric()
    (package / "rubric.toml").write_text(release.strip_hidden_seed(rubric.text))
    shutil.copyfile(ROOT / "autograder" / "seed_plans.json", package / "seed_plans.json")
    oracle = RecordingOracle(reference)
    result = grade(assign.REFERENCE, mode="check", rubric=rubric, oracle=oracle, only=REPLAYED_ITEMS)
    assert result.score == result.max_score > 0
    oracle.save(package / "check_answers.json.gz")
    blocker = folder / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_SOLUTIONS)
    return folder


@slow
def test_the_check_cell_needs_no_reference(tmp_path, kernel_path, monkeypatch, hand_out):
    code = sections_of(assign.REFERENCE.read_text())
    cells = [nbformat.v4.new_code_cell(source) for source in code.values()]
    cells.append(nbformat.v4.new_code_cell(assign.check_cell_source(REPLAYED_ITEMS)))
    # After the check, so the checked history does not hold it (it imports autograder).
    cells.append(nbformat.v4.new_code_cell(
        "import subprocess, sys\n"
        "print(subprocess.run([sys.executable, '-c', 'import solutions'], capture_output=True).returncode)\n"
        "import autograder, autograder.handout.oracle\n"
        "print(autograder.__file__, autograder.handout.oracle.is_release())"))
    notebook = execute(nbformat.v4.new_notebook(cells=cells), tmp_path, kernel_path, monkeypatch,
                       env={"PYTHONPATH": f"{hand_out / 'blocker'}:{hand_out}"})
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    returncode, where = printed.splitlines()[0], printed.splitlines()[1]
    assert returncode == "1"                                          # solutions cannot be imported there
    assert where == f"{hand_out / 'autograder' / '__init__.py'} True"   # the hand-out's copy, replaying
    (asked, rows, shown), = check_outputs(notebook)
    assert set(rows) == set(REPLAYED_ITEMS)
    assert all(score == most > 0 for score, most, _ in rows.values()), rows
    assert "GRADER ERROR" not in shown


def kernel_submission(folder, cells):
    """The kernel's cells as check() writes them (autograder.handout.notebook.kernel_notebook), loaded as graded."""
    from autograder.handout.notebook import CHECK_FILE, kernel_notebook
    from autograder.submission import load_submission

    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHECK_FILE).write_text(kernel_notebook(cells))
    return load_submission(folder / CHECK_FILE)


def imported(folder, submission):
    """The module the worker would import for ``submission``, imported here as the worker imports it."""
    import importlib.util

    from autograder.notebook_reader import worker_source

    (folder / "submission.py").write_text(worker_source(submission))
    spec = importlib.util.spec_from_file_location("submission", folder / "submission.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_kernel_code_keeps_a_failing_cell_from_stopping_the_rest(tmp_path):
    """Unit-level: the notebook the check grades runs every cell, as the kernel did, and names a failing
    one by its In [N]; its imports get the verdict a handed-in notebook gets."""
    from autograder.handout.notebook import in_kernel_terms
    from autograder.notebook_reader import CELL_FAILURES, describe_cell_failures
    from autograder.rubric import load_rubric
    from autograder.submission import import_verdict

    cells = [(1, "import numpy as np"), (2, "raise RuntimeError('a student experiment')"),
             (3, "def f():\n    return np.arange(3)"), (4, "def g(:"), (6, "raise SystemExit(1)")]
    submission = kernel_submission(tmp_path, cells)
    module = imported(tmp_path, submission)
    assert list(module.f()) == [0, 1, 2]
    failures = [in_kernel_terms(line) for line in describe_cell_failures(getattr(module, CELL_FAILURES)())]
    assert failures[0] == "In [2], line 1 raised RuntimeError: a student experiment"
    assert failures[1].startswith("In [4], line 1 raised SyntaxError: ")
    assert failures[2:] == ["In [6], line 1 raised SystemExit: 1"]
    provided = load_rubric().imports.provided
    assert import_verdict(submission, provided) == ""
    for number, (source, named) in enumerate((("import solutions.sequence_modeling as s", "solutions"),
                                              ("import pandas as pd", "pandas"))):
        other = kernel_submission(tmp_path / str(number), [(1, "x = 1"), (2, source)])
        assert f"the submission imports {named}" in import_verdict(other, provided)


def test_the_table_escapes_everything_the_submission_could_put_in_it():
    from autograder.handout.notebook import html_table

    results = {"output": "", "tests": [{"tags": ["make_windows<i>"], "score": 0, "max_score": 10,
                                        "output": "make_windows(<script>alert(1)</script>) & more"}]}
    shown = html_table(results)
    assert "<script>" not in shown and "(&lt;script&gt;alert(1)&lt;/script&gt;) &amp; more" in shown
    assert "make_windows&lt;i&gt;" in shown and "0/10" in shown


@slow
def test_outside_ipython_check_prints_the_text_report(tmp_path):
    """A plain script (no IPython) that calls check(): its own file is checked, the report printed."""
    import subprocess

    script = tmp_path / "my_lesson.py"
    script.write_text(strip_markers(assign.REFERENCE.read_text()).replace(
        'if __name__ == "__main__":', 'from autograder.notebook import check\ncheck("time_split")\n\nif False:'))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert "ok   time_split" in done.stdout and "Total: 6.00/6" in done.stdout, done.stdout


def test_kernel_history_is_checked_as_grading_would_see_the_notebook(tmp_path):
    """Magics become pass, the check cell's statements go, any other import of autograder stays."""
    from types import SimpleNamespace

    from autograder.handout.notebook import kernel_cells

    history = ["", "%matplotlib inline\nimport numpy as np", 'from autograder.notebook import check\ncheck("time_split")',
               "def f():\n    return np.arange(3)", "", "import autograder.notebook as nb\nnb.check()"]
    shell = SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=history))
    cells = kernel_cells(shell)
    assert [number for number, _ in cells] == [1, 2, 3, 5]
    assert "autograder" not in cells[1][1] and cells[0][1].startswith("pass  # notebook magic removed")
    first = kernel_submission(tmp_path / "first", cells[:3])
    assert list(imported(tmp_path / "first", first).f()) == [0, 1, 2] and first.forbidden == []
    assert kernel_submission(tmp_path / "all", cells).forbidden == ["autograder"]   # as the graded notebook would be


def test_check_only_refuses_an_unknown_item_in_one_line():
    import subprocess

    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(assign.STUB_FILE), "--only", "nope"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("autograder: no item named 'nope'; the items are make_windows, ")
    assert len(done.stderr.strip().splitlines()) == 1
