"""Every input path is safe: links, odd file names, formula ids, escape sequences, broken notebooks.

Each case is an input that must be refused or neutralised, run the way users
run the kit: ``python -m autograder grade/batch`` and
``python -m autograder.platforms.gradescope run --root FAKE`` against a temporary
/autograder tree. Submissions are built from the student stub where grading
must happen (it grades in seconds: every item is "not implemented yet").
"""

import csv
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import assign
from autograder.classroom.roster import student_id
from autograder.notebook_reader import LineMap, notebook_source
from autograder.rubric import ITEM_IDS
from autograder.safe_text import one_line, printable, spreadsheet_cell
from conftest import ROOT

REFERENCE = ROOT / "solutions" / "sequence_modeling.py"
STUB = assign.STUB_FILE.read_text()
SECRET = "TOP-SECRET-d41d8cd98f00b204"          # the content of the file a link points at
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")      # what must never be written raw
# A forged report: clear the screen, fake a passing line and a total, rewrite the line with \r.
FORGED = "\x1b[2J\x1b[Hok   make_windows 10/10\rTotal: 100.00/100 \x1b]0;pwned\x07\x9b2K"


def autograder(*args, cwd=ROOT, timeout=600, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def gradescope_run(root):
    """``run_autograder``'s command, against a fake /autograder tree (the kit runs from this checkout)."""
    (root / "source").mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "autograder.platforms.gradescope", "run", "--root", str(root)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def fake_autograder_root(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    return root


def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


def shadow_first_line():
    try:
        return Path("/etc/shadow").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None


def one_line_reason(done):
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def everything_written(*folders):
    """The text of every file under the folders: what the kit wrote."""
    texts = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.suffix != ".png":
                texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def stub_notebook(extra_cells=()):
    notebook = nbformat.read(assign.NOTEBOOK_FILE, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in extra_cells]
    return notebook


# --- the helpers, alone -----------------------------------------------------------------------------

def test_printable_strips_escape_sequences_and_carriage_returns_but_keeps_lines_and_tabs():
    assert printable("a\x1b[31mred\x1b[0m\r\nb\tc\x00\x7f\x9b2J") == "ared\nb\tc"
    assert printable("\x1b]0;title\x07x\x1b]8;;http://e\x1b\\link") == "xlink"
    assert printable("caf\udce9 \ud800") == "caf\\xe9 \\ud800"      # writable as UTF-8
    assert one_line("a\nb\tc") == "a b c"


def test_spreadsheet_cell_quotes_formula_starts_and_leaves_the_rest():
    for formula in ("=HYPERLINK(1)", "+cmd|x", "-2+3", "@SUM(1)", "\t=1", "\r=1"):
        assert spreadsheet_cell(formula).startswith("'"), formula
    assert spreadsheet_cell("alice") == "alice" and spreadsheet_cell(12.5) == 12.5


def test_student_ids_escape_undecodable_bytes_and_control_characters_the_same_way_every_time():
    name = os.fsdecode(b"caf\xe9\x1b[1m")
    assert student_id(name) == student_id(name) == "caf%E9%1B[1m"
    assert student_id("alice") == "alice"


def test_line_map_names_notebook_cells_counted_from_the_top_markdown_included():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title"),
                                               nbformat.v4.new_code_cell("a = 1\nb = 2"),
                                               nbformat.v4.new_markdown_cell("text"),
                                               nbformat.v4.new_code_cell("c = 3\nd = (")])
    code, line_map = notebook_source(nbformat.writes(notebook))
    number = code.splitlines().index("d = (") + 1
    assert line_map.translate(f'File "/tmp/w/submission.py", line {number}, in f') == "notebook cell 4, line 2, in f"
    assert line_map.translate(f"invalid syntax (submission.py, line {number})") == "invalid syntax (notebook cell 4, line 2)"
    assert LineMap(filename="ada.py").translate('File "/tmp/w1/submission.py", line 3') == 'File "ada.py", line 3'
    warning = f"/tmp/autograder-worker-x1/submission.py:{number}: UserWarning: careful"
    assert line_map.translate(warning) == "notebook cell 4, line 2: UserWarning: careful"
    assert LineMap(filename="ada.py").translate("/tmp/w9/submission.py:3: UserWarning") == "ada.py:3: UserWarning"


