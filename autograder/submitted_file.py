"""Which file of what a student handed in is graded, and its bytes, read without following a link.

A submission is a ``.py`` file, an ``.ipynb`` notebook, or a folder. Which file of a folder is
graded is decided here and only here (``find_submission_file``), for ``grade``, ``batch`` and the
platforms alike.

Nothing here follows a symbolic link: a link to the reference would score full marks, a link to
/etc/shadow would print it in the feedback. Folders are walked and files opened relative to an
already opened folder, each step with O_NOFOLLOW, so a link swapped in after the walk is refused too.
"""

import errno
import os
import stat
from pathlib import Path

from autograder.safe_text import printable


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
