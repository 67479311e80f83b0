"""``check()`` in a notebook cell: the self-check on the code the kernel holds now, no saved file.

In Colab the notebook is not a file on the runtime's disk, so ``autograder check
PATH`` cannot reach it; Otter users expect ``grader.check("q1")`` in a cell. So:

    from autograder.notebook import check
    check()                                            # every self-check item
    check("make_windows", "make_windows_multifeature") # a few

collects the cells the kernel ran (IPython's raw input history, in execution
order, the check cells' own statements left out as grading leaves them out), writes them to a temporary
notebook and runs ``python -m autograder check FILE --json OUT`` in a separate process: the
kernel's state (patched modules, globals) cannot reach the grader, and a hang
ends at the grader's own limits, not the kernel's. That notebook is checked exactly as a
handed-in one is graded: cell by cell, an error ending that cell only (the kernel kept going
too) and reported by its number, which is its ``In [N]``. Outside IPython, the source of
``__main__`` (its file, or each lesson function's source) is checked instead.

The result appears inline as an HTML table (item, points, feedback with the
smallest failing input), everything escaped; in a plain terminal, as the text
report.
"""

import html
import inspect
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.items import registry
from autograder.notebook_reader import grading_source, without_self_check
from autograder.rubric import load_rubric

# The names a check collects from code typed where no file or history holds it: the given series, the
# functions the items grade (their @item declarations) and the lab.
GIVEN_NAMES, LAB_NAMES = ("make_series",), ("run_lab",)
LESSON_IMPORTS = "import numbers\n\nimport numpy as np\nimport torch\nfrom torch import nn\n"
CHECK_FILE = "kernel_cells.ipynb"   # the kernel's cells, as the notebook the check grades
SCRIPT_FILE = "kernel_cells.py"      # the name errors in the report point at, outside IPython


class CheckError(Exception):
    """The self-check could not run; the message says why in one line."""


@dataclass
class CheckOutcome:
    """What one ``check()`` found: results.json's dict, the text report, and where the code came from."""
    results: dict
    report: str
    source: str          # where the code came from, in words

    def _repr_html_(self):
        return html_table(self.results, self.source)

    def __repr__(self):
        return self.report


# --- collecting the code --------------------------------------------------------------------------

def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def kernel_cells(shell):
    """[(number, source)] of every cell the kernel ran, oldest first (``In [number]``), the
    self-check's statements removed.

    Raw history, not ``In``: IPython rewrites magics there into ``get_ipython()`` calls, which
    mean nothing in the grader; the grader's own rule (``grading_source``) turns them into ``pass``.
    """
    raw = list(shell.history_manager.input_hist_raw)
    numbered = [(number, grading_source(source)) for number, source in enumerate(raw)
                if number > 0 and source.strip()]
    # Exactly what grading the notebook removes: any other import of autograder stays, and the
    # check then says what the grade would say (the submission imports the grader).
    return list(zip([number for number, _ in numbered], without_self_check([source for _, source in numbered])))


def kernel_notebook(cells):
    """The kernel's cells as a notebook's text, checked as a handed-in notebook is graded (cell by
    cell, the import verdict on every cell). Cell N of it is ``In [N]``: an empty markdown cell
    stands for each number the history skips, so the report's "notebook cell N" is the kernel's N."""
    sources = dict(cells)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(sources[number]) if number in sources else nbformat.v4.new_markdown_cell("")
        for number in range(1, max(sources, default=0) + 1)])
    for number, cell in enumerate(notebook.cells, start=1):
        cell.id = f"in-{number}"
    return nbformat.writes(notebook)


def in_kernel_terms(text):
    """The check's text with "notebook cell N" written as the kernel numbers it, "In [N]"."""
    return re.sub(r"notebook cell (\d+)", r"In [\1]", text)


def main_module_source(main):
    """Outside IPython: ``__main__``'s file without the self-check's statements, else its lesson functions."""
    path = getattr(main, "__file__", None)
    if path and Path(path).is_file():
        return without_self_check([Path(path).read_text()])[0], "this script's file"
    pieces = [LESSON_IMPORTS]
    for name in (*GIVEN_NAMES, *registry.graded_functions(), *LAB_NAMES):
        value = getattr(main, name, None)
        if value is None:
            continue
        try:
            pieces.append(inspect.getsource(value))
        except (OSError, TypeError):
            continue                # typed at a prompt with no source kept: the check reports it missing
    return "\n\n".join(pieces), "the lesson functions in __main__"


def collect_code():
    """(file name, its text, where it came from) for what is defined right now."""
    shell = _ipython()
    if shell is not None and getattr(shell, "history_manager", None) is not None:
        return CHECK_FILE, kernel_notebook(kernel_cells(shell)), "the cells this kernel ran"
    main = sys.modules.get("__main__")
    if main is None:
        raise CheckError("no notebook kernel and no __main__ module: nothing to check")
    return (SCRIPT_FILE, *main_module_source(main))


