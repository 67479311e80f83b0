"""Make the student files from the reference, as Otter's ``assign`` and nbgrader do.

``solutions/sequence_modeling.py`` marks each region students write with
``# BEGIN SOLUTION`` / ``# END SOLUTION``; the region's ``# HINT:`` lines become
the message of the ``NotImplementedError`` that replaces it. ``# BEGIN ANSWER`` /
``# END ANSWER`` mark the reference's answers to the exercises' questions: each
``NAME = value  # allowed values`` becomes ``NAME = None  # allowed values``. Everything
outside the markers (signatures, docstrings, ``make_series``, ``run_lab``) is copied.

One source, two outputs: ``lessons/sequence_modeling.py`` and the notebook
``lessons/sequence_modeling.ipynb`` (one code cell per section of the stub
file). The same command rewrites the comment at the end of
``autograder/rubric.toml`` that shows every default, since a new item brings
defaults of its own. ``tests/test_assign.py`` fails whenever the committed files
differ from what this module produces, so they never drift from the reference
and the declarations.
"""

import re
import textwrap
from pathlib import Path

import nbformat

from autograder import rubric
from autograder.items import registry

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "sequence_modeling.py"
STUB_FILE = ROOT / "lessons" / "sequence_modeling.py"
NOTEBOOK_FILE = ROOT / "lessons" / "sequence_modeling.ipynb"

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
BEGIN_ANSWER = re.compile(r"^# BEGIN ANSWER\s*$")
END_ANSWER = re.compile(r"^# END ANSWER\s*$")
ANSWER_NAME = re.compile(r"^([A-Z][A-Z0-9_]*) = ")
# The stub's first line of each answer block: the notebook gives the block a cell of its own.
ANSWER_HEADER = "# Your answer: replace each None (the comment says what is allowed)."
HINT = re.compile(r"^\s*# HINT:\s?(.*)$")
SECTION = re.compile(r"^# (Given|Input checks|Step \d+|Exercises|The real-project path|The lesson's lab)")

STUDENT_DOCSTRING = '''"""Lesson 6.4.4, Sequence Modeling in Practice: your implementation.

Fill in every function that raises ``NotImplementedError``; its message says
what to compute and with which shapes. Edit only those bodies: the names,
signatures and the given code (``make_series``, ``run_lab``) are what the
autograder calls.

Check your progress at any time:

    autograder check lessons/sequence_modeling.py

Run the lab once everything is filled in:

    python lessons/sequence_modeling.py
"""
'''


class MarkerError(ValueError):
    """The reference's solution markers are unbalanced or a region has no hint."""


def _stub_lines(indent, hint_lines):
    """The ``raise NotImplementedError(...)`` that replaces one solution region."""
    hint = " ".join(line.strip() for line in hint_lines if line.strip())
    pieces = textwrap.wrap(hint, width=88 - len(indent) - 6) or [""]
    # Adjacent string literals join; repr() keeps quotes and backslashes valid Python.
    body = [f"{indent}    {(piece + (' ' if i < len(pieces) - 1 else ''))!r}" for i, piece in enumerate(pieces)]
    return [f"{indent}raise NotImplementedError(", *body, f"{indent})"]


def make_stub_source(reference):
    """Turn the reference's text into the student file's text."""
    lines = reference.splitlines()
    docstring_end = _module_docstring_end(lines)
    out = STUDENT_DOCSTRING.splitlines()
    i = docstring_end
    while i < len(lines):
        if BEGIN_ANSWER.match(lines[i]):
            answer, i = _answer_stub(lines, i + 1)
            out.extend(answer)
            continue
        begin = BEGIN.match(lines[i])
        if not begin:
            if END.match(lines[i]):
                raise MarkerError(f"line {i + 1}: END SOLUTION without BEGIN SOLUTION")
            out.append(lines[i])
            i += 1
            continue
        indent, hints, i = begin.group(1), [], i + 1
        while i < len(lines) and not END.match(lines[i]):
            if BEGIN.match(lines[i]):
                raise MarkerError(f"line {i + 1}: BEGIN SOLUTION inside another solution region")
            hint = HINT.match(lines[i])
            if hint:
                hints.append(hint.group(1))
            i += 1
        if i == len(lines):
            raise MarkerError("a BEGIN SOLUTION region is never closed")
        if not hints:
            raise MarkerError(f"the solution region before line {i + 1} has no HINT line")
        out.extend(_stub_lines(indent, hints))
        i += 1
    return "\n".join(out) + "\n"


def _answer_stub(lines, i):
    """The placeholders for the answer region starting at line ``i``, and the line after its end:
    each name set to None, keeping the reference line's comment (the allowed values)."""
    out = [ANSWER_HEADER]
    while i < len(lines) and not END_ANSWER.match(lines[i]):
        name = ANSWER_NAME.match(lines[i])
        if name:
            comment = re.search(r"\s{2,}(# .*)$", lines[i])
            placeholder = f"{name.group(1)} = None"
            if comment:
                placeholder = placeholder.ljust(comment.start(1) if comment.start(1) > len(placeholder) + 1
                                                else len(placeholder) + 2) + comment.group(1)
            out.append(placeholder)
        i += 1
    if i == len(lines):
        raise MarkerError("a BEGIN ANSWER region is never closed")
    if len(out) == 1:
        raise MarkerError(f"the answer region before line {i + 1} sets no NAME = value")
    return out, i + 1


