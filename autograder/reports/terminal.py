"""The terminal report: what a student reads after ``autograder grade`` or ``check``.

Built from the result alone (``GradeResult.text()`` calls it), so grading the
same submission twice prints the same report. Text that came from the
submission passes through ``autograder.safe_text`` first: no escape sequence or
carriage return reaches a terminal, and an item's feedback stays on its line.
"""

from autograder.safe_text import one_line, printable


def cell_errors_heading():
    return ("Notebook cells that raised (the cells after each still ran; what a cell would have defined after "
            "its error is missing, and costs only the items that use it):")


def text_report(result, title=None):
    width = max(len(item.id) for item in result.items) if result.items else 10
    mode = "self-check on public data" if result.mode == "check" else "grade"
    lines = [one_line(title or f"Lesson 6.4.4 autograder ({mode}): {result.submission}")]
    if result.tier:
        lines.append(one_line(f"Confinement: {result.tier['tier']}: {result.tier.get('defends', '')}"))
    lines.append("")
    for item in result.items:
        mark = "ok  " if item.passed else "FAIL"
        lines.append(f"{mark} {item.id:<{width}}  {item.score:6.2f}/{item.max_score:<3g}  {one_line(item.feedback)}")
        if len(item.details) > 1:                 # the feedback shows the first; list every one below it
            lines.append(f"{'':{width + 17}}every failing check:")
            lines += [f"{'':{width + 17}}- {one_line(detail)}" for detail in item.details]
        lines += [f"{'':{width + 17}}{line}" for line in reasoning_lines(item)]
    lines.append("")
    lines.append(f"Total: {result.score:.2f}/{result.max_score:g}")
    if result.import_error:
        lines += ["", "The submission could not be imported:", printable(result.import_error)]
    if result.cell_errors:
        lines += ["", cell_errors_heading()] + [f"  {one_line(error)}" for error in result.cell_errors]
    if result.mode == "check":
        lines += ["", "This self-check uses public data. Your grade uses unseen series, so make sure your code is",
                  "correct in general, not only on these inputs."]
    printed = printable(result.printed).strip()
    if printed:
        shown = printed.splitlines()
        count = f"{len(shown)} line{'' if len(shown) == 1 else 's'}" + ("; first 5" if len(shown) > 5 else "")
        lines += ["", f"Your code printed ({count}):"] + ["  " + l[:160] for l in shown[:5]]
    return printable("\n".join(lines) + "\n")


def progress_line(number, total, item):
    """One finished item, for a terminal: ``[3/14] time_split ok 6/6``."""
    mark = "ok" if item.passed else "FAIL"
    return f"[{number}/{total}] {item.id} {mark} {item.score:g}/{item.max_score:g}"


def reasoning_lines(item):
    """The reasoning texts an item keeps for people to grade, one line each ([] for other items)."""
    texts = item.artifacts.get("reasoning")
    if not isinstance(texts, dict):
        return []
    return ["Your reasoning, for your instructor to grade:"] + [
        f"- {one_line(name)}: {one_line(text) if text else '(not written)'}" for name, text in texts.items()]
