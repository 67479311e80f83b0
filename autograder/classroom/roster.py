"""Who is in a class: the students of a submissions folder, and what of each is graded.

SUBMISSIONS holds one ``.py`` or ``.ipynb`` per student, or one folder per student; the file or
folder name is the student id. Which file of a student's folder is graded is
``submitted_file.find_submission_file``'s rule, the same as for ``grade`` and Gradescope. A file
name that is not UTF-8 (or holds control characters) is graded under an escaped id (``caf%E9``)
with a warning; two entries with one id (``alice.py`` and ``alice.ipynb``) are an error for that
student alone.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.safe_text import printable
from autograder.submitted_file import SUFFIXES, UngradablePath, find_submission_file, read_submission_file


class SubmissionsUnreadable(Exception):
    """The submissions folder itself cannot be listed; the message is the one-line reason (exit 2)."""


@dataclass
class Student:
    id: str
    path: Path
    problem: str = ""        # a reason this student cannot be graded, found before grading (two entries, one id)


def student_id(name):
    """The id for a file or folder name: bytes that are not UTF-8, and control characters, as %XX.

    Deterministic, so reruns find the same folder; readable, so a TA can match it to the file.
    """
    escaped = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:             # os.fsdecode's stand-in for an undecodable byte
            escaped.append(f"%{code - 0xDC00:02X}")
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            escaped.append(f"%{code:02X}" if code <= 0xFF else f"%u{code:04X}")
        else:
            escaped.append(char)
    return "".join(escaped)


def _entry_kind(entry):
    """"file", "folder" or None (not a submission) for a directory entry; links count as what they claim."""
    suffix = Path(entry.name).suffix
    if entry.is_symlink():               # refused when graded; here only: is it meant as a student?
        if suffix in SUFFIXES:
            return "file"
        try:
            return "folder" if entry.is_dir(follow_symlinks=True) else None
        except OSError:
            return None
    if entry.is_dir(follow_symlinks=False):
        return "folder"
    return "file" if suffix in SUFFIXES else None


def discover(folder):
    """([Student] in id order, [warning]): .py/.ipynb files and sub-folders of ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionsUnreadable(f"{printable(folder)}: not a folder of submissions")
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise SubmissionsUnreadable(f"{printable(folder)}: cannot read the folder of submissions "
                                    f"({exc.strerror})") from None
    by_id, warnings = {}, []
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        kind = _entry_kind(entry)
        if kind is None:
            continue
        name = Path(entry.name).stem if kind == "file" else entry.name
        student = student_id(name)
        if student != name:
            warnings.append(f"{printable(entry.name)}: the name is not plain UTF-8 text; "
                            f"graded as student id {student}")
        by_id.setdefault(student, []).append(Path(entry.path))
    students = []
    for student, paths in sorted(by_id.items()):
        problem = ""
        if len(paths) > 1:
            names = [printable(p.name) for p in paths]
            problem = (f"two submissions for student {student}: {names[0]} and {names[1]}"
                       f"{' (and more)' if len(names) > 2 else ''}; hand in one of them")
        students.append(Student(student, paths[0], problem))
    return students, warnings


def content_hash(student, rubric_text, seed_fingerprint=""):
    """(hash, reason): the hash of what is graded (the submission, the rubric and the hidden seed's
    slow fingerprint: a plain hash of a short seed could be reversed by trying every value), and
    why it cannot be graded ("" when it can). An unchanged hash means nothing to regrade."""
    digest = hashlib.sha256()
    digest.update(rubric_text.encode())
    digest.update(f"seed:{seed_fingerprint}".encode())
    reason = student.problem
    if not reason:
        try:
            digest.update(read_submission_file(*find_submission_file(student.path)))
        except UngradablePath as problem:
            reason = str(problem)
    if reason:
        digest.update(b"\0ungradable\0" + reason.encode("utf-8", "backslashreplace"))
    return digest.hexdigest(), reason
