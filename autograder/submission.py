"""Turn what a student handed in into one Python source the worker can import.

A submission is a ``.py`` file, a folder holding ``sequence_modeling.py`` (or
``sequence_modeling.ipynb``), or a notebook whose code cells are joined in
order. Notebook magics and shell lines (``%matplotlib``, ``!pip``) are dropped;
a cell guarded by ``if __name__ == "__main__":`` does not run when graded.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.worker import BLOCKED_PACKAGES

MODULE_FILE = "sequence_modeling"


class UngradablePath(Exception):
    """The path cannot be graded at all; the message is the one-line reason (exit 2)."""


@dataclass
class Submission:
    path: Path          # what was handed in
    kind: str           # "py" or "ipynb"
    code: str           # the Python source the worker imports
    forbidden: list     # imports of the reference or the grader found in the source


def load_submission(path):
    path = Path(path)
    if not path.exists():
        raise UngradablePath(f"{path}: no such file or folder")
    if path.is_dir():
        for candidate in (path / f"{MODULE_FILE}.py", path / f"{MODULE_FILE}.ipynb"):
            if candidate.is_file():
                return load_submission(candidate)
        raise UngradablePath(f"{path}: folder has no {MODULE_FILE}.py or {MODULE_FILE}.ipynb")
    if path.suffix not in (".py", ".ipynb"):
        raise UngradablePath(f"{path}: not a .py file, an .ipynb notebook or a folder")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UngradablePath(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UngradablePath(f"{path}: not UTF-8 text") from None
    if path.suffix == ".py":
        return Submission(path, "py", text, forbidden_imports(text))
    code = notebook_code(text, path)
    return Submission(path, "ipynb", code, forbidden_imports(code))


def notebook_code(text, path="notebook"):
    """The code cells of a notebook as one module, each cell marked by a comment."""
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001  (nbformat raises several kinds for bad JSON)
        raise UngradablePath(f"{path}: not a readable Jupyter notebook ({type(exc).__name__})") from None
    parts = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        lines = []
        for line in cell.source.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                indent = line[: len(line) - len(stripped)]
                lines.append(f"{indent}pass  # notebook magic removed for grading: {stripped[:60]}")
            else:
                lines.append(line)
        parts.append(f"# --- notebook cell {number} ---\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def forbidden_imports(code):
    """Names of blocked packages the source imports, found without running it."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []              # the worker reports the syntax error with its line
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("__import__", "import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names = [arg.value]
        for name in names:
            if name.split(".")[0] in BLOCKED_PACKAGES:
                found.add(name.split(".")[0])
    return sorted(found)
