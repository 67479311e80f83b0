"""The answers to the exercises' questions: claims judged against the student's own measurements.

A claim (``BEST_WINDOW_SIZE``, ``LOWER_VAL_MSE``, ``STABLE_WITHOUT_CLIPPING``, ``PLOT_SHOWS``)
is compared with what the submission's own functions measure on the lesson's series
(``make_series()``, window 16, a 0.8 split, ``torch.manual_seed(42)`` before each model,
``train_model``'s defaults). A TA would not mark a close call wrong, so each item declares a
margin: a claim is contradicted only when the measurement is decisive by that margin, and any
valid claim is accepted otherwise, the feedback saying why. A function that raises, hangs or is
still the stub cannot be measured: its own items grade that, and the claim is then accepted.

The worker only measures (``answers`` and ``answer_run`` in sandbox/lesson_ops.py); every
verdict is made here. The measurements are shared by the items of one grade
(``Session.shared``): four claims cost six trainings, each made once.

``reasoning`` (the ``WHY_*`` texts) is read by people: 0 points by default, its feedback
says so, and the text is kept printable and short for every report and the batch's
by-question pages (autograder/reports/questions.py).
"""

from dataclasses import dataclass

import numpy as np

from autograder.items.base import (
    Unmet, NotImplementedYet, Outcome, StudentRaised, arg, finite, need_array, need_number,
    student_error_text,
)
from autograder.items.registry import item
from autograder.safe_text import printable

WINDOW_SIZES = (8, 16, 32)
MODELS = ("LSTM", "GRU")
PATTERNS = ("lag", "flatline", "missed peaks", "noisy", "none")
REASONS = ("WHY_WINDOW_SIZE", "WHY_GRU_VS_LSTM", "WHY_CLIPPING", "WHY_PLOT")
REASON_CHARS = 2000           # what any report shows of one reasoning text
LAB = {"window": 16, "model_seed": 42}


class InvalidClaim(Exception):
    """The answer is missing, None or not one of the allowed values; the message says which."""


# --- reading the answers ------------------------------------------------------------------------

def read_answers(ctx, names):
    """{name: the worker's plain description}, asked once per grade for every answer name."""
    shared = ctx.session.shared
    if "answers" not in shared:
        everything = ("BEST_WINDOW_SIZE", "LOWER_VAL_MSE", "STABLE_WITHOUT_CLIPPING", "PLOT_SHOWS") + REASONS
        shared["answers"] = ctx.op("answers", names=list(everything), max_chars=REASON_CHARS)
    answers = shared["answers"]
    return {name: answers.get(name) if isinstance(answers, dict) else None for name in names}


def claim(ctx, name, allowed, kind):
    """The value of ``name`` if it is one of ``allowed`` (of Python type ``kind``), else InvalidClaim."""
    found = read_answers(ctx, [name])[name]
    choices = ", ".join(repr(a) for a in allowed)
    if not isinstance(found, dict) or not found.get("defined"):
        raise InvalidClaim(f"{name} is not defined: set it to one of {choices}")
    if "value" not in found or found["value"] is None:
        got = f"a {str(found['type'])[:60]}" if "type" in found else "None (no answer yet)"
        raise InvalidClaim(f"{name} should be one of {choices}, got {got}")
    value = found["value"]
    if type(value) is not kind or value not in allowed:
        shown = repr(value) if not isinstance(value, str) else repr(value[:40]) + ("..." if len(value) > 40 else "")
        raise InvalidClaim(f"{name} should be one of {choices}, got {shown}")
    return value


def reasoning_text(found):
    """A WHY_ answer as a report may show it: printable, at most REASON_CHARS characters, or ""."""
    if not isinstance(found, dict) or not isinstance(found.get("value"), str):
        return ""
    text = printable(found["value"])[:REASON_CHARS].strip()
    length = found.get("length")
    if isinstance(length, int) and length > REASON_CHARS:
        text += f" ... [cut: {length - REASON_CHARS} more characters]"
    return text


# --- the shared measurements ----------------------------------------------------------------------

