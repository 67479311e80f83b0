"""One grading's result, and every format it is shown in.

A ``GradeResult`` (its items are ``ItemResult``) is what the engine returns and
the only thing any output is built from: Gradescope's results.json
(``to_gradescope``, the schema in lesson-api.md), the terminal report
(``text``), the HTML report (``html``), the batch's grades.csv row
(``csv_row``) and PrairieLearn's results.json (``to_prairielearn``). "Nothing
could be graded" is a result too (``GradeResult.ungradable``), so Gradescope,
PrairieLearn and the batch write it with the same code as any other.

The formats hold no timings but ``execution_time``, so grading the same
submission twice gives the same outputs. Text that came from the submission
passes through ``autograder.safe_text`` on its way out: no escape sequence or
carriage return reaches a terminal, and an item's feedback stays on its line.
"""

import json
from dataclasses import dataclass, field

from autograder.reports.terminal import cell_errors_heading, reasoning_lines
from autograder.safe_text import one_line, printable

STATUS = {True: "passed", False: "failed"}
# Gradescope's test visibilities, from least to most restricted.
VISIBILITY_ORDER = ("visible", "after_due_date", "after_published", "hidden")
TOTAL_WITHHELD = ("Each item's score and feedback are listed separately. Your total includes items shown "
                  "only after the due date, so it appears with them.")


@dataclass
class ItemResult:
    id: str
    name: str
    score: float
    max_score: float
    feedback: str
    visibility: str
    details: list = field(default_factory=list)
    artifacts: dict = field(default_factory=dict)
    # or "not_implemented", "timed_out", "hung_before" (refused: a function it calls already hung),
    # "not_graded" (the total budget ran out first), "crashed", "not_imported"
    outcome: str = "checked"

    @property
    def passed(self):
        # An item worth 0 points (read by people) passes only when it ran: not graded is not passed.
        return self.score >= self.max_score - 1e-9 and (self.max_score > 0 or self.outcome == "checked")

    def progress_line(self, number, total):
        """This item finished, for a terminal: ``[3/14] time_split ok 6/6``."""
        from autograder.reports.terminal import progress_line

        return progress_line(number, total, self)