def _module_docstring_end(lines):
    """Index of the first line after the module docstring."""
    if not lines or not lines[0].startswith('"""'):
        return 0
    if lines[0].count('"""') >= 2:
        return 1
    for i in range(1, len(lines)):
        if '"""' in lines[i]:
            return i + 1
    raise MarkerError("the module docstring is never closed")


# --- the notebook ----------------------------------------------------------

INTRO = """# Lesson 6.4.4: Sequence Modeling in Practice

In this notebook you turn a continuous series into a small forecasting project:

**series → sliding windows → time-ordered split → naive baseline → LSTM → validation MSE → inspect predictions**

Work top to bottom. Each code cell holds functions to complete: replace every
`raise NotImplementedError(...)` with your code (its message is a hint). Keep
the names and signatures; the autograder calls them.

Check your progress whenever you like: run the "Check your work so far" cell
after each step. It checks the functions as this notebook holds them right now
(no need to save), on public data, in a separate process. It needs the
self-check installed (`pip install` the hand-out folder; in Colab, run
`!pip install` on it in a cell first). From a terminal the same check is
`autograder check lessons/sequence_modeling.ipynb`.
"""

SECTION_TEXT = {
    "Given": "## The series\n\n`make_series` is given: two sine waves and a little noise. "
             "It uses its own random generator, so it never moves numpy's global state.",
    "Input checks": "## Input checks\n\nBad input should fail loudly with a `ValueError` that names the "
                    "problem, never with a strange shape later on. Write these small helpers and use them "
                    "in the functions below.",
    "Step 1": "## Step 1: sliding windows\n\nWith `window_size = 3`, the series `[1, 2, 3, 4, 5, 6]` "
              "gives the rows `[1, 2, 3] → 4`, `[2, 3, 4] → 5`, `[3, 4, 5] → 6`. The target is the value "
              "*after* the window, never the window's last value.\n\nShapes: `X` is "
              "`(n - w, w, features)`, `y` is `(n - w, 1)`: the `[batch, seq_len, input_size]` layout "
              "that `batch_first=True` recurrent layers read.",
    "Step 2": "## Step 2: a time-ordered split\n\nTrain on the past, validate on the future. A random "
              "split lets future values leak into training and makes validation look better than it is.",
    "Step 3": "## Step 3: the naive baseline\n\nPredict that the next value equals the last one you saw. "
              "A model is only worth trusting once it beats this.",
    "Step 4": "## Step 4: the forecasters\n\nAn LSTM reads the window; a linear layer turns the hidden "
              "state of the **last time step** into one number. Create the LSTM first, then the linear layer.",
    "Step 5": "## Step 5: training and prediction\n\nFull-batch Adam on the MSE, the gradient norm clipped "
              "before each step, validation in eval mode without gradients.",
    "Exercises": "## Exercises\n\n1. Compare window sizes 8, 16 and 32.\n2. Swap the LSTM for a GRU.\n"
                 "3. Train without gradient clipping (`clip_norm=None`).\n4. Add a second feature, "
                 "`cos(0.12 t)`.\n5. Forecast several steps by feeding predictions back into the window.",
    "The real-project path": "## Scaling like a real project\n\nReal series need scaling. Fit the scaler "
                             "on the values training windows see, and only those: statistics of the "
                             "validation period would leak the future.",
    "The lesson's lab": "## The lab\n\n`run_lab` runs the whole workflow and prints what the lesson prints.",
}

RUN_CELL = """# Runs the lab and plots validation predictions. The autograder skips this cell:
# in a notebook __name__ is "__main__", in the grader it is not.
if __name__ == "__main__":
    import matplotlib.pyplot as plt

    lab = run_lab()
    naive = naive_forecast(lab["X_val"])
    model_mse = float(((lab["val_pred"] - lab["y_val"]) ** 2).mean())
    plt.figure(figsize=(10, 4))
    plt.plot(lab["y_val"].squeeze(-1).numpy(), label="true")
    plt.plot(lab["val_pred"].squeeze(-1).numpy(), label="pred")
    plt.plot(naive.squeeze(-1).numpy(), label="naive", linestyle="--")
    plt.title(f"Validation: model MSE {model_mse:.4f}, naive MSE {naive_mse(lab['X_val'], lab['y_val']):.4f}")
    plt.xlabel("validation step")
    plt.legend()
    plt.grid(True, alpha=0.3)
    plt.show()
"""