# --- symbolic links ---------------------------------------------------------------------------------

def test_a_top_level_symlink_to_the_reference_is_refused_by_grade(tmp_path):
    """ada.py -> the reference: not graded, exit 2, the reason names the link."""
    link = tmp_path / "ada.py"
    link.symlink_to(REFERENCE)
    done = autograder("grade", link)
    assert done.returncode == 2 and done.stdout == ""
    assert f"{link} is a symbolic link; submit the file itself" in one_line_reason(done)


def test_a_symlink_to_the_reference_inside_a_folder_is_refused_by_grade(tmp_path):
    """ada/sequence_modeling.py -> the reference: the folder is not graded."""
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "sequence_modeling.py").symlink_to(REFERENCE)
    done = autograder("grade", tmp_path / "ada")
    assert done.returncode == 2 and done.stdout == ""
    assert "ada/sequence_modeling.py is a symbolic link; submit the file itself" in one_line_reason(done)


def test_a_linked_folder_and_a_linked_parent_inside_the_folder_are_refused(tmp_path):
    """A student folder that is a link, and a folder holding a link to a folder with the file: both refused."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "sequence_modeling.py").write_text(REFERENCE.read_text())
    (tmp_path / "linked").symlink_to(real)
    done = autograder("grade", tmp_path / "linked")
    assert done.returncode == 2 and "linked is a symbolic link" in one_line_reason(done)
    (tmp_path / "outer").mkdir()
    (tmp_path / "outer" / "work").symlink_to(real)
    done = autograder("grade", tmp_path / "outer")
    assert done.returncode == 2 and "outer/work is a symbolic link" in one_line_reason(done)


def test_a_symlink_to_a_secret_file_never_shows_its_content_in_grade_batch_or_gradescope(tmp_path):
    """sequence_modeling.py -> a secret file and -> /etc/shadow: refused everywhere, content never printed."""
    secrets = [SECRET] + ([shadow_first_line()] if shadow_first_line() else [])
    room = tmp_path / "class"
    (room / "eve").mkdir(parents=True)
    (room / "eve" / "sequence_modeling.py").symlink_to(secret_file(tmp_path))
    (room / "mal.py").symlink_to("/etc/shadow")
    outputs = []
    for path in (room / "eve", room / "mal.py"):
        done = autograder("grade", path)
        assert done.returncode == 2 and "is a symbolic link" in one_line_reason(done)
        outputs += [done.stdout, done.stderr]

    out = tmp_path / "out"
    done = autograder("batch", room, "--out", out)
    assert done.returncode == 0, done.stderr
    rows = {row["student"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    assert {rows[s]["status"] for s in ("eve", "mal")} == {"ungradable"}
    assert "symbolic link" in json.loads((out / "students" / "mal" / "results.json").read_text())["output"]
    outputs += [done.stdout, done.stderr, everything_written(out)]

    root = fake_autograder_root(tmp_path)
    (root / "submission" / "sequence_modeling.py").symlink_to("/etc/shadow")
    done = gradescope_run(root)
    results = json.loads((root / "results" / "results.json").read_text())
    assert done.returncode == 0 and results["score"] == 0 and "symbolic link" in results["output"]
    outputs += [done.stdout, done.stderr, everything_written(root / "results")]
    for secret in secrets:
        assert not any(secret in text for text in outputs)


def test_gradescope_refuses_a_link_anywhere_in_the_submission_tree(tmp_path):
    """A zip that unpacks to work/sequence_modeling.py plus work/data -> /: zeros, the reason names the link."""
    root = fake_autograder_root(tmp_path)
    (root / "submission" / "work").mkdir()
    (root / "submission" / "work" / "sequence_modeling.py").write_text(REFERENCE.read_text())
    (root / "submission" / "work" / "data").symlink_to("/")
    done = gradescope_run(root)
    results = json.loads((root / "results" / "results.json").read_text())
    assert done.returncode == 0 and results["score"] == 0
    assert "work/data is a symbolic link" in results["output"]
    assert len(results["tests"]) == len(ITEM_IDS) and "Traceback" not in done.stderr


# --- malformed notebooks --------------------------------------------------------------------------

def _cell_source_not_text(nb):
    nb["cells"][1]["source"] = {"oops": 1}


def _cells_not_a_list(nb):
    nb["cells"] = "print(1)"


def _no_cell_type(nb):
    del nb["cells"][1]["cell_type"]


def _source_list_with_a_number(nb):
    nb["cells"][1]["source"] = ["x = 1\n", 2]


def _invalid_outputs(nb):
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = "not a list"


def _no_version(nb):
    del nb["nbformat"]


MALFORMED = {
    "bad json": (None, "not valid JSON"),
    "json array": ("[1, 2]", "not a notebook object"),
    "cell source not text": (_cell_source_not_text, "cell 2 has a source that is not text"),
    "source list with a number": (_source_list_with_a_number, "cell 2 has a source that is not text"),
    "cells not a list": (_cells_not_a_list, "'cells' is not a list"),
    "missing cell_type": (_no_cell_type, "cell 2 has no cell_type"),
    "nbformat validation": (_invalid_outputs, "nbformat validation failed"),
    "no version": (_no_version, "no nbformat version"),
}


def malformed_notebook(path, kind):
    edit, _ = MALFORMED[kind]
    if edit is None:
        path.write_text('{"cells": [}')
    elif isinstance(edit, str):
        path.write_text(edit)
    else:
        data = json.loads(assign.NOTEBOOK_FILE.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_notebook_exits_2_with_one_line_from_grade(tmp_path, kind):
    """Each malformed notebook: exit 2, one line naming the problem, nothing on stdout, no traceback."""
    done = autograder("grade", malformed_notebook(tmp_path / "work.ipynb", kind))
    assert done.returncode == 2 and done.stdout == ""
    reason = one_line_reason(done)
    assert "not a readable Jupyter notebook" in reason and MALFORMED[kind][1] in reason


def test_a_malformed_notebook_gets_a_zero_results_json_from_gradescope(tmp_path):
    """A notebook cell whose source is not text: results.json with zeros and the reason, no traceback."""
    root = fake_autograder_root(tmp_path)
    malformed_notebook(root / "submission" / "sequence_modeling.ipynb", "cell source not text")
    done = gradescope_run(root)
    assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "cell 2 has a source that is not text" in results["output"]
    assert [t["tags"] for t in results["tests"]] == [[i] for i in ITEM_IDS]


# --- batches: odd names, two entries for one id, formula ids, malformed notebooks ---------------------

@pytest.fixture(scope="module")
def odd_class(tmp_path_factory):
    """One batch over a class of odd inputs (run once, checked by the tests below)."""
    base = tmp_path_factory.mktemp("odd")
    room = base / "class"
    room.mkdir()
    (room / "bob.py").write_text(STUB)                                    # an ordinary student
    (room / os.fsdecode(b"caf\xe9.py")).write_text(STUB)                  # not UTF-8
    (room / "alice.py").write_text(STUB)                                  # two entries, one id
    nbformat.write(stub_notebook(), room / "alice.ipynb")
    (room / "carol.py").write_text(STUB)
    (room / "carol").mkdir()
    (room / "carol" / "sequence_modeling.py").write_text(STUB)
    for formula in ("=HYPERLINK(1,2)", "@SUM(1+1)", "+cmd|x", "-2+3"):       # formula ids (empty folders)
        (room / formula).mkdir()
    (room / "ansi.py").write_text(forged_output_submission())
    malformed_notebook(room / "nbbad.ipynb", "cell source not text")
    out = base / "out"
    done = autograder("batch", room, "--out", out, "--jobs", 2)
    rerun = autograder("batch", room, "--out", out)
    return {"room": room, "out": out, "done": done, "rerun": rerun,
            "rows": {row["student"]: row for row in csv.DictReader(open(out / "grades.csv", newline=""))}}


@pytest.mark.slow
def test_a_batch_grades_a_non_utf8_file_name_under_an_escaped_id_with_a_warning(odd_class):
    """caf\\xe9.py: the batch finishes, the CSV has caf%E9, stderr warns, and a rerun works too."""
    assert odd_class["done"].returncode == 0, odd_class["done"].stderr
    assert odd_class["rows"]["caf%E9"]["status"] == "graded"
    assert "graded as student id caf%E9" in odd_class["done"].stderr
    assert (odd_class["out"] / "students" / "caf%E9" / "report.txt").is_file()
    assert odd_class["rerun"].returncode == 0 and "graded 0 of" in odd_class["rerun"].stdout


@pytest.mark.slow
def test_two_entries_with_one_id_are_an_error_naming_both_and_others_are_graded(odd_class):
    """alice.py + alice.ipynb, carol.py + carol/: each an ungradable naming both entries; bob graded."""
    rows, out = odd_class["rows"], odd_class["out"]
    for student, first, second in (("alice", "alice.ipynb", "alice.py"), ("carol", "carol", "carol.py")):
        assert rows[student]["status"] == "ungradable" and rows[student]["total"] == "0.00"
        reason = json.loads((out / "students" / student / "results.json").read_text())["output"]
        assert first in reason and second in reason
    assert rows["bob"]["status"] == "graded"


@pytest.mark.slow
def test_formula_ids_are_text_in_grades_csv(odd_class):
    """Students named =HYPERLINK(..), @SUM(..), +cmd|x, -2+3: every such cell starts with a quote."""
    text = (odd_class["out"] / "grades.csv").read_text()
    cells = [cell for row in csv.reader(text.splitlines()) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    for formula in ("=HYPERLINK(1,2)", "@SUM(1+1)", "+cmd|x", "-2+3"):
        assert odd_class["rows"]["'" + formula]["status"] == "ungradable"
    assert odd_class["rows"]["bob"]["total"] == "0.00"                     # numbers stay numbers


@pytest.mark.slow
def test_a_malformed_notebook_in_a_batch_gets_zeros_and_the_reason(odd_class):
    """nbbad.ipynb: ungradable, results.json holds the one-line reason."""
    assert odd_class["rows"]["nbbad"]["status"] == "ungradable"
    results = json.loads((odd_class["out"] / "students" / "nbbad" / "results.json").read_text())
    assert "cell 2 has a source that is not text" in results["output"]


# --- escape sequences and carriage returns ------------------------------------------------------------

def forged_output_submission():
    """The stub that prints a forged report and raises with one from time_split."""
    return (f"print({FORGED!r})\n" + STUB +
            f"\n\ndef time_split(X, y, train_frac=0.8):\n    raise RuntimeError({FORGED!r})\n")


@pytest.mark.slow
def test_escape_sequences_and_carriage_returns_never_reach_the_terminal_or_the_files(tmp_path, odd_class):
    """Printed output and an exception message full of ANSI/\\r: stdout, report.txt, results.json, html clean."""
    path = tmp_path / "ansi.py"
    path.write_text(forged_output_submission())
    done = autograder("grade", path, "--json", tmp_path / "r.json", "--html", tmp_path / "r.html")
    assert done.returncode == 0, done.stderr
    time_split = next(line for line in done.stdout.splitlines()
                      if line.startswith(("FAIL ", "ok ")) and line.split()[1] == "time_split")
    assert time_split.startswith("FAIL") and "RuntimeError" in time_split
    assert "Total: 0.00/100" in done.stdout
    results = json.loads((tmp_path / "r.json").read_text())
    strings = [results["output"]] + [t["output"] for t in results["tests"]]
    batch_files = [(odd_class["out"] / "students" / "ansi" / name).read_text() for name in ("report.txt", "report.html")]
    batch_results = json.loads((odd_class["out"] / "students" / "ansi" / "results.json").read_text())
    strings += [batch_results["output"]] + [t["output"] for t in batch_results["tests"]]
    for text in [done.stdout, done.stderr, (tmp_path / "r.html").read_text(), *strings, *batch_files,
                 (odd_class["out"] / "summary.md").read_text()]:
        assert not RAW_CONTROL.search(text), repr(RAW_CONTROL.search(text))
    assert "RuntimeError" in batch_files[0] and "pwned" not in done.stdout


# --- notebook errors name the cell --------------------------------------------------------------------

@pytest.mark.slow
def test_a_notebook_syntax_error_is_reported_by_cell(tmp_path):
    """A syntax error on line 3 of the 4th cell (markdown cells counted): 'notebook cell 4, line 3'.
    It ends that cell alone, as in Jupyter: the notebook is graded, the report names the cell."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# My lab"), nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_markdown_cell("Windows"), nbformat.v4.new_code_cell("x = 1\ny = 2\ndef make_windows(:\n    pass")])
    nbformat.write(notebook, tmp_path / "lab.ipynb")
    done = autograder("grade", tmp_path / "lab.ipynb", "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert "notebook cell 4, line 3 raised SyntaxError: invalid syntax" in done.stdout
    assert "could not be imported" not in done.stdout and "submission.py" not in done.stdout
    assert "notebook cell 4, line 3" in json.loads((tmp_path / "r.json").read_text())["output"]


@pytest.mark.slow
def test_a_notebook_runtime_error_is_reported_by_cell(tmp_path):
    """The stub notebook plus a cell whose make_windows divides by zero on its line 2."""
    notebook = stub_notebook(["def make_windows(series, window_size, target_col=0):\n    return 1 / 0\n"])
    cell = len(notebook.cells)
    nbformat.write(notebook, tmp_path / "lab.ipynb")
    done = autograder("grade", tmp_path / "lab.ipynb")
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("FAIL make_windows "))
    assert f"ZeroDivisionError: division by zero (notebook cell {cell}, line 2, in make_windows)" in line
    assert "submission.py" not in done.stdout


