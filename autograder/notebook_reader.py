"""A Jupyter notebook as the grader reads it, and runs it: one module, cell by cell.

The code cells become one Python module (``notebook_source``): magics, shell lines and help syntax
become ``pass``, the in-notebook self-check's own lines are dropped, and a ``LineMap`` remembers
which cell and line each line came from, so errors name them. The worker then runs that module
cell by cell as Jupyter does (``worker_source``): a cell that raises ends itself alone.
"""

import ast
import json
import re
import warnings

import nbformat

from autograder.safe_text import printable
from autograder.sandbox.protocol import SUBMISSION_FILE
from autograder.submitted_file import UngradablePath


class LineMap:
    """Where each line of the code the worker imports came from, for errors a student can find.

    The worker runs the code as ``<its temporary folder>/submission.py``. For a .py
    file, errors name the student's own file instead (the same text on every run);
    for a notebook, a cell and a line of it. Cells are numbered as a reader counts
    them from the top of the notebook: the Nth cell, 1-based, markdown cells included.
    Lines inside a cell are 1-based.
    """

    _TRACEBACK = re.compile(r'File "(?:[^"\n]*/)?submission\.py", line (\d+)')
    _MESSAGE = re.compile(r"(?<![\w.])(?:/[^\s(),'\"]*/)?submission\.py, line (\d+)")
    _WARNING = re.compile(r"(?<![\w.])(?:/[^\s:'\"]*/)?submission\.py:(\d+):")    # what warnings print

    def __init__(self, origins=None, filename=SUBMISSION_FILE):
        self.origins = origins            # None for a .py file; else [(cell, line) or None] per code line
        self.filename = filename          # the name a .py file's errors are reported under

    def where(self, line):
        """'notebook cell C, line L' for a line of the joined notebook code (1-based), else None."""
        if self.origins is None or not 1 <= line <= len(self.origins):
            return None
        origin = self.origins[line - 1]
        if origin is None:
            following = next((o for o in self.origins[line:] if o is not None), None)
            return f"notebook, before cell {following[0]}" if following else "notebook, after the last cell"
        return f"notebook cell {origin[0]}, line {origin[1]}"

    def translate(self, text):
        """Rewrite the worker's 'File ".../submission.py", line N', '(.../submission.py, line N)' and, as
        warnings print it, '.../submission.py:N:'. The worker's folder is new on every run, so a report
        that kept it would differ each time the same submission is graded."""
        if not text:
            return text

        def in_traceback(match):
            line = int(match.group(1))
            return self.where(line) or f'File "{self.filename}", line {line}'

        def in_message(match):
            line = int(match.group(1))
            return self.where(line) or f"{self.filename}, line {line}"

        def in_warning(match):
            line = int(match.group(1))
            return f"{self.where(line) or f'{self.filename}:{line}'}:"

        text = self._TRACEBACK.sub(in_traceback, text)
        return self._WARNING.sub(in_warning, self._MESSAGE.sub(in_message, text))


# --- notebooks ------------------------------------------------------------------------------------

def python_lines(source):
    """Lines as Python counts them (\\n, \\r\\n, \\r), not str.splitlines (which also splits on \\f, \\u2028...)."""
    return re.split(r"\r\n|\r|\n", source)