def measured(ctx, key, measure):
    """(value, None) from ``measure()``, made once per grade, or (None, why it could not be made).

    The worker handle stops the run where the function hung before, the process died or the
    item's time ran out, and says why (``Session.attempt``): the lesson's full trainings are slow,
    not known to loop (a loop that never ends hung in train_loop already), so that timeout does
    not refuse the function to beats_baseline, which calls it later. The grade's budget running
    out ends the item, like any other."""
    shared = ctx.session.shared
    if key not in shared:
        made, stopped = ctx.session.attempt(lambda: _attempt(measure), slow_ok=True)
        shared[key] = (None, stopped) if stopped is not None else made
    return shared[key]


def _attempt(measure):
    """(value, None), or (None, what the student's code did that the measurement cannot use)."""
    try:
        return measure(), None
    except NotImplementedYet as missing:
        return None, f"{missing} is not implemented yet"
    except StudentRaised as raised:
        return None, (f"{raised.call} is not implemented yet" if raised.not_implemented
                      else student_error_text(raised))
    except Unmet as unusable:
        return None, str(unusable)


def series(ctx):
    """The lesson's series, from the reference (recorded in the hand-out, like any reference call)."""
    return np.asarray(ctx.reference.make_series(), dtype=np.float32)


def window_results(ctx):
    def measure():
        got = ctx.call("compare_window_sizes", arg(series(ctx)))
        if not isinstance(got, dict) or sorted(k for k in got if isinstance(k, int)) != list(WINDOW_SIZES):
            raise Unmet("compare_window_sizes(make_series()) should return {8: ..., 16: ..., 32: ...}")
        values = {size: need_number(got[size], f"its value for {size}") for size in WINDOW_SIZES}
        if not all(finite(v) and v > 0 for v in values.values()):
            raise Unmet("compare_window_sizes(make_series()) gave a validation MSE that is not a positive number")
        return values
    return measured(ctx, "window_sizes", measure)


def run(ctx, cls, clip=True):
    """The student's own run of ``cls`` on the lab's data: (final validation MSE, history, truth,
    prediction), or (None, why)."""
    def measure():
        got = ctx.op("answer_run", series=arg(series(ctx)), cls=cls, clip=clip, seed=ctx.worker_seed, **LAB)
        history = got.get("history") if isinstance(got, dict) else None
        if not isinstance(history, list) or not history or not all(isinstance(r, dict) for r in history):
            raise Unmet("train_model should return its logged rows, a list of dicts")
        losses = [need_number(r.get(k), f"the logged {k}") for r in history for k in ("train_mse", "val_mse")]
        truth = need_array(got["y_val"], "the validation targets").reshape(-1)
        pred = need_array(got["val_pred"], "predict(model, X_val)").reshape(-1)
        return {"final": losses[-1], "losses": losses, "truth": truth, "pred": pred}
    return measured(ctx, f"run:{cls}:{'clip' if clip else 'no clip'}", measure)


# --- verdicts ---------------------------------------------------------------------------------

def verdict(ok, text, answer, numbers):
    """An item's outcome; its artifacts keep the claim and the numbers for the by-question page."""
    return Outcome(1.0 if ok else 0.0, text, [] if ok else [text],
                   {"answer": {"claim": answer, "measured": numbers}})


def invalid(problem):
    return Outcome(0.0, str(problem), [str(problem)], {"answer": {"claim": None, "measured": ""}})


def unmeasured(answer, what, why):
    return verdict(True, f"accepted without judging: {what} could not be measured ({why}); the claim is "
                         "checked against your own numbers once that code runs", answer, "")


def fmt(value):
    return f"{value:.5g}"


@dataclass(frozen=True)
class WindowAnswerSettings:
    margin: float = 0.05        # the claimed size's MSE above the lowest by more than this share contradicts it


# Three of the lesson's full trainings: about 6 s on an idle core, 50 s under load.
@item("answer_window_size", settings=WindowAnswerSettings, points=3, functions=("BEST_WINDOW_SIZE",),
      after="Exercises", seconds=120, name="Exercise 1's answer: the best window size (BEST_WINDOW_SIZE)")
