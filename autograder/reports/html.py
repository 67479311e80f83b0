"""One self-contained HTML file per student: scores, feedback, plots and a diagnosis (``GradeResult.html()``).

Images are PNGs embedded as data URIs, so the file opens in any browser with
no server and no other files. Everything that came from the submission
(exception messages, printed output) is stripped of control characters and
escaped: a student's text must never become markup in a TA's browser.
"""

import base64
import html
import io

import numpy as np

from autograder.reports.diagnosis import BROKEN_PART, diagnose, pipeline_findings
from autograder.reports.terminal import cell_errors_heading, reasoning_lines
from autograder.safe_text import printable

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td.score { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.passed td.mark { color: #1a7f37; } tr.failed td.mark { color: #cf222e; font-weight: bold; }
.total { font-size: 1.3em; margin: 1em 0; }
details pre, pre.printed { white-space: pre-wrap; background: #f6f8fa; padding: .6em; font-size: .85em; }
.finding { border-left: 4px solid #d4a72c; background: #fff8e5; padding: .5em .8em; margin: .6em 0; }
.healthy { border-left: 4px solid #1a7f37; background: #eefbf0; padding: .5em .8em; }
.failing { border-left: 4px solid #cf222e; background: #ffebe9; padding: .5em .8em; margin: .6em 0; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
"""

# Lets a headless browser (and the kit's tests) confirm every image decoded.
ONLOAD = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  document.body.setAttribute("data-images-loaded",
    String(images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length));
});
"""


def _png(fig):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def pipeline_figures(details, render=_png):
    """(title, rendered figure) for each plot the student's trained model allows (``render``: a data URI
    by default; a test passes ``lambda fig: fig`` to look at the axes).

    Each plot is drawn on its own and skipped if its data cannot be drawn: the history is the
    student's return value, and a curve of 1e308s must not cost the report (or, in a batch,
    the grade that comes with it). Each title holds its MSE, each one the naive baseline's too, and
    axes that count (steps, epochs) have whole-number ticks.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figures = []
    truth, pred, naive = details["y_val"], details["pred"], details["naive_pred"]

    def drawn(title, draw):
        fig, ax = plt.subplots(figsize=(9, 3.5))
        try:
            draw(ax)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend()
            ax.grid(True, alpha=0.3)
            figures.append((title, render(fig)))
        except Exception:  # noqa: BLE001  (a plot the data does not allow is left out, nothing else)
            plt.close(fig)

    def mse(a, b):
        return float(np.mean((np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) ** 2))

    def predictions(ax):
        ax.plot(truth, label="truth", color="black", linewidth=2)
        ax.plot(pred, label="your model")
        ax.plot(naive, label="naive (last value)", linestyle="--")
        ax.set(title=f"Validation: your model's MSE {mse(pred, truth):.4f}, the naive baseline's "
                     f"{details['naive_mse']:.4f}", xlabel="validation step", ylabel="value")

    drawn("Validation predictions", predictions)
    curves = _bounded_history(details.get("history"))
    if curves:
        epochs, train, val = curves

        def training(ax):
            ax.plot(epochs, train, marker="o", label="train MSE")
            ax.plot(epochs, val, marker="o", label="validation MSE")
            ax.axhline(details["naive_mse"], color="grey", linestyle=":",
                       label=f"naive baseline MSE {details['naive_mse']:.4f} (validation)")
            ax.set(title=f"Your training curves (logged epochs): last validation MSE {val[-1]:.4g}", xlabel="epoch",
                   ylabel="MSE")
            if min(train + val) > 0:
                ax.set_yscale("log")

        drawn("Training curves", training)
    rolling = details.get("rolling")
    if rolling is not None and len(rolling) and np.all(np.isfinite(rolling)) and np.abs(rolling).max() < 1e6:
        steps = min(len(rolling), len(truth))

        def rolled(ax):
            held = np.full(steps, naive[0] if len(naive) else np.nan)       # the first window's last value, held
            ax.plot(truth[:steps], label="truth", color="black", linewidth=2)
            ax.plot(rolling[:steps], label="your rolling forecast", marker=".")
            ax.plot(pred[:steps], label="one-step predictions", alpha=0.6)
            ax.plot(held, label="naive (last value held)", linestyle="--")
            ax.set(title=f"Rolling forecast from the first validation window: MSE {mse(rolling[:steps], truth[:steps]):.4f}, "
                         f"last value held {mse(held, truth[:steps]):.4f}", xlabel="steps ahead", ylabel="value")

        drawn("Rolling forecast", rolled)
    return figures


def _bounded_history(history):
    """(epochs, train, val) from a student's history when it is a short list of finite, plottable
    rows; None otherwise."""
    if not isinstance(history, list) or not history or len(history) > 1000:
        return None
    try:
        rows = [(float(r["epoch"]), float(r["train_mse"]), float(r["val_mse"])) for r in history]
    except (KeyError, TypeError, ValueError):
        return None
    values = np.array(rows)
    if not np.all(np.isfinite(values)) or np.abs(values).max() > 1e12:
        return None
    return [list(column) for column in values.T]


# Items that run the student's whole pipeline: the diagnosis below must agree with them.
PIPELINE_ITEMS = ("beats_baseline", "two_feature", "window_comparison")
# Items whose failure makes the curve's tuning tips wrong: a model reading the wrong step or a loop
# stepping wrong is not cured by a larger window.
MODEL_ITEMS = ("lstm_forecaster", "train_loop")


def findings_for(result, details):
    """Every finding for the report: the student's own data steps first, then the curve, whose
    tuning tips give way to "fix that item first" while a model or loop item above is failing."""
    broken = [item.id for item in result.items if item.id in MODEL_ITEMS and not item.passed]
    curve = diagnose(details["y_val"], details["pred"], details.get("naive_mse"))
    if broken:
        curve = [(name, evidence, BROKEN_PART.format(items=" and ".join(broken))) for name, evidence, _ in curve]
    return pipeline_findings(details.get("own") or {}) + curve


def diagnosis_boxes(result, findings):
    """The diagnosis in boxes that never contradict the score: red for each failing pipeline
    item (what failed), yellow for each finding, green only when all is well."""
    def e(text):
        return html.escape(printable(text))

    boxes = [f'<div class="failing"><strong>{e(item.id)} failed</strong>: {e(item.feedback)}</div>'
             for item in result.items if item.id in PIPELINE_ITEMS and not item.passed]
    for name, evidence, fix in findings:
        boxes.append(f'<div class="finding"><strong>{e(name)}</strong>: {e(evidence)}.<br>{e(fix)}</div>')
    if boxes and not findings:
        boxes.append('<div class="finding">The curve on this series shows no lag, flatline, missed peaks or '
                     "noise, so look at the failure above: the other series, or the pipeline's parts.</div>")
    if not boxes:
        boxes.append('<div class="healthy">No lag, flatline, missed peaks or noise stands out in the '
                     "prediction curve.</div>")
    return boxes


def html_report(result, title="Lesson 6.4.4 feedback"):
    def e(text):
        return html.escape(printable(text))

    rows = []
    for item in result.items:
        state = "passed" if item.passed else "failed"
        more = ""
        if len(item.details) > 1:
            more = "<details><summary>every failing check</summary><pre>" + \
                   e("\n".join(item.details)) + "</pre></details>"
        if reasoning_lines(item):
            more += '<pre class="printed">' + e("\n".join(reasoning_lines(item))) + "</pre>"
        rows.append(f'<tr class="{state}"><td class="mark">{"&#10003;" if item.passed else "&#10007;"}</td>'
                    f"<td>{e(item.name)}<br><small>{e(item.id)}</small></td>"
                    f'<td class="score">{item.score:.2f} / {item.max_score:g}</td>'
                    f"<td>{e(item.feedback)}{more}</td></tr>")
    parts = [f"<h1>{e(title)}</h1>",
             f"<p>Submission: <code>{e(result.submission)}</code></p>",
             f'<p class="total">Total: <strong>{result.score:.2f} / {result.max_score:g}</strong></p>']
    if result.import_error:
        parts.append(f"<h2>Your file could not be imported</h2><pre class=\"printed\">{e(result.import_error)}</pre>")
    if result.cell_errors:
        parts.append(f"<h2>Notebook cells that raised</h2><p>{e(cell_errors_heading())}</p><pre class=\"printed\">"
                     f"{e(chr(10).join(result.cell_errors))}</pre>")
    parts.append("<h2>Scores</h2><table><tr><th></th><th>item</th><th>score</th><th>feedback</th></tr>"
                 + "".join(rows) + "</table>")

    details = next((item.artifacts.get("pipeline") for item in result.items if item.artifacts.get("pipeline")), None)
    if details is not None:
        parts.append("<h2>How your model predicts</h2>")
        parts.append(f"<p>On one series, on your validation stretch, your model's MSE is "
                     f"{details['model_mse']:.4f} against the naive baseline's {details['naive_mse']:.4f} (ratio "
                     f"{details['model_mse'] / details['naive_mse']:.2f}; lower is better, 1.0 is no better than "
                     "repeating the last value). The plots show that stretch; the grade is measured on steps "
                     "held out after it, which no report shows.</p>")
        parts += diagnosis_boxes(result, findings_for(result, details))
        for caption, uri in pipeline_figures(details):
            parts.append(f'<h3>{e(caption)}</h3><img alt="{e(caption)}" src="{uri}">')
    elif not result.import_error:
        parts.append("<h2>How your model predicts</h2><p>Your pipeline did not produce predictions to plot yet: "
                     "make_windows, time_split, LSTMForecaster, train_model and predict must all run.</p>")
    if result.printed.strip():
        parts.append("<h2>What your code printed</h2><pre class=\"printed\">" + e(printable(result.printed)[:4000]) + "</pre>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{STYLE}</style><script>{ONLOAD}</script></head>"
            f"<body>{''.join(parts)}</body></html>\n")