@dataclass
class GradeResult:
    submission: str
    mode: str
    items: list
    printed: str = ""
    import_error: str = ""
    cell_errors: list = field(default_factory=list)     # a notebook's cells that raised (the rest still ran)
    confinement: list = field(default_factory=list)     # what the worker applied, step by step
    tier: dict = field(default_factory=dict)            # which confinement tier, and what it defends
    execution_time: float = 0.0
    # Why nothing could be graded ("" when grading ran): see ``ungradable``.
    ungradable_reason: str = ""
    rubric_known: bool = True           # False: the rubric itself could not be loaded (no points to state)

    @classmethod
    def ungradable(cls, rubric, reason, submission=""):
        """The result of a submission nothing could be graded of (no gradable file, a grader
        failure): every item of ``rubric`` (None when it could not be loaded) at 0, with ``reason``."""
        reason = printable(reason)
        items = [ItemResult(item.id, item.name, 0.0, item.points, reason, item.visibility, outcome="not_graded")
                 for item in (rubric.items if rubric is not None else [])]
        return cls(submission, "grade", items, ungradable_reason=reason, rubric_known=rubric is not None)

    @property
    def score(self):
        return round(sum(item.score for item in self.items), 2)

    @property
    def max_score(self):
        return round(sum(item.max_score for item in self.items), 2)

    @property
    def status(self):
        if self.ungradable_reason:
            return "ungradable"
        if self.import_error:
            return "import_failed"
        if any(item.outcome in ("timed_out", "not_graded") for item in self.items):
            return "timed_out"
        return "graded"

    @property
    def visibility(self):
        return top_level_visibility(item.visibility for item in self.items)

    # --- the formats ----------------------------------------------------------------------------

    def to_gradescope(self):
        """Gradescope's results.json as a dict."""
        if self.ungradable_reason:
            return self._ungradable_gradescope()
        tests = []
        for number, item in enumerate(self.items, start=1):
            output = printable(item.feedback)
            if len(item.details) > 1:
                output += "\n\nAll failing checks:\n" + "\n".join(f"- {one_line(d)}" for d in item.details)
            if reasoning_lines(item):
                output += "\n\n" + "\n".join(reasoning_lines(item))
            tests.append({
                "name": item.name,
                "number": str(number),
                "score": item.score,
                "max_score": item.max_score,
                "status": STATUS[item.passed],
                "output": output,
                "output_format": "text",
                "visibility": item.visibility,
                "tags": [item.id],
                "extra_data": {"outcome": item.outcome},
            })
        visibility = self.visibility
        extra = f"The submission could not be imported:\n{printable(self.import_error)}" if self.import_error else ""
        if self.cell_errors:
            extra = "\n".join([extra, cell_errors_heading(), *self.cell_errors]).strip("\n")
        summary = summary_output(self.score, self.max_score, visibility, extra)
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": summary,
            "output_format": "text",
            "visibility": visibility,
            "stdout_visibility": "hidden",
            "extra_data": {"mode": self.mode, "status": self.status, "sandbox": self.confinement,
                           **({"confinement": self.tier} if self.tier else {})},
            "tests": tests,
        }

    def _ungradable_gradescope(self):
        """Zeros and the reason; no total to read, since nothing was graded."""
        tests = [{"name": item.name, "number": str(number), "score": 0.0, "max_score": item.max_score,
                  "status": "failed", "output": self.ungradable_reason, "output_format": "text",
                  "visibility": item.visibility, "tags": [item.id]}
                 for number, item in enumerate(self.items, start=1)]
        data = {"score": 0.0, "execution_time": 0.0, "output": self.ungradable_reason, "output_format": "text",
                "visibility": self.visibility, "stdout_visibility": "hidden", "tests": tests}
        if self.rubric_known:
            data["max_score"] = sum(item.max_score for item in self.items)      # the rubric's own sum, unrounded
        return data

    def gradescope_json(self):
        """results.json's text, as every writer of it writes it."""
        return json.dumps(self.to_gradescope(), indent=2, allow_nan=False) + "\n"

    def write_gradescope(self, path):
        from autograder.files import atomic_write_text

        atomic_write_text(path, self.gradescope_json())

    def to_prairielearn(self):
        """PrairieLearn's results.json as a dict: the score as a fraction, one test per item;
        ``gradable: false`` (no score, no penalty) when nothing could be graded."""
        if self.ungradable_reason:
            return {"gradable": False, "score": 0.0, "message": self.ungradable_reason, "output": "", "tests": []}
        tests = []
        for item in self.items:
            output = ""
            if len(item.details) > 1:
                output = "All failing checks:\n" + "\n".join(f"- {one_line(d)}" for d in item.details)
            if reasoning_lines(item):
                output = "\n".join(reasoning_lines(item))
            tests.append({"name": item.name, "description": f"item {item.id}", "points": item.score,
                          "max_points": item.max_score, "message": printable(item.feedback), "output": output})
        fraction = round(self.score / self.max_score, 6) if self.max_score else 0.0
        message = f"{self.score:.2f}/{self.max_score:g} points"
        if self.import_error:
            message += ". Your submission could not be imported: " + one_line(self.import_error)
        # PrairieLearn has no staff-only field: the confinement tier is the report's second line, in output.
        return {"gradable": True, "score": fraction, "message": message, "output": self.text(), "tests": tests}

    def text(self, title=None):
        """The report a student reads in a terminal."""
        from autograder.reports.terminal import text_report

        return text_report(self, title)

    def html(self, title="Lesson 6.4.4 feedback"):
        """A self-contained HTML page: scores, feedback, plots of the predictions, a diagnosis."""
        from autograder.reports.html import html_report

        return html_report(self, title)

    def attention_reason(self):
        """Why a TA should look at this submission, in one line ("" when it was graded in full):
        the class summary lists it."""
        if self.ungradable_reason or self.import_error:
            return one_line((self.ungradable_reason or self.import_error).strip().splitlines()[0])
        late = [item.id for item in self.items if item.outcome in ("timed_out", "not_graded")]
        return f"ran out of time in {', '.join(late)}" if late else ""

    def batch_row(self):
        """What a batch keeps of a student's grade (meta.json, and grades.csv is made from it)."""
        row = {"status": self.status, "score": self.score, "items": {item.id: item.score for item in self.items},
               "confinement": self.tier.get("tier", ""), "reason": self.attention_reason()}
        answers = self.answers()
        if answers:
            row["answers"] = answers
        return row

    def answers(self):
        """What the batch's by-question pages show of this grade (reports/questions.py): each claim
        item's answer, the numbers it was judged on, its verdict and score; and the reasoning texts."""
        found = {}
        for item in self.items:
            answer = item.artifacts.get("answer")
            if isinstance(answer, dict):
                found[item.id] = {"claim": answer.get("claim"), "measured": printable(answer.get("measured", "")),
                                  "feedback": printable(item.feedback), "score": item.score,
                                  "max_score": item.max_score}
            if isinstance(item.artifacts.get("reasoning"), dict):
                found["reasoning"] = {name: printable(text) for name, text in item.artifacts["reasoning"].items()}
        return found

    def csv_row(self, student, rubric):
        """This result's row of the batch's grades.csv."""
        from autograder.reports.grades import grades_row

        return grades_row(student, self.batch_row(), rubric)


def top_level_visibility(visibilities):
    """The results' own visibility: the most restricted of its items'.

    Gradescope shows the top-level score, the total, under the top-level
    visibility; per-test visibility only hides a test's own row. With one
    after_due_date item, a visible total minus the visible rows would give its
    score away before the due date, so the total waits as long as that item does.
    """
    return max(visibilities, key=VISIBILITY_ORDER.index, default="visible")


def summary_output(score, max_score, top_visibility, extra=""):
    """The top-level ``output``: the total only when everything is visible."""
    text = f"{score:.2f}/{max_score:g}" if top_visibility == "visible" else TOTAL_WITHHELD
    return text + (f"\n{extra}" if extra else "")