# --- an interrupted batch, an unreadable folder ----------------------------------------------------

@pytest.mark.slow
def test_an_interrupted_forced_batch_keeps_every_row_it_had(tmp_path):
    """Grade four students, then kill a --force rerun after its first student: grades.csv keeps all four rows."""
    room = tmp_path / "class"
    room.mkdir()
    for name in ("s1", "s2", "s3", "s4"):
        (room / f"{name}.py").write_text(STUB)
    out = tmp_path / "out"
    assert autograder("batch", room, "--out", out, "--jobs", 1).returncode == 0
    before = list(csv.DictReader(open(out / "grades.csv")))
    assert len(before) == 4
    first_meta = out / "students" / "s1" / "meta.json"
    stamp = first_meta.stat().st_mtime_ns
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(room), "--out", str(out), "--force",
                             "--jobs", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and first_meta.stat().st_mtime_ns == stamp:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert first_meta.stat().st_mtime_ns != stamp, "the forced batch never regraded its first student"
    after = list(csv.DictReader(open(out / "grades.csv")))
    assert [row["student"] for row in after] == [row["student"] for row in before]
    assert after == before                           # regraded alike; the others kept their values


def _drop_file_read_override():
    """In the child: root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so a mode 000 folder is unreadable."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):                      # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        libc.prctl(24, capability, 0, 0, 0)        # PR_CAPBSET_DROP: gone after exec


def test_an_unreadable_submissions_folder_is_one_line_and_exit_2(tmp_path):
    """A submissions folder with mode 000: 'cannot read', exit 2, no traceback."""
    room = tmp_path / "class"
    room.mkdir()
    (room / "ada.py").write_text(STUB)
    room.chmod(0)
    try:
        done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(room), "--out", str(tmp_path / "out")],
                              cwd=ROOT, capture_output=True, text=True, timeout=300,
                              preexec_fn=_drop_file_read_override if os.geteuid() == 0 else None)
    finally:
        room.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "cannot read the folder of submissions" in one_line_reason(done)


def test_a_folder_nested_too_deep_is_refused_not_walked_forever(tmp_path):
    """A hostile archive: 40 nested folders around the file; one clear reason, exit 2."""
    deep = tmp_path / "work"
    for _ in range(40):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "sequence_modeling.py").write_text(STUB)
    done = autograder("grade", tmp_path / "work")
    assert done.returncode == 2 and "nested more than" in one_line_reason(done)


def test_notebook_cells_run_one_by_one_and_the_failing_ones_are_named(tmp_path):
    """What the worker imports for a notebook: a cell that raises (an error, a syntax error, SystemExit)
    ends itself alone, as in Jupyter; what it defined before the error stays; later errors still name
    their cell through the LineMap. Imported here as the worker imports it (spec_from_file_location)."""
    import importlib.util
    import traceback

    from autograder.notebook_reader import CELL_FAILURES, describe_cell_failures, worker_source
    from autograder.submission import load_submission

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("def f(:"),
        nbformat.v4.new_code_cell("b = a + 1\nraise SystemExit(3)\nc = 5"),
        nbformat.v4.new_code_cell("x = 2\nd = undefined_name"),
        nbformat.v4.new_code_cell("def g():\n    return 1 / 0")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    submission = load_submission(path)
    worker_file = tmp_path / "submission.py"
    worker_file.write_text(worker_source(submission))
    spec = importlib.util.spec_from_file_location("submission", worker_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.a, module.b, module.x) == (1, 2, 2) and not hasattr(module, "c") and not hasattr(module, "d")
    syntax, *others = describe_cell_failures(getattr(module, CELL_FAILURES)())
    assert syntax.startswith("notebook cell 3, line 1 raised SyntaxError: ")     # the message is Python's
    assert others == ["notebook cell 4, line 2 raised SystemExit: 3",
                      "notebook cell 5, line 2 raised NameError: name 'undefined_name' is not defined"]
    try:
        module.g()
    except ZeroDivisionError as exc:
        shown = submission.line_map.translate("".join(traceback.format_exception(exc)))
    assert "notebook cell 6, line 2, in g\n    return 1 / 0" in shown, shown
    assert describe_cell_failures("not a list") == [] and describe_cell_failures([("1", 2, "x", "y")]) == []


def test_an_import_grading_does_not_provide_gets_one_verdict_from_check_and_grade(tmp_path):
    """pandas is not installed here; a tiny fake `pandas` package on the check run's path is an honest
    stand-in for Colab, where it is. check (pandas importable) and grade (not) must give the same verdict
    and the same score: it is read from the source and the rubric's [imports], not from the machine."""
    fake = tmp_path / "site" / "pandas"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("DataFrame = dict\n")
    with_pandas = dict(os.environ, PYTHONPATH=str(fake.parent))
    assert subprocess.run([sys.executable, "-c", "import pandas"], env=with_pandas, cwd=tmp_path).returncode == 0
    submission = tmp_path / "uses_pandas.py"
    submission.write_text(REFERENCE.read_text().replace("import numpy as np\n", "import numpy as np\nimport pandas as pd\n", 1))
    checked = autograder("check", submission, "--json", tmp_path / "check.json", env=with_pandas)
    graded = autograder("grade", submission, "--json", tmp_path / "grade.json")
    assert checked.returncode == graded.returncode == 0, checked.stderr + graded.stderr
    check, grade_ = (json.loads((tmp_path / name).read_text()) for name in ("check.json", "grade.json"))
    verdict = ("the submission imports pandas, which grading does not provide (it has Python's standard library "
               "and torch, numpy, matplotlib only): remove that import and do the same with numpy or torch")
    assert check["score"] == grade_["score"] == 0
    assert {test["output"] for test in check["tests"]} == {test["output"] for test in grade_["tests"]} == {verdict}
    assert verdict in checked.stdout and verdict in graded.stdout


