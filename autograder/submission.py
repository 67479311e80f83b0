"""Turn what a student handed in into one Python source the worker can import.

A submission is a ``.py`` file, a notebook whose code cells run one by one
as Jupyter runs them (``worker_source``: a cell that raises ends itself alone),
or a folder. Which file of a folder is graded is decided here and only
here (``find_submission_file``), for ``grade``, ``batch`` and Gradescope alike.
Notebook magics and shell lines (``%matplotlib``, ``!pip``) are dropped; a cell
guarded by ``if __name__ == "__main__":`` does not run when graded.

Nothing here follows a symbolic link: a link to the reference would score
full marks, a link to /etc/shadow would print it in the feedback. Folders are
walked and files opened relative to an already opened folder, each step with
O_NOFOLLOW, so a link swapped in after the walk is refused too.
"""

import ast
import errno
import json
import os
import re
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.safe_text import printable
from autograder.sandbox.protocol import KIT_PACKAGES, SUBMISSION_FILE

MODULE_FILE = "sequence_modeling"
SUFFIXES = (".py", ".ipynb")
# The shape of a submission folder we are willing to walk: far beyond any real one, and small enough
# that a hostile archive (thousands of nested folders, millions of files) costs a clear refusal, not the grader.
MAX_FOLDER_DEPTH = 32
MAX_FOLDER_ENTRIES = 20_000             # counted without the skipped ones (.git, __MACOSX...)
MAX_FILE_BYTES = 64 * 2**20             # a notebook with its output images fits; /dev/zero-sized files do not


class UngradablePath(Exception):
    """The path cannot be graded at all; the message is the one-line reason (exit 2)."""

    def __init__(self, reason):
        super().__init__(" ".join(printable(reason).split()))


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
        """Rewrite the worker's 'File ".../submission.py", line N' and '(.../submission.py, line N)'."""
        if not text:
            return text

        def in_traceback(match):
            line = int(match.group(1))
            return self.where(line) or f'File "{self.filename}", line {line}'

        def in_message(match):
            line = int(match.group(1))
            return self.where(line) or f"{self.filename}, line {line}"

        return self._MESSAGE.sub(in_message, self._TRACEBACK.sub(in_traceback, text))


@dataclass
class Submission:
    path: Path          # the graded file, as reports name it (``shown_path``)
    kind: str           # "py" or "ipynb"
    code: str           # the Python source the worker imports
    forbidden: list     # imports of the reference or the grader found in the source
    line_map: LineMap = field(default_factory=LineMap)
    imports: set = field(default_factory=set)     # every package the source imports (``imported_packages``)
    required: set = field(default_factory=set)    # those it cannot do without: not under ``except ImportError``


# --- which file is graded: the one rule --------------------------------------------------------

def _link_reason(shown, what="file"):
    return f"{shown} is a symbolic link; submit the {what} itself"


def _open_dir(name, dir_fd=None, shown=None):
    """A folder's fd, opened without following a link; a link or a non-folder is UngradablePath."""
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        _raise_for(exc, name, dir_fd, shown or name, "folder")


def _raise_for(exc, name, dir_fd, shown, what):
    try:
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        is_link = False
    if is_link or exc.errno == errno.ELOOP:
        raise UngradablePath(_link_reason(shown, what)) from None
    if exc.errno == errno.ENOENT:
        raise UngradablePath(f"{shown}: no such file or folder") from None
    raise UngradablePath(f"{shown}: cannot read it ({exc.strerror})") from None


def _walk(dir_fd, root, relative, found, seen=None):
    """Every .py/.ipynb below an open folder, as relative parts; any link on the way is refused.

    Hidden names and ``__MACOSX``/``__pycache__``-style folders are skipped: zips made on a Mac carry
    ``__MACOSX/._sequence_modeling.py`` copies that are not the student's code.
    """
    seen = seen if seen is not None else [0]
    if len(relative) > MAX_FOLDER_DEPTH:
        raise UngradablePath(f"{root}: folders nested more than {MAX_FOLDER_DEPTH} deep")
    try:
        with os.scandir(dir_fd) as listing:
            entries = []
            for entry in listing:
                if entry.name.startswith((".", "__")):
                    continue
                seen[0] += 1
                if seen[0] > MAX_FOLDER_ENTRIES:
                    raise UngradablePath(f"{root}: more than {MAX_FOLDER_ENTRIES} files and folders")
                entries.append(entry)
            entries.sort(key=lambda e: e.name)
    except OSError as exc:
        raise UngradablePath(f"{root.joinpath(*relative)}: cannot read the folder ({exc.strerror})") from None
    for entry in entries:
        parts = relative + (entry.name,)
        if entry.is_symlink():
            if Path(entry.name).suffix in SUFFIXES:
                raise UngradablePath(_link_reason(root.joinpath(*parts)))
            raise UngradablePath(f"{root.joinpath(*parts)} is a symbolic link; a submission may not hold links")
        if entry.is_dir(follow_symlinks=False):
            sub = _open_dir(entry.name, dir_fd, root.joinpath(*parts))
            try:
                _walk(sub, root, parts, found, seen)
            finally:
                os.close(sub)
        elif Path(entry.name).suffix in SUFFIXES:
            found.append(parts)


