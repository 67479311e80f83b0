"""Scores a TA gives by hand, merged into the batch's grades.csv (``autograder batch ... --manual FILE``).

The items graded by people (``MANUAL_ITEMS``: the reasoning behind the exercises' answers)
score 0 automatically. A TA reads them by question (DIR/questions/*.html) and fills a plain CSV:

    student,reasoning
    alice,3.5
    bob,

one row per student, a column per manual item, an empty cell for "not graded yet". The file is
checked whole before anything is graded or written: an unknown student or column, a score that
is not a number between 0 and the item's points, a student listed twice, or a manual item the
rubric gives no points are refused with the row and the value named. The batch keeps the
checked scores as DIR/manual_scores.csv and merges them every time it writes grades.csv, whose
``automatic`` and ``manual`` columns then say which part of ``total`` is whose.
"""

import csv
import io
import math
from pathlib import Path

from autograder.files import atomic_write_text
from autograder.safe_text import printable

MANUAL_ITEMS = ("reasoning",)     # the items people score (autograder/items/answers.py: 0 automatically)
KEPT = "manual_scores.csv"        # the batch's copy of the checked scores, in its --out folder


class ManualScoresError(ValueError):
    """The TA's CSV cannot be merged; the message names the row and the value."""


def read_manual_scores(path, rubric, students):
    """{student id: {item id: score}} from the CSV at ``path``, checked against ``rubric`` and the
    class's ``students`` (ids); a blank cell is left out (not graded yet)."""
    where = printable(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as problem:
        raise ManualScoresError(f"{where}: cannot be read ({getattr(problem, 'strerror', None) or problem})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip() != "student":
        raise ManualScoresError(f"{where}: the first row must be the header, starting with 'student' "
                                f"(then one column per item graded by hand: {', '.join(MANUAL_ITEMS)})")
    header = [cell.strip() for cell in rows[0]]
    points = {item.id: item.points for item in rubric.items}
    for column in header[1:]:
        if column not in MANUAL_ITEMS:
            raise ManualScoresError(f"{where}: column {printable(column)!r} is not an item graded by hand "
                                    f"(these are: {', '.join(MANUAL_ITEMS)})")
        if points.get(column, 0) <= 0:
            raise ManualScoresError(f"{where}: {column} is worth 0 points in the rubric: give it points (its "
                                    "entry in rubric.toml) before merging scores for it")
    if len(set(header)) != len(header):
        raise ManualScoresError(f"{where}: a column is named twice in the header")
    scores = {}
    known = set(students)
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        student = row[0].strip()
        if student not in known:
            raise ManualScoresError(f"{where}, row {number}: no student {printable(student)!r} in this class")
        if student in scores:
            raise ManualScoresError(f"{where}, row {number}: student {printable(student)!r} is listed twice")
        if len(row) > len(header):
            raise ManualScoresError(f"{where}, row {number}: more cells than the header has columns")
        scores[student] = {}
        for column, cell in zip(header[1:], row[1:]):
            if not cell.strip():
                continue
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and 0 <= value <= points[column]):
                raise ManualScoresError(f"{where}, row {number}: {column} for {printable(student)} must be a number "
                                        f"from 0 to {points[column]:g}, got {printable(cell.strip())!r}")
            scores[student][column] = value
    return scores


def keep(scores, out):
    """Write the checked scores to DIR/manual_scores.csv, where later batch runs find them."""
    columns = list(MANUAL_ITEMS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student"] + columns)
    for student in sorted(scores):
        writer.writerow([student] + [f"{scores[student][c]:g}" if c in scores[student] else "" for c in columns])
    atomic_write_text(Path(out) / KEPT, buffer.getvalue())


def kept_scores(out, rubric, students):
    """The scores a previous ``--manual`` kept in ``out``, or None when there are none."""
    path = Path(out) / KEPT
    return read_manual_scores(path, rubric, students) if path.is_file() else None