# --- running it -----------------------------------------------------------------------------------

def _time_limit(rubric, items):
    """The grader's own limits for these items (a restart after each lost item), plus a margin."""
    limits = rubric.limits
    chosen = [item for item in rubric.items if item.self_check and (not items or item.id in items)]
    per_item = sum(item.seconds + limits.import_seconds for item in chosen)
    return limits.import_seconds + per_item + limits.notebook_margin_seconds


def run_check(code, items=(), source="the cells this kernel ran", file_name=CHECK_FILE):
    """Run ``autograder check`` on ``code`` (the text of ``file_name``) in a separate process;
    (results.json dict, text report), notebook cells named as the kernel numbers them."""
    rubric = load_rubric()
    known = [item.id for item in rubric.items if item.self_check]
    unknown = [item for item in items if item not in known]
    if unknown:
        raise CheckError(f"no self-check item named {unknown[0]!r}; the items are {', '.join(known)}")
    with tempfile.TemporaryDirectory(prefix="autograder-notebook-") as tmp:
        code_path, json_path = Path(tmp) / file_name, Path(tmp) / "results.json"
        code_path.write_text(code)
        command = [sys.executable, "-m", "autograder", "check", file_name, "--json", str(json_path)]
        if items:
            command += ["--only", *items]
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                                  timeout=_time_limit(rubric, items), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CheckError("the self-check went past the grader's own time limits and was stopped") from None
        if done.returncode != 0 or not json_path.is_file():
            reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise CheckError(f"the self-check could not run: {reason}")
        report = done.stdout.replace(f": {file_name}\n", f": {source}\n", 1)     # the title names the code's source
        results = json.loads(json_path.read_text())
        if file_name != CHECK_FILE:
            return results, report
        results["output"] = in_kernel_terms(results.get("output", ""))
        for test in results.get("tests", []):
            test["output"] = in_kernel_terms(test.get("output", ""))
        return results, in_kernel_terms(report)


def check(*items):
    """Self-check the lesson's functions as they are defined now; show the result inline.

    ``items``: self-check item ids (``"make_windows"``...); none means every item.
    In IPython it displays the table and returns None (a returned value would show twice);
    elsewhere it prints the report and returns a ``CheckOutcome`` (``results``: results.json).
    """
    for item in items:
        if not isinstance(item, str):
            raise CheckError(f"check() takes item ids as strings, got {item!r}")
    file_name, code, source = collect_code()
    results, report = run_check(code, tuple(items), source, file_name)
    outcome = CheckOutcome(results, report, source)
    if _ipython() is not None:
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(report)
        else:
            display(HTML(outcome._repr_html_()))
    else:
        print(report)
    return None if _ipython() is not None else outcome


# --- showing it -----------------------------------------------------------------------------------

TABLE_STYLE = ("border-collapse:collapse;font-family:sans-serif;font-size:13px",
               "border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top")


def html_table(results, source="the cells this kernel ran"):
    """results.json as a table: item, points, feedback (with the smallest failing input). All escaped."""
    table, cell = TABLE_STYLE
    rows = []
    for test in results.get("tests", []):
        passed = test["score"] >= test["max_score"]
        colour = "#e6f4ea" if passed else "#fce8e6"
        item = (test.get("tags") or [test.get("name", "")])[0]
        rows.append(
            f'<tr style="background:{colour}">'
            f'<td style="{cell}"><code>{html.escape(str(item))}</code></td>'
            f'<td style="{cell};white-space:nowrap">{test["score"]:g}/{test["max_score"]:g}</td>'
            f'<td style="{cell}"><pre style="margin:0;white-space:pre-wrap">{html.escape(str(test["output"]))}</pre>'
            f"</td></tr>")
    total = sum(t["score"] for t in results.get("tests", []))
    most = sum(t["max_score"] for t in results.get("tests", []))
    imported = ""
    output = results.get("output", "")
    if "could not be imported" in output:
        imported = f'<pre style="white-space:pre-wrap">{html.escape(output)}</pre>'
    return (f'<div class="autograder-check"><p><b>Self-check on public data</b> '
            f"of {html.escape(source)}: <b>{total:g}/{most:g}</b></p>{imported}"
            f'<table style="{table}"><tr><th style="{cell}">item</th><th style="{cell}">points</th>'
            f'<th style="{cell}">feedback</th></tr>{"".join(rows)}</table>'
            "<p><small>Your grade uses series you have not seen: aim for code that is right in general."
            "</small></p></div>")


__all__ = ["check", "CheckError"]
