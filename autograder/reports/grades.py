"""The batch's grades.csv: one row per student (total, one column per item, status).

Rows come from what the batch keeps of each student (``GradeResult.batch_row()``,
stored as meta.json), so a rerun or a merge rebuilds the same file from stored
rows without regrading. Text cells go through ``spreadsheet_cell``: an id like
``=HYPERLINK(..)`` stays text.
"""

import csv
import io

from autograder.safe_text import spreadsheet_cell


def grades_header(rubric, manual=None):
    extra = ["automatic", "manual"] if manual is not None else []
    return [spreadsheet_cell(cell) for cell in ["student", "total"] + [item.id for item in rubric.items] + ["status"]
            + extra]


def grades_row(student, row, rubric, manual=None):
    """One student's cells; ``row`` is a batch row ({"status", "score", "items": {id: score}}). With
    ``manual`` ({student: {item: score}}, autograder/classroom/manual.py) the hand-given scores fill their items'
    cells ("" until given), ``total`` adds them, and ``automatic`` and ``manual`` say which part is whose."""
    items = row.get("items", {})
    automatic = row.get("score", 0.0)
    cells = {item.id: f"{items.get(item.id, 0.0):.2f}" for item in rubric.items}
    extra, total = [], automatic
    if manual is not None:
        given = manual.get(student, {})
        from autograder.classroom.manual import MANUAL_ITEMS

        for item_id in MANUAL_ITEMS:
            if item_id in cells:
                cells[item_id] = f"{given[item_id]:.2f}" if item_id in given else ""
        total = automatic + sum(given.values())
        extra = [f"{automatic:.2f}", f"{sum(given.values()):.2f}" if given else ""]
    return ([spreadsheet_cell(student), f"{total:.2f}"] + [cells[item.id] for item in rubric.items]
            + [spreadsheet_cell(row["status"])] + extra)


def grades_csv(rows, rubric, manual=None):
    """The whole file for ``rows`` ({student id: batch row}), in student id order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(grades_header(rubric, manual))
    for student in sorted(rows):
        writer.writerow(grades_row(student, rows[student], rubric, manual))
    return buffer.getvalue()