OUTRO = """## Before you submit

Look at the plot: does the prediction **lag** the truth, **flatline** near the
mean, **miss peaks**, or look **noisy**? Each has a fix in the lesson guide
(`lessons/README.md`). Then run the whole self-check once more, below.
"""

ANSWER_TEXT = ("### Your answer\n\nWrite what **your own** code measured: the grader runs your functions on the "
               "lesson's series and checks each claim against their numbers (only where they are clear-cut). "
               "The `WHY_` text is read by your instructor.")

# The self-check cells (autograder.notebook) follow the sections their items' @item(after=...) names
# (checks.registry.checks_after). The grader skips these cells (notebook_reader.without_self_check), so they
# never run nested.
CHECK_TEXT = "Check your work so far: this runs the self-check on the functions as the notebook holds them now."


def check_cell_source(items=()):
    """``from autograder.notebook import check`` and ``check(...)``: the cell the grader recognises and skips."""
    arguments = ", ".join(f'"{item}"' for item in items)
    return f"from autograder.notebook import check\n\ncheck({arguments})"


def _split_sections(stub_source):
    """Split the stub file into (title, code) pieces at its section banners."""
    lines = stub_source.splitlines()
    body = lines[_module_docstring_end(lines):]
    sections, title, current = [], "Imports", []
    i = 0
    while i < len(body):
        # A banner is a dashed line, a "# Title" line, and a dashed line.
        if body[i].startswith("# ---") and i + 2 < len(body) and SECTION.match(body[i + 1]):
            sections.append((title, "\n".join(current).strip("\n")))
            title, current = SECTION.match(body[i + 1]).group(1), []
            i += 3
            continue
        current.append(body[i])
        i += 1
    sections.append((title, "\n".join(current).strip("\n")))
    return [(t, code) for t, code in sections if code]


def split_answers(code):
    """(code without its answer blocks, [answer block]): a block is the question's comment lines,
    the ANSWER_HEADER and the placeholders, up to the next blank line."""
    lines = code.splitlines()
    kept, answers, i = [], [], 0
    while i < len(lines):
        if lines[i] != ANSWER_HEADER:
            kept.append(lines[i])
            i += 1
            continue
        start = len(kept)
        while start > 0 and kept[start - 1].startswith("#"):
            start -= 1
        block, kept = kept[start:], kept[:start]
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        answers.append("\n".join(block))
    return re.sub(r"\n{3,}", "\n\n\n", "\n".join(kept)).strip("\n"), answers


def answer_cells(answers):
    """A heading and a code cell per answer block."""
    cells = []
    for block in answers:
        cells.append(nbformat.v4.new_markdown_cell(ANSWER_TEXT))
        cells.append(nbformat.v4.new_code_cell(block))
    return cells


def check_cells(title):
    """The "check your work so far" cells after a section, if it has one."""
    checks_after = registry.checks_after()
    if title not in checks_after:
        return []
    return [nbformat.v4.new_markdown_cell(CHECK_TEXT),
            nbformat.v4.new_code_cell(check_cell_source(checks_after[title]))]


def make_notebook(stub_source):
    """The student notebook: the stub file's sections as cells, each followed by its answer cells
    (the plot's after the cell that draws it), then a cell to run the lab."""
    cells = [nbformat.v4.new_markdown_cell(INTRO)]
    after_plot = []
    for title, code in _split_sections(stub_source):
        code, answers = split_answers(code)
        own = answer_cells(answers) + check_cells(title)
        if title == "The lesson's lab":
            code = code.replace('\n\nif __name__ == "__main__":\n    run_lab()', "").rstrip()
            after_plot, own = own, []
        if title in SECTION_TEXT:
            cells.append(nbformat.v4.new_markdown_cell(SECTION_TEXT[title]))
        cells.append(nbformat.v4.new_code_cell(code))
        cells.extend(own)
    cells.append(nbformat.v4.new_code_cell(RUN_CELL.rstrip()))
    cells.extend(after_plot)
    cells.append(nbformat.v4.new_markdown_cell(OUTRO))
    cells.append(nbformat.v4.new_code_cell(check_cell_source()))
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number:02d}"      # stable ids keep the file identical run to run
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def student_files(reference_path=REFERENCE):
    """{path: text} of the student files: the stub module and the notebook."""
    stub = make_stub_source(Path(reference_path).read_text())
    return {STUB_FILE: stub, NOTEBOOK_FILE: nbformat.writes(make_notebook(stub)) + "\n"}


def generated_files(reference_path=REFERENCE):
    """{path: text} of every file this module writes: the student files, and the kit's rubric.toml with
    its comment of every default as the items now declare them."""
    return {**student_files(reference_path),
            rubric.DEFAULT_RUBRIC: rubric.with_defaults_shown(rubric.DEFAULT_RUBRIC.read_text())}


def write_generated_files(reference_path=REFERENCE):
    """Regenerate the student files and the rubric's comment of defaults; returns the paths written."""
    paths = []
    for path, text in generated_files(reference_path).items():
        path.write_text(text)
        paths.append(path)
    return paths
