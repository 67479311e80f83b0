"""The batch's by-question pages: one self-contained HTML file per exercise question.

A TA grading written answers reads one question for the whole class at a time (as
Gradescope's question-by-question view or nbgrader's formgrader do). Each page lists every
student's claim, the verdict and the numbers the student's own code measured, and the
student's reasoning for that question, from the rows the batch keeps (meta.json ``answers``,
built by ``GradeResult.answers``). Every piece of student text is escaped; the texts were
already cut to a bounded length when graded (items/answers.py).
"""

import html
from pathlib import Path

from autograder.files import atomic_write_text
from autograder.safe_text import printable

# (file stem, title, claim item, reasoning name)
QUESTIONS = (
    ("window_size", "Exercise 1: which window size gives the lowest validation MSE?", "answer_window_size",
     "WHY_WINDOW_SIZE"),
    ("gru_vs_lstm", "Exercise 2: LSTM or GRU, which ends with the lower validation MSE?", "answer_gru_vs_lstm",
     "WHY_GRU_VS_LSTM"),
    ("clipping", "Exercise 3: does training stay stable without gradient clipping?", "answer_clipping",
     "WHY_CLIPPING"),
    ("plot", "The plot: what do the validation predictions show?", "answer_plot", "WHY_PLOT"),
)
FOLDER = "questions"

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } nav a { margin-right: 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td.claim { white-space: nowrap; font-weight: bold; }
td.why { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 32em; }
tr.contradicted td.claim { color: #cf222e; } tr.unanswered td.claim { color: #888; }
small { color: #555; }
"""


def _e(value):
    return html.escape(printable(value))


def question_page(title, item_id, why_name, rows, others):
    """One question's page for ``rows`` ({student id: meta}), linking to the ``others`` (stem, title)."""
    lines = []
    for student in sorted(rows):
        answers = rows[student].get("answers") if isinstance(rows[student].get("answers"), dict) else {}
        answer = answers.get(item_id) if isinstance(answers.get(item_id), dict) else None
        reasoning = answers.get("reasoning") if isinstance(answers.get("reasoning"), dict) else {}
        why = reasoning.get(why_name) or ""
        numbers = ""
        if answer is None:
            state, claim, verdict = "unanswered", "not graded", "(no grade for this question: see the student's report)"
        else:
            numbers = answer.get("measured") or ""
            claim = "no answer" if answer.get("claim") is None else repr(answer.get("claim"))
            state = "unanswered" if answer.get("claim") is None else \
                ("contradicted" if answer.get("score", 0) < answer.get("max_score", 0) else "consistent")
            verdict = f"{answer.get('score', 0):g}/{answer.get('max_score', 0):g}: {answer.get('feedback', '')}"
        lines.append(f'<tr class="{state}"><td>{_e(student)}</td><td class="claim">{_e(claim)}</td>'
                     f'<td class="why">{_e(why) if why else "<small>(not written)</small>"}</td>'
                     f"<td>{_e(numbers) if numbers else '<small>(not measured)</small>'}<br>"
                     f"<small>{_e(verdict)}</small></td></tr>")
    nav = " ".join(f'<a href="{_e(stem)}.html">{_e(other)}</a>' for stem, other in others)
    body = (f"<h1>{_e(title)}</h1><nav>{nav}</nav>"
            f"<p>{len(rows)} students. The claim was checked against the student's own code's numbers (the "
            f"last column shows them); the reasoning ({_e(why_name)}) is yours to grade: put the scores in a "
            "CSV and merge it with <code>autograder batch ... --manual scores.csv</code>.</p>"
            "<table><tr><th>student</th><th>claim</th><th>reasoning</th><th>their own numbers, and the verdict</th></tr>"
            + "".join(lines) + "</table>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def write_question_pages(rows, out):
    """DIR/questions/<question>.html for the class in ``rows``; returns the paths written."""
    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, title, item_id, why_name in QUESTIONS:
        others = [(s, t.split(":")[0]) for s, t, _, _ in QUESTIONS if s != stem]
        path = folder / f"{stem}.html"
        atomic_write_text(path, question_page(title, item_id, why_name, rows, others))
        paths.append(path)
    return paths
