"""What a grading run looks like to people and to platforms.

``text_report`` is what a student reads in a terminal; ``results_json`` is
Gradescope's results.json schema (the contract in lesson-api.md). Both are
built from the result alone and hold no timings but ``execution_time``, so
grading the same submission twice gives the same report. Text that came from
the submission passes through ``autograder.text`` first: no escape sequence or
carriage return reaches a terminal, and an item's feedback stays on its line.
"""

import json

from autograder.text import one_line, printable

STATUS = {True: "passed", False: "failed"}
# Gradescope's test visibilities, from least to most restricted.
VISIBILITY_ORDER = ("visible", "after_due_date", "after_published", "hidden")
TOTAL_WITHHELD = ("Each item's score and feedback are listed separately. Your total includes items shown "
                  "only after the due date, so it appears with them.")


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


def text_report(result, title=None):
    width = max(len(item.id) for item in result.items) if result.items else 10
    mode = "self-check on public data" if result.mode == "check" else "grade"
    lines = [one_line(title or f"Lesson 6.4.4 autograder ({mode}): {result.submission}"), ""]
    for item in result.items:
        mark = "ok  " if item.passed else "FAIL"
        lines.append(f"{mark} {item.id:<{width}}  {item.score:6.2f}/{item.max_score:<3g}  {one_line(item.feedback)}")
        if len(item.details) > 1:                 # the feedback shows the first; list every one below it
            lines.append(f"{'':{width + 17}}every failing check:")
            lines += [f"{'':{width + 17}}- {one_line(detail)}" for detail in item.details]
    lines.append("")
    lines.append(f"Total: {result.score:.2f}/{result.max_score:g}")
    if result.import_error:
        lines += ["", "The submission could not be imported:", printable(result.import_error)]
    if result.mode == "check":
        lines += ["", "This self-check uses public data. Your grade uses unseen series, so make sure your code is",
                  "correct in general, not only on these inputs."]
    printed = printable(result.printed).strip()
    if printed:
        shown = printed.splitlines()
        lines += ["", f"Your code printed ({len(shown)} lines; first 5):"] + ["  " + l[:160] for l in shown[:5]]
    return printable("\n".join(lines) + "\n")


def progress_line(number, total, item):
    """One finished item, for a terminal: ``[3/14] time_split ok 6/6``."""
    mark = "ok" if item.passed else "FAIL"
    return f"[{number}/{total}] {item.id} {mark} {item.score:g}/{item.max_score:g}"


def results_json(result):
    """Gradescope's results.json as a dict."""
    tests = []
    for number, item in enumerate(result.items, start=1):
        output = printable(item.feedback)
        if len(item.details) > 1:
            output += "\n\nAll failing checks:\n" + "\n".join(f"- {one_line(d)}" for d in item.details)
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
    visibility = top_level_visibility(item.visibility for item in result.items)
    summary = summary_output(result.score, result.max_score, visibility,
                             f"The submission could not be imported:\n{printable(result.import_error)}"
                             if result.import_error else "")
    return {
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": round(result.execution_time, 3),
        "output": summary,
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": {"mode": result.mode, "status": result.status, "sandbox": result.confinement},
        "tests": tests,
    }


def write_results_json(result, path):
    from autograder.files import atomic_write_text

    atomic_write_text(path, json.dumps(results_json(result), indent=2, allow_nan=False) + "\n")
