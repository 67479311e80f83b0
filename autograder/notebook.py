"""``check()`` in a notebook cell: the self-check on the code the kernel holds now, no saved file.

In Colab the notebook is not a file on the runtime's disk, so ``autograder check
PATH`` cannot reach it; Otter users expect ``grader.check("q1")`` in a cell. So:

    from autograder.notebook import check
    check()                                            # every self-check item
    check("make_windows", "make_windows_multifeature") # a few

collects the cells the kernel ran (IPython's raw input history, in execution
order, the check cells' own statements left out as grading leaves them out), writes them to a temporary ``.py`` file and runs
``python -m autograder check FILE --json OUT`` in a separate process: the
kernel's state (patched modules, globals) cannot reach the grader, and a hang
ends at the grader's own limits, not the kernel's. Each cell runs in that file
as the kernel ran it: in the module's namespace, where an error ends that cell
only (the kernel kept going too). Outside IPython, the source of ``__main__``
(its file, or each lesson function's source) is checked instead.

The result appears inline as an HTML table (item, points, feedback with the
smallest failing input), everything escaped; in a plain terminal, as the text
report.
"""

import html
import inspect
import json
import keyword
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.rubric import load_rubric
from autograder.submission import grading_source, imported_packages, without_self_check

# The lesson's names (../shared/spec/lesson-api.md), for code typed where no file or history holds it.
API_NAMES = ("make_series", "check_series", "check_window_size", "check_target_col", "make_windows", "time_split",
             "check_windows", "naive_forecast", "naive_mse", "LSTMForecaster", "GRUForecaster", "train_model",
             "predict", "compare_window_sizes", "two_feature_series", "rolling_forecast", "Standardizer",
             "prepare_data", "run_lab")
LESSON_IMPORTS = "import numbers\n\nimport numpy as np\nimport torch\nfrom torch import nn\n"
CHECK_FILE = "kernel_cells.py"       # the name errors in the report point at, outside IPython


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
    """[(label, source)] of every cell the kernel ran, oldest first, the self-check's statements removed.

    Raw history, not ``In``: IPython rewrites magics there into ``get_ipython()`` calls, which
    mean nothing in the grader; the grader's own rule (``grading_source``) turns them into ``pass``.
    """
    raw = list(shell.history_manager.input_hist_raw)
    numbered = [(f"In [{number}]", grading_source(source)) for number, source in enumerate(raw)
                if number > 0 and source.strip()]
    # Exactly what grading the notebook removes: any other import of autograder stays, and the
    # check then says what the grade would say (the submission imports the grader).
    return list(zip([label for label, _ in numbered], without_self_check([source for _, source in numbered])))


def kernel_module(cells):
    """The temporary module's text: each cell run in order, an error ending that cell alone.

    Cell code is inside strings here, so the imports it makes are repeated under ``if False:``
    where the grader's import rules see them as in a notebook: no ``solutions``, no ``autograder``,
    and nothing grading does not provide (a pandas the kernel has is not a pandas the grade has).
    """
    blocked = sorted({name for _, source in cells for name in imported_packages(source)
                      if name.isidentifier() and not keyword.iskeyword(name)})
    lines = ['"""The cells this kernel ran, collected by autograder.notebook for the self-check."""',
             "",
             "def display(*objects, **options): pass  # IPython's display(): shows nothing when checked",
             ""]
    if blocked:
        lines += ["if False:  # imports the cells make, for the grader's import rules"]
        lines += [f"    import {name}" for name in blocked] + [""]
    lines.append("_kernel_cells = [")
    lines += [f"    ({label!r}, {source!r})," for label, source in cells]
    lines += ["]",
              "for _cell_label, _cell_source in _kernel_cells:",
              "    try:",
              "        exec(compile(_cell_source, _cell_label, 'exec'), globals())",
              "    except (Exception, SystemExit):     # the kernel went on after a failing cell; so does the check",
              "        pass",
              "del _kernel_cells, _cell_label, _cell_source",
              ""]
    return "\n".join(lines)


def main_module_source(main):
    """Outside IPython: ``__main__``'s file without the self-check's statements, else its lesson functions."""
    path = getattr(main, "__file__", None)
    if path and Path(path).is_file():
        return without_self_check([Path(path).read_text()])[0], "this script's file"
    pieces = [LESSON_IMPORTS]
    for name in API_NAMES:
        value = getattr(main, name, None)
        if value is None:
            continue
        try:
            pieces.append(inspect.getsource(value))
        except (OSError, TypeError):
            continue                # typed at a prompt with no source kept: the check reports it missing
    return "\n\n".join(pieces), "the lesson functions in __main__"


def collect_code():
    """(module text, where it came from) for what is defined right now."""
    shell = _ipython()
    if shell is not None and getattr(shell, "history_manager", None) is not None:
        return kernel_module(kernel_cells(shell)), "the cells this kernel ran"
    main = sys.modules.get("__main__")
    if main is None:
        raise CheckError("no notebook kernel and no __main__ module: nothing to check")
    return main_module_source(main)


# --- running it -----------------------------------------------------------------------------------

def _time_limit(rubric, items):
    """The grader's own limits for these items (a restart after each lost item), plus a margin."""
    limits = rubric.limits
    chosen = [item for item in rubric.items if item.check and (not items or item.id in items)]
    per_item = sum(item.seconds + limits["import_seconds"] for item in chosen)
    return limits["import_seconds"] + per_item + limits["notebook_margin_seconds"]


def run_check(code, items=(), source="the cells this kernel ran"):
    """Run ``autograder check`` on ``code`` in a separate process; (results.json dict, text report)."""
    rubric = load_rubric()
    known = [item.id for item in rubric.items if item.check]
    unknown = [item for item in items if item not in known]
    if unknown:
        raise CheckError(f"no self-check item named {unknown[0]!r}; the items are {', '.join(known)}")
    with tempfile.TemporaryDirectory(prefix="autograder-notebook-") as tmp:
        code_path, json_path = Path(tmp) / CHECK_FILE, Path(tmp) / "results.json"
        code_path.write_text(code)
        command = [sys.executable, "-m", "autograder", "check", CHECK_FILE, "--json", str(json_path)]
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
        report = done.stdout.replace(f": {CHECK_FILE}\n", f": {source}\n", 1)     # the title names the code's source
        return json.loads(json_path.read_text()), report


def check(*items):
    """Self-check the lesson's functions as they are defined now; show the result inline.

    ``items``: self-check item ids (``"make_windows"``...); none means every item.
    In IPython it displays the table and returns None (a returned value would show twice);
    elsewhere it prints the report and returns a ``CheckOutcome`` (``results``: results.json).
    """
    for item in items:
        if not isinstance(item, str):
            raise CheckError(f"check() takes item ids as strings, got {item!r}")
    code, source = collect_code()
    results, report = run_check(code, tuple(items), source)
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