def _choose(found, shown):
    """The rule: sequence_modeling.py (then .ipynb) nearest the top; else the only .py/.ipynb there is."""
    named = [parts for parts in found if parts[-1] in (f"{MODULE_FILE}.py", f"{MODULE_FILE}.ipynb")]
    if named:
        depth = min(len(parts) for parts in named)
        nearest = [parts for parts in named if len(parts) == depth]
        folders = sorted({parts[:-1] for parts in nearest})
        if len(folders) > 1:
            first, second = ("/".join(folder) for folder in folders[:2])
            raise UngradablePath(f"{shown}: {MODULE_FILE} is in two folders, {first} and {second}; keep one")
        return min(nearest, key=lambda parts: (parts[-1].endswith(".ipynb"), parts))
    if len(found) == 1:
        return found[0]
    listed = f" ({len(found)} .py/.ipynb files: {', '.join('/'.join(p) for p in found[:3])}" + \
             (", ...)" if len(found) > 3 else ")") if found else ""
    raise UngradablePath(f"{shown}: folder has no {MODULE_FILE}.py or {MODULE_FILE}.ipynb{listed}")


def find_submission_file(path):
    """(path, parts): the graded file is ``path`` itself (parts empty) or ``path/parts...``.

    ``path`` is what was handed in: a .py or .ipynb file, or a folder (a student's
    folder in a batch, Gradescope's submission folder). Raises UngradablePath.
    """
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise UngradablePath(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise UngradablePath(f"{path}: cannot read it ({exc.strerror})") from None
    if stat.S_ISLNK(mode):
        raise UngradablePath(_link_reason(path, "folder" if path.suffix not in SUFFIXES else "file"))
    if not stat.S_ISDIR(mode):
        if path.suffix not in SUFFIXES:
            raise UngradablePath(f"{path}: not a .py file, an .ipynb notebook or a folder")
        return path, ()
    top = _open_dir(path, shown=path)
    found = []
    try:
        _walk(top, path, (), found)
    finally:
        os.close(top)
    return path, _choose(found, path)


def read_submission_file(path, parts=()):
    """The bytes of ``path/parts...``, every step opened with O_NOFOLLOW; only a regular file is read."""
    path = Path(path)
    shown = path.joinpath(*parts)
    fd = None
    dir_fd = None
    try:
        if parts:
            dir_fd = _open_dir(path, shown=path)
            for index, part in enumerate(parts[:-1]):
                sub = _open_dir(part, dir_fd, path.joinpath(*parts[:index + 1]))
                os.close(dir_fd)
                dir_fd = sub
        name = parts[-1] if parts else path
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as exc:
            _raise_for(exc, name, dir_fd, shown, "file")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UngradablePath(f"{shown}: not a regular file")
        chunks, size = [], 0
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as exc:
                raise UngradablePath(f"{shown}: cannot read it ({exc.strerror})") from None
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise UngradablePath(f"{shown}: larger than {MAX_FILE_BYTES // 2**20} MB")
            chunks.append(chunk)
    finally:
        for open_fd in (fd, dir_fd):
            if open_fd is not None:
                os.close(open_fd)


def shown_path(given, parts=()):
    """How reports name the graded file: relative to what was given. A relative path is shown as
    given; an absolute one from its last name on (``/home/ta/class/ada`` shows ``ada/sequence_modeling.py``),
    so no grader's folders reach a student's report."""
    given = Path(given)
    if given.is_absolute():
        given = Path(given.name or given.anchor)
    return given.joinpath(*parts)


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
    lines = _python_lines(code)
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


# --- notebooks ------------------------------------------------------------------------------------

def _python_lines(source):
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
    for line in _python_lines(source):
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
        lines = _python_lines(source)
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
        lines = _python_lines(source)
        if parts:
            origins.append(None)                              # the blank line between cells
        origins.append(None)                                  # the marker comment
        origins += [(number, index) for index in range(1, len(lines) + 1)]
        parts.append(f"# --- notebook cell {number} ---\n" + "\n".join(lines))
    # Jupyter provides display() without an import; graded, it shows nothing.
    shim = "def display(*objects, **options): pass  # IPython's display(): shows nothing when graded\n"
    return shim + "\n\n".join(parts) + "\n", LineMap([None] + origins)


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


# --- running a notebook cell by cell -------------------------------------------------------------

CELL_FAILURES = "_autograder_cell_failures"     # the function the runner leaves for the grader to ask

CELL_RUNNER = '''"""The notebook's code cells, run one by one as Jupyter runs them (autograder.submission).

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


def _blocked(packages):
    return sorted(set(packages) & set(KIT_PACKAGES))


def forbidden_imports(code):
    """Names of blocked packages the source imports, found without running it."""
    return _blocked(imported_packages(code))