def test_the_import_verdict_reads_the_source_the_rubric_and_every_notebook_cell(tmp_path):
    from autograder.handout.notebook import kernel_notebook
    from autograder.rubric import load_rubric
    from autograder.submission import import_verdict, load_submission

    provided = load_rubric().imports.provided
    assert provided == ("torch", "numpy", "matplotlib")

    def verdict(name, text, allowed=provided):
        (tmp_path / name).write_text(text)
        return import_verdict(load_submission(tmp_path / name), allowed)

    assert verdict("plain.py", "import os, json\nimport numpy as np\nimport torch.nn as nn\nimport matplotlib.pyplot\n") == ""
    assert "imports pandas, sklearn," in verdict("two.py", "import pandas\nfrom sklearn.metrics import r2_score\n")
    assert verdict("allowed.py", "import pandas\n", allowed=provided + ("pandas",)) == ""
    assert "reference and the grader are off limits" in verdict("key.py", "import solutions\nimport pandas\n")
    # An import the code does without (under except ImportError, a broader class or a bare except) is no verdict;
    # one under another handler, or after the try, still is; and the reference is off limits however guarded.
    assert verdict("guarded.py", "try:\n    import pandas as pd\nexcept ImportError:\n    pd = None\n") == ""
    assert verdict("bare.py", "try:\n    from IPython.display import display\nexcept:\n    pass\n") == ""
    assert "imports pandas" in verdict("other.py", "try:\n    import pandas\nexcept KeyError:\n    pass\n")
    assert "imports pandas" in verdict("after.py", "try:\n    pass\nexcept ImportError:\n    import pandas\n")
    assert "off limits" in verdict("keytry.py", "try:\n    import solutions\nexcept ImportError:\n    pass\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(:"),
                                               nbformat.v4.new_code_cell("import pandas as pd")])
    assert "imports pandas" in verdict("nb.ipynb", nbformat.writes(notebook))   # a broken cell hides no import
    # The notebook's check(): the kernel's cells, as the notebook the check grades.
    assert "imports pandas" in verdict("kernel_cells.ipynb", kernel_notebook([(1, "import pandas as pd")]))
    assert verdict("kernel_ok.ipynb", kernel_notebook([(1, "import numpy as np")])) == ""