def grade_answer_window_size(ctx):
    try:
        answer = claim(ctx, "BEST_WINDOW_SIZE", WINDOW_SIZES, int)
    except InvalidClaim as problem:
        return invalid(problem)
    values, why = window_results(ctx)
    if values is None:
        return unmeasured(answer, "compare_window_sizes(make_series())", why)
    margin = float(ctx.settings.margin)
    best = min(WINDOW_SIZES, key=values.get)
    numbers = ", ".join(f"{size}: {fmt(values[size])}" for size in WINDOW_SIZES)
    where = f"your compare_window_sizes(make_series()) measured {numbers}"
    gap = values[answer] / values[best] - 1
    if answer == best:
        return verdict(True, f"consistent: {where}; {answer} is the lowest", answer, numbers)
    if gap > margin:
        return verdict(False, f"contradicted: you answered {answer}, but {where}: {answer}'s validation MSE is "
                              f"{gap:.1%} above {best}'s, more than the {margin:.0%} margin", answer, numbers)
    return verdict(True, f"accepted: {where}; {answer} is within {margin:.0%} of the lowest ({best}), too close "
                         "to call", answer, numbers)


@dataclass(frozen=True)
class ModelAnswerSettings:
    margin: float = 0.05        # the claimed model's MSE above the other's by more than this share contradicts it


# Two full trainings, the GRU's the slower.
@item("answer_gru_vs_lstm", settings=ModelAnswerSettings, points=2, functions=("LOWER_VAL_MSE",),
      after="Step 5", seconds=120, name="Exercise 2's answer: LSTM or GRU (LOWER_VAL_MSE)")
def grade_answer_gru_vs_lstm(ctx):
    try:
        answer = claim(ctx, "LOWER_VAL_MSE", MODELS, str)
    except InvalidClaim as problem:
        return invalid(problem)
    runs = {}
    for name in MODELS:
        runs[name], why = run(ctx, f"{name}Forecaster")
        if runs[name] is None:
            return unmeasured(answer, f"train_model on your {name}Forecaster", why)
    final = {name: runs[name]["final"] for name in MODELS}
    if not all(finite(v) and v > 0 for v in final.values()):
        return unmeasured(answer, "the two runs' validation MSEs", "one is not a positive number")
    other = next(name for name in MODELS if name != answer)
    margin = float(ctx.settings.margin)
    numbers = f"LSTM {fmt(final['LSTM'])}, GRU {fmt(final['GRU'])}"
    where = f"trained with train_model's defaults on the lab's data, your models ended at validation MSE {numbers}"
    gap = final[answer] / final[other] - 1
    if gap <= 0:
        return verdict(True, f"consistent: {where}; {answer} is lower", answer, numbers)
    if gap > margin:
        return verdict(False, f"contradicted: you answered {answer}, but {where}: {answer}'s is {gap:.1%} above "
                              f"{other}'s, more than the {margin:.0%} margin", answer, numbers)
    return verdict(True, f"accepted: {where}; they are within {margin:.0%} of each other, too close to call",
                   answer, numbers)


@dataclass(frozen=True)
class ClippingAnswerSettings:
    # Stable: every logged loss finite and the unclipped run's final validation MSE at most
    # ``max_ratio`` times the clipped run's (the spec's rule). The ratio is decisive only beyond
    # ``max_ratio`` by the margin, either way: above max_ratio * (1 + margin), below max_ratio / (1 + margin).
    max_ratio: float = 2.0
    margin: float = 0.25


@item("answer_clipping", settings=ClippingAnswerSettings, points=2, functions=("STABLE_WITHOUT_CLIPPING",),
      after="Step 5", name="Exercise 3's answer: stable without clipping? (STABLE_WITHOUT_CLIPPING)")