def _notebook_cells(text, path):
    """The notebook's cells as (cell_type, source text), or UngradablePath with what is wrong."""
    def bad(why):
        return UngradablePath(f"{path}: not a readable Jupyter notebook ({why})")

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise bad(f"not valid JSON: {getattr(exc, 'msg', exc)} at line {getattr(exc, 'lineno', '?')}") from None
    except RecursionError:
        raise bad("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise bad("the file is JSON but not a notebook object")
    version = data.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad("no nbformat version number")
    if version == 4:
        _check_cells(data.get("cells"), bad)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.convert(nbformat.from_dict(data), 4) if version != 4 else data
            nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise bad(f"nbformat validation failed: {str(exc.message).splitlines()[0][:200]}") from None
    except RecursionError:
        raise bad("nested too deeply") from None
    except Exception as exc:  # noqa: BLE001  (old formats convert through code that raises several kinds)
        raise bad(f"{type(exc).__name__} while reading it") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    _check_cells(cells, bad)
    return [(cell["cell_type"], cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"]))
            for cell in cells]


def _check_cells(cells, bad):
    if not isinstance(cells, list):
        raise bad("'cells' is not a list")
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise bad(f"cell {number} is not an object")
        if not isinstance(cell.get("cell_type"), str):
            raise bad(f"cell {number} has no cell_type")
        source = cell.get("source")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise bad(f"cell {number} has a source that is not text or a list of text lines")


# IPython's help syntax, `nn.LSTM?`, `??torch.cat`: a notebook aid, not Python.
IPYTHON_HELP = re.compile(r"^(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


def grading_source(source):
    """A cell's source with magics, shell lines and help syntax turned into ``pass`` (same line count)."""
    lines = []
    for line in python_lines(source):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or IPYTHON_HELP.match(stripped):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}pass  # notebook magic removed for grading: {stripped[:60]}")
        else:
            lines.append(line)
    return "\n".join(lines)


# --- the in-notebook self-check's own lines (autograder.notebook) ------------------------------

SELF_CHECK_MODULE = "autograder.notebook"
SELF_CHECK_REMOVED = "pass  # self-check removed for grading"


def _self_check_import(node):
    """``from autograder.notebook import check`` (nothing else from it, no alias)."""
    return (isinstance(node, ast.ImportFrom) and node.module == SELF_CHECK_MODULE and node.level == 0
            and [(a.name, a.asname) for a in node.names] == [("check", None)])


def _self_check_call(node):
    """``check("item", ...)``: a call of ``check`` on item ids, as the generated check cells make."""
    call = node.value if isinstance(node, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check"
            and not call.keywords and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                          for a in call.args))


def without_self_check(sources):
    """Cell sources with the self-check's top-level statements replaced by ``pass`` (same line count).

    The check cells (``from autograder.notebook import check`` then ``check("make_windows")``) would
    import the grader and run a nested check if graded. Only those exact statements go, and only
    on lines no other statement shares; ``check(...)`` calls only where the notebook imports that
    ``check``. Anything else importing autograder stays, and the import rule refuses it as always.
    """
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            trees.append(None)          # the worker reports it with its line
    imported = any(_self_check_import(node) for tree in trees if tree for node in tree.body)
    result = []
    for source, tree in zip(sources, trees):
        if tree is None or not imported:
            result.append(source)
            continue
        spans = [(set(range(node.lineno, node.end_lineno + 1)), _self_check_import(node) or _self_check_call(node))
                 for node in tree.body]
        keep = set().union(*(lines for lines, is_check in spans if not is_check))
        drop = set().union(*(lines for lines, is_check in spans if is_check and not lines & keep))
        lines = python_lines(source)
        result.append("\n".join(SELF_CHECK_REMOVED if number in drop else line
                                for number, line in enumerate(lines, start=1)))
    return result


def notebook_code(text, path="notebook"):
    """The code cells of a notebook as one module (see ``notebook_source``)."""
    return notebook_source(text, path)[0]


def notebook_source(text, path="notebook"):
    """(code, LineMap): the code cells as one module, each marked ``# --- notebook cell N ---``.

    N is the cell's position in the notebook, 1-based, markdown cells included:
    what a student counts scrolling down, and what ``LineMap`` reports errors by.
    """
    parts, origins = [], []
    numbered = [(number, source) for number, (cell_type, source) in enumerate(_notebook_cells(text, path), start=1)
                if cell_type == "code"]
    sources = without_self_check([grading_source(source) for _, source in numbered])
    for (number, _), source in zip(numbered, sources):
        lines = python_lines(source)
        if parts:
            origins.append(None)                              # the blank line between cells
        origins.append(None)                                  # the marker comment
        origins += [(number, index) for index in range(1, len(lines) + 1)]
        parts.append(f"# --- notebook cell {number} ---\n" + "\n".join(lines))
    # Jupyter provides display() without an import; graded, it shows nothing.
    shim = "def display(*objects, **options): pass  # IPython's display(): shows nothing when graded\n"
    return shim + "\n\n".join(parts) + "\n", LineMap([None] + origins)


# --- running a notebook cell by cell -------------------------------------------------------------

CELL_FAILURES = "_autograder_cell_failures"     # the function the runner leaves for the grader to ask

CELL_RUNNER = '''"""The notebook's code cells, run one by one as Jupyter runs them (autograder.notebook_reader).

A cell that raises ends itself alone: what it defined before the error stays, the cells after it
run, and the grader asks {failures}() which cells raised, to report them by number.
"""


def _autograder_run_cells(source, cells, namespace):
    import ast
    import linecache

    lines = source.splitlines(True)
    # Tracebacks and inspect read the notebook's code, not this runner, under the module's file name.
    linecache.cache[__file__] = (len(source), None, lines, __file__)
    failed = []
    for label, first, last in cells:
        try:
            tree = ast.parse("".join(lines[first - 1:last]), __file__)
        except SyntaxError as exc:
            failed.append((label, exc.lineno or 1, "SyntaxError", str(exc.msg)))
            continue
        ast.increment_lineno(tree, first - 1)
        code = compile(tree, __file__, "exec")
        try:
            exec(code, namespace)
        except (Exception, SystemExit) as exc:      # the kernel goes on after a failing cell; so does grading
            line, frame = first, exc.__traceback__
            while frame is not None:
                if frame.tb_frame.f_code is code:
                    line = frame.tb_lineno
                frame = frame.tb_next
            failed.append((label, line - first + 1, type(exc).__name__, str(exc)[:300]))
    return failed


def {failures}(_failed=_autograder_run_cells({source!r}, {cells!r}, globals())):
    return list(_failed)
'''


def cell_spans(line_map):
    """[(cell number, first line, last line)] of each notebook cell in the joined code, from its LineMap."""
    spans = []
    for number, origin in enumerate(line_map.origins or [], start=1):
        if origin is None:
            continue
        if spans and spans[-1][0] == origin[0] and spans[-1][2] == number - 1:
            spans[-1][2] = number
        else:
            spans.append([origin[0], number, number])
    return [tuple(span) for span in spans]


def worker_source(submission):
    """What the worker imports: a .py file as it is; a notebook's code run cell by cell (CELL_RUNNER),
    its line numbers those of ``submission.code``, so the LineMap names cells as before."""
    if submission.kind != "ipynb":
        return submission.code
    shim, _ = submission.code.split("\n", 1)
    return shim + "\n\n" + CELL_RUNNER.format(failures=CELL_FAILURES, source=submission.code,
                                               cells=cell_spans(submission.line_map))


def describe_cell_failures(failures):
    """The grader's lines for the cells that raised (what ``CELL_FAILURES`` answered), malformed ones left out."""
    lines = []
    for failure in failures if isinstance(failures, list) else []:
        if not (isinstance(failure, tuple) and len(failure) == 4 and isinstance(failure[0], int)
                and isinstance(failure[1], int) and all(isinstance(part, str) for part in failure[2:])):
            continue
        number, line, kind, message = failure
        lines.append(printable(f"notebook cell {number}, line {line} raised {kind}: {message}"))
    return lines