def test_check_without_a_path_finds_the_lesson_file_from_anywhere_in_the_hand_out(tmp_path):
    from autograder.cli import default_check_path

    hand_out = tmp_path / "student"
    (hand_out / "lessons").mkdir(parents=True)
    (hand_out / "autograder" / "items").mkdir(parents=True)
    # The stub, importing pandas: the file found is the file graded, shown by that verdict, given before
    # any worker starts. test_release.py (slow) runs a default-path check of the real stub in a hand-out.
    (hand_out / "lessons" / "sequence_modeling.py").write_text("import pandas\n" + assign.STUB_FILE.read_text())
    assert str(default_check_path(hand_out)) == "lessons/sequence_modeling.py"
    assert str(default_check_path(hand_out / "lessons")) == "sequence_modeling.py"
    assert str(default_check_path(hand_out / "autograder" / "items")) == "../../lessons/sequence_modeling.py"
    assert default_check_path(tmp_path) is None
    inside = autograder("check", "--only", "time_split", cwd=hand_out / "lessons")
    assert inside.returncode == 0, inside.stderr
    assert "(self-check on public data): sequence_modeling.py" in inside.stdout and "imports pandas" in inside.stdout
    nowhere = autograder("check", cwd=tmp_path)
    assert nowhere.returncode == 2 and nowhere.stdout == ""
    assert nowhere.stderr == ("autograder: no sequence_modeling.py here and no lessons/sequence_modeling.py here or "
                              "in a folder above; name the file: autograder check PATH\n")