def grade_answer_clipping(ctx):
    try:
        answer = claim(ctx, "STABLE_WITHOUT_CLIPPING", (True, False), bool)
    except InvalidClaim as problem:
        return invalid(problem)
    clipped, why = run(ctx, "LSTMForecaster")
    if clipped is None:
        return unmeasured(answer, "the clipped lab run", why)
    free, why = run(ctx, "LSTMForecaster", clip=False)
    if free is None:
        return unmeasured(answer, "train_model(..., clip_norm=None)", why)
    if not (finite(clipped["final"]) and clipped["final"] > 0):
        return unmeasured(answer, "the clipped run's validation MSE", "it is not a positive number")
    max_ratio, margin = float(ctx.settings.max_ratio), float(ctx.settings.margin)
    if not finite(free["losses"]):
        stable, decisive, numbers = False, True, "a logged loss of the run without clipping is NaN or inf"
    else:
        ratio = free["final"] / clipped["final"]
        stable = ratio <= max_ratio
        decisive = ratio <= max_ratio / (1 + margin) or ratio > max_ratio * (1 + margin)
        numbers = (f"final validation MSE {fmt(free['final'])} without clipping, {fmt(clipped['final'])} with it "
                   f"({ratio:.2f}x; stable means at most {max_ratio:g}x and every loss finite)")
    where = f"your runs measured: {numbers}"
    if answer == stable:
        return verdict(True, f"consistent: {where}", answer, numbers)
    if decisive:
        return verdict(False, f"contradicted: you answered {answer}, but {where}, so training "
                              f"{'stays' if stable else 'does not stay'} stable", answer, numbers)
    return verdict(True, f"accepted: {where}; within the {margin:.0%} margin of {max_ratio:g}x, too close to call",
                   answer, numbers)


@dataclass(frozen=True)
class PlotAnswerSettings:
    # A pattern is decisively present when its strength (reports/diagnosis.py: 1 at the threshold the
    # report's diagnosis names it by) exceeds 1 + margin, decisively absent below 1 / (1 + margin).
    margin: float = 0.25


@item("answer_plot", settings=PlotAnswerSettings, points=3, functions=("PLOT_SHOWS",),
      after="The lesson's lab", name="The plot's answer: what the predictions show (PLOT_SHOWS)")
def grade_answer_plot(ctx):
    from autograder.reports.diagnosis import pattern_strengths

    try:
        answer = claim(ctx, "PLOT_SHOWS", PATTERNS, str)
    except InvalidClaim as problem:
        return invalid(problem)
    lab, why = run(ctx, "LSTMForecaster")
    if lab is None:
        return unmeasured(answer, "the lab run's validation predictions", why)
    strengths = pattern_strengths(lab["truth"], lab["pred"])
    if strengths is None or not finite(list(strengths.values())):
        return unmeasured(answer, "the lab run's validation predictions", "they or the validation targets are not "
                                  "finite, or their lengths differ")
    margin = float(ctx.settings.margin)
    present = [name for name, s in strengths.items() if s > 1]
    numbers = ", ".join(f"{name} {s:.2f}" for name, s in strengths.items())
    where = (f"on your lab run's validation predictions each pattern's strength is {numbers} (above 1: shown; "
             f"the report's diagnosis names {', '.join(present) or 'none'})")
    if answer == "none":
        clear = [name for name, s in strengths.items() if s > 1 + margin]
        if clear:
            return verdict(False, f"contradicted: you answered 'none', but {where}: {clear[0]} is clearly there",
                           answer, numbers)
    elif strengths[answer] < 1 / (1 + margin):
        return verdict(False, f"contradicted: you answered {answer!r}, but {where}: {answer} is clearly absent",
                       answer, numbers)
    consistent = answer in present or (answer == "none" and not present)
    return verdict(True, f"{'consistent' if consistent else 'accepted'}: {where}"
                         f"{'' if consistent else f'; within the {margin:.0%} margin, too close to call'}",
                   answer, numbers)


@item("reasoning", points=0, self_check=False,
      functions=("WHY_WINDOW_SIZE", "WHY_GRU_VS_LSTM", "WHY_CLIPPING", "WHY_PLOT"), name="Your reasoning (WHY_*): graded by your instructor")
def grade_reasoning(ctx):
    """Nothing to judge here: the texts are kept, cut and made printable, for people to grade."""
    answers = read_answers(ctx, REASONS)
    texts = {name: reasoning_text(answers[name]) for name in REASONS}
    written = sum(bool(text) for text in texts.values())
    return Outcome(0.0, f"to be graded by your instructor: {written} of {len(REASONS)} answers written",
                   [], {"reasoning": texts})
