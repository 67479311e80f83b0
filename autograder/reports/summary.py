"""The instructor's view of a batch: per-item pass rates, the score distribution, and who needs attention."""

import re
from pathlib import Path

import numpy as np

from autograder.files import atomic_write_text
from autograder.safe_text import one_line, printable

BINS = list(range(0, 101, 10))
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]|~]")      # what makes links, images, emphasis or a new cell


def class_statistics(rows, rubric):
    """(per-item [(id, pass rate, mean score, max)], score histogram counts, totals)."""
    rows = dict(sorted(rows.items()))       # sums in id order: the same bytes however the rows were gathered
    totals = [float(meta.get("score", 0.0)) for meta in rows.values()]
    items = []
    for item in rubric.items:
        scores = [float(meta.get("items", {}).get(item.id, 0.0)) for meta in rows.values()]
        passed = sum(score >= item.points - 1e-9 for score in scores)
        items.append((item.id, passed / len(scores) if scores else 0.0,
                      float(np.mean(scores)) if scores else 0.0, item.points))
    histogram = np.histogram(totals, bins=BINS)[0].tolist() if totals else [0] * (len(BINS) - 1)
    return items, histogram, totals


def summary_markdown(rows, rubric):
    items, histogram, totals = class_statistics(rows, rubric)
    lines = [f"# Class summary ({len(rows)} students)", ""]
    if totals:
        lines.append(f"Mean {np.mean(totals):.1f}, median {np.median(totals):.1f}, "
                     f"min {min(totals):.1f}, max {max(totals):.1f} (out of {rubric.max_score:g}).")
        lines.append("")
    lines += ["| item | full marks | mean score |", "|---|---:|---:|"]
    lines += [f"| {item_id} | {rate:.0%} | {mean:.2f} / {points:g} |" for item_id, rate, mean, points in items]
    lines += ["", "| score | students |", "|---|---:|"]
    for low, count in zip(BINS[:-1], histogram):
        closing = "]" if low + 10 == 100 else ")"
        lines.append(f"| [{low}, {low + 10}{closing} | {count} |")
    return "\n".join(lines + [""] + attention_markdown(rows)) + "\n"


# What a student's status means for a TA; "graded" needs nobody.
ATTENTION = {"import_failed": "could not be imported", "timed_out": "ran out of time",
             "ungradable": "could not be graded", "grader_failed": "grader failed (not the student's fault)"}


def attention_markdown(rows):
    """The students a TA should look at (import failures, time-outs, ungradable, grader failures),
    in id order, each with the one-line reason its grading gave."""
    flagged = [(student, meta) for student, meta in sorted(rows.items()) if meta.get("status") in ATTENTION]
    if not flagged:
        return ["## Needs attention", "", "Nobody: every submission was imported and graded in time."]

    def cell(text):
        """A table cell that shows the text as written: a reason quotes the student's exception, and
        Markdown or HTML in it must not render (a link, an image, a bold fake note)."""
        text = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)

    lines = [f"## Needs attention ({len(flagged)} students)", "", "| student | what happened | why |", "|---|---|---|"]
    lines += [f"| {cell(student)} | {ATTENTION[meta['status']]} | {cell(meta.get('reason', '')) or '-'} |"
              for student, meta in flagged]
    return lines


def summary_chart(rows, rubric, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items, histogram, _ = class_statistics(rows, rubric)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    names = [item_id for item_id, *_ in items]
    left.barh(names[::-1], [rate * 100 for _, rate, *_ in items][::-1], color="tab:blue")
    left.set(title="Students with full marks, per item", xlabel="% of students", xlim=(0, 100))
    left.grid(True, axis="x", alpha=0.3)
    right.bar([f"{b}" for b in BINS[:-1]], histogram, color="tab:green", align="edge", width=0.9)
    right.set(title="Score distribution", xlabel="total score (bins of 10)", ylabel="students")
    right.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_class_summary(rows, rubric, out):
    out = Path(out)
    atomic_write_text(out / "summary.md", printable(summary_markdown(rows, rubric)))
    summary_chart(rows, rubric, out / "summary.png")
