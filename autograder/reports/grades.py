"""The batch's grades.csv: one row per student (total, one column per item, status).

Rows come from what the batch keeps of each student (``GradeResult.batch_row()``,
stored as meta.json), so a rerun or a merge rebuilds the same file from stored
rows without regrading. Text cells go through ``spreadsheet_cell``: an id like
``=HYPERLINK(..)`` stays text.
"""

import csv
import io

from autograder.text import spreadsheet_cell


def grades_header(rubric):
    return [spreadsheet_cell(cell) for cell in ["student", "total"] + [item.id for item in rubric.items] + ["status"]]


def grades_row(student, row, rubric):
    """One student's cells; ``row`` is a batch row ({"status", "score", "items": {id: score}})."""
    items = row.get("items", {})
    return ([spreadsheet_cell(student), f"{row.get('score', 0.0):.2f}"] +
            [f"{items.get(item.id, 0.0):.2f}" for item in rubric.items] + [spreadsheet_cell(row["status"])])


def grades_csv(rows, rubric):
    """The whole file for ``rows`` ({student id: batch row}), in student id order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(grades_header(rubric))
    for student in sorted(rows):
        writer.writerow(grades_row(student, rows[student], rubric))
    return buffer.getvalue()
