"""What a student handed in, as the one Python source the worker imports, and the import rule.

``load_submission`` takes the file ``submitted_file`` chooses; a notebook's code cells become one
module (``notebook_reader``). The imports are read from that source without running it: the
reference and the grader are off limits, and a package grading does not provide is refused by
the same verdict wherever the code runs (``import_verdict``).
"""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook_reader import LineMap, cell_spans, notebook_source, python_lines
from autograder.sandbox.protocol import KIT_PACKAGES
from autograder.submitted_file import UngradablePath, find_submission_file, read_submission_file, shown_path


@dataclass
class Submission:
    """One graded file as the worker will import it, with what its imports are."""
    path: Path          # the graded file, as reports name it (``shown_path``)
    kind: str           # "py" or "ipynb"
    code: str           # the Python source the worker imports
    forbidden: list     # imports of the reference or the grader found in the source
    line_map: LineMap = field(default_factory=LineMap)
    imports: set = field(default_factory=set)     # every package the source imports (``imported_packages``)
    required: set = field(default_factory=set)    # those it cannot do without: not under ``except ImportError``


def load_submission(path):
    base, parts = find_submission_file(path)
    graded = shown_path(base, parts)
    raw = read_submission_file(base, parts)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UngradablePath(f"{graded}: not UTF-8 text") from None
    if graded.suffix == ".py":
        imports, required = imported_packages(text), imported_packages(text, guarded=False)
        return Submission(graded, "py", text, _blocked(imports), LineMap(filename=graded.name), imports, required)
    code, line_map = notebook_source(text, graded)
    lines = python_lines(code)
    # Cell by cell, as they run: a syntax error in one cell hides no other cell's imports.
    cells = ["\n".join(lines[first - 1:last]) for _, first, last in cell_spans(line_map)]
    imports = set().union(*(imported_packages(cell) for cell in cells))
    required = set().union(*(imported_packages(cell, guarded=False) for cell in cells))
    return Submission(graded, "ipynb", code, _blocked(imports), line_map, imports, required)


def import_verdict(submission, provided):
    """The one verdict on a submission's imports, or "": the same for ``grade``, ``check`` and a
    notebook's ``check()`` wherever they run, since it is read from the source, not from what the
    machine has installed (Colab has pandas; the grading image has not)."""
    if submission.forbidden:
        return (f"the submission imports {', '.join(submission.forbidden)}: the reference and the grader are "
                "off limits, and copying them earns nothing")
    others = sorted(name for name in submission.required
                    if name not in sys.stdlib_module_names and name not in provided and name != "__main__")
    if not others:
        return ""
    return (f"the submission imports {', '.join(others)}, which grading does not provide (it has Python's standard "
            f"library and {', '.join(provided)} only): remove {'that import' if len(others) == 1 else 'those imports'}"
            " and do the same with numpy or torch")


IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")


def _guarded(tree):
    """Nodes inside the body of a ``try`` that catches a failed import (``except ImportError``, a
    broader class, or a bare ``except``): code that runs on without the package."""
    inside = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = []
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught += [None if kind is None else getattr(kind, "id", getattr(kind, "attr", "")) for kind in kinds]
        if None in caught or set(caught) & set(IMPORT_ERRORS):
            inside.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return inside


def imported_packages(code, guarded=True):
    """Top-level names of the packages the source imports, found without running it (empty if it does not parse).

    ``import a.b``, ``from a.b import c``, ``__import__("a")`` and ``importlib.import_module("a")``
    with a literal name; relative imports are the submission's own and are not counted.
    ``guarded=False`` leaves out imports under ``except ImportError`` (the code does without them).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()           # the worker reports the syntax error with its line
    skipped = set() if guarded else _guarded(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
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
        found.update(name.split(".")[0] for name in names)
    return found


def _blocked(packages):
    return sorted(set(packages) & set(KIT_PACKAGES))


def forbidden_imports(code):
    """Names of blocked packages the source imports, found without running it."""
    return _blocked(imported_packages(code))
