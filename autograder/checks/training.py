"""Checks for training: the loop, gradient clipping, and beating the naive baseline.

The loop is checked by parity: the worker trains a small probe model (an LSTM
with dropout, so train and eval mode differ) with the student's
``train_model``; the grader trains the same model from the same weights with
the reference loop. Equal final parameters and equal logged losses mean the
same epochs, learning rate, zero_grad, mean loss and eval-mode validation.
A missing ``zero_grad``, a summed loss, an ignored ``lr`` or an extra epoch
all move the parameters.
"""

import re

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from autograder.checks.base import CheckFailed, Subchecks, arg, need_array, need_close, need_number
from autograder.hidden import random_series
from autograder.worker import load_params, probe_models

LOG_LINE = re.compile(r"^epoch=(\d{3,}) train_mse=(-?\d+\.\d{4}) val_mse=(-?\d+\.\d{4})$")
# train_loop's probe has dropout, so validation in training mode changes val_mse.
PROBE = {"input_size": 1, "hidden_size": 6, "dropout": 0.25}
# grad_clipping's has none, so only clipping can change its result.
CLIP_PROBE = {"input_size": 1, "hidden_size": 6, "dropout": 0.0}


def _probe_setup(ctx, stream, probe, target_scale=1.0, rows=(26, 9), window=5):
    """Initial probe weights and a small dataset, all drawn from the item's seed."""
    rng = ctx.rng(stream)
    series = random_series(rng, rows[0] + rows[1] + window)
    X, y = ctx.reference.make_windows(series, window)
    X, y = X * target_scale, y * target_scale
    data = (X[: rows[0]], y[: rows[0]], X[rows[0]:], y[rows[0]:])
    ProbeNet, _ = probe_models()
    torch.manual_seed(int(rng.integers(0, 10_000)))
    params = [p.detach().numpy().copy() for p in ProbeNet(**probe).parameters()]
    return params, data, int(rng.integers(0, 10_000))


def _reference_train(ctx, params, data, seed, kwargs, probe=PROBE):
    """The reference loop on the probe: history, log lines, step norms, final params.

    The norms are seen by an optimizer step pre-hook, that is after any clipping.
    """
    ProbeNet, _ = probe_models()
    model = ProbeNet(**probe)
    load_params(model, params)
    logs, norms = [], []
    kwargs = dict(kwargs)
    if kwargs.pop("capture_log", False):
        kwargs["log"] = logs.append

    def record(optimizer, args, kw):
        norms.append(float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()))

    handle = register_optimizer_step_pre_hook(record)
    torch.manual_seed(seed)
    try:
        history = ctx.reference.train_model(model, *data, **kwargs)
    finally:
        handle.remove()
    return {"history": history, "logs": logs, "norms": norms, "model": model,
            "params": [p.detach().numpy() for p in model.parameters()]}


def _student_train(ctx, params, data, seed, kwargs, probe=PROBE):
    return ctx.op("train", probe=probe, params=[arg(p) for p in params],
                  data=[arg(d.numpy(), "tensor") for d in data], kwargs=kwargs, seed=seed)


def _compare_history(got, ref, tol):
    if not isinstance(got, list) or not all(isinstance(r, dict) for r in got):
        raise CheckFailed(f"train_model should return a list of dicts, got {type(got).__name__}")
    epochs = [r.get("epoch") for r in got]
    expected_epochs = [r["epoch"] for r in ref]
    if epochs != expected_epochs:
        raise CheckFailed(f"history rows should be at epochs {expected_epochs} (epoch 1, every log_every-th, "
                          f"the last), got {epochs}")
    for row, ref_row in zip(got, ref):
        if set(row) != {"epoch", "train_mse", "val_mse"}:
            raise CheckFailed(f"each row should have exactly the keys epoch, train_mse, val_mse; got {sorted(row)}")
        for key in ("train_mse", "val_mse"):
            value = need_number(row[key], f"row[{key!r}]")
            if not np.isclose(value, ref_row[key], rtol=tol, atol=tol):
                hint = (" (is validation run in model.eval() mode?)" if key == "val_mse"
                        else " (train_mse is the loss of that epoch's training step)")
                raise CheckFailed(f"at epoch {row['epoch']} {key} should be {ref_row[key]:.6f}, got {value:.6f}{hint}")


def _compare_params(got, ref, tol, what):
    for i, (g, r) in enumerate(zip(got, ref)):
        g = need_array(g, "parameter")
        if g.shape != r.shape or not np.allclose(g, r, rtol=tol, atol=tol):
            raise CheckFailed(f"{what}: after training, the parameters differ from the reference loop's "
                              f"(parameter {i}; max difference {np.abs(g - r).max():.3g}). Check zero_grad before "
                              "backward, a mean (not summed) loss, lr and the number of epochs")


def check_train_loop(ctx):
    tol = float(ctx.item.get("tolerance", 1e-4))
    epochs = int(ctx.item.get("epochs", 7))
    checks = Subchecks()
    # Small values keep every raw gradient norm below the clip norm, so clipping
    # mistakes belong to grad_clipping alone (checked below, on every run).
    params, data, seed = _probe_setup(ctx, "loop", PROBE, target_scale=0.25)
    runs = [
        {"epochs": epochs, "lr": 0.02, "clip_norm": 1.0, "log_every": 3, "capture_log": True},
        {"epochs": max(2, epochs // 2), "lr": 0.005, "clip_norm": 1.0, "log_every": 2, "log": None},
    ]

    def parity(kwargs):
        ref = _reference_train(ctx, params, data, seed, kwargs)
        raw = _reference_train(ctx, params, data, seed, dict(kwargs, clip_norm=None, log=None, capture_log=False))
        if max(raw["norms"]) >= kwargs["clip_norm"]:
            raise RuntimeError("the train_loop probe's raw gradients reach the clip norm; lower target_scale")
        got = _student_train(ctx, params, data, seed, kwargs)
        _compare_history(got["history"], ref["history"], tol)
        _compare_params(got["params"], ref["params"], tol, f"epochs={kwargs['epochs']}, lr={kwargs['lr']}")
        if got["training_after"]:
            raise CheckFailed("the model is still in training mode after train_model; end with model.eval()")
        n_val = len(data[2])
        for call in got["calls"]:
            if call["rows"] == n_val and (call["training"] or call["grad"]):
                raise CheckFailed("validation ran with " + ("the model in training mode" if call["training"]
                                  else "gradients on") + ": use model.eval() and torch.no_grad()")
        if not any(c["rows"] == n_val for c in got["calls"]):
            raise CheckFailed("the model never saw the validation set")
        if kwargs.get("capture_log"):
            if len(got["logs"]) != len(ref["logs"]):
                raise CheckFailed(f"log should be called {len(ref['logs'])} times, got {len(got['logs'])}")
            for line, ref_line in zip(got["logs"], ref["logs"]):
                match = LOG_LINE.match(line)
                if not match:
                    raise CheckFailed(f"log line {line!r} should look like {ref_line!r}")
                ref_values = [float(v) for v in LOG_LINE.match(ref_line).groups()[1:]]
                if int(match.group(1)) != int(LOG_LINE.match(ref_line).group(1)) or \
                        not np.allclose([float(v) for v in match.groups()[1:]], ref_values, atol=2e-4):
                    raise CheckFailed(f"log line {line!r} should be {ref_line!r}")

    checks.run(f"{runs[0]['epochs']} epochs, lr=0.02, log_every=3: losses, log lines, parameters, eval mode",
               parity, runs[0])
    checks.run(f"{runs[1]['epochs']} epochs, lr=0.005, log=None: history and parameters", parity, runs[1])

    def predict_probe():
        got = ctx.op("predict", probe=PROBE, params=[arg(p) for p in params], X=arg(data[2].numpy(), "tensor"))
        ProbeNet, _ = probe_models()
        model = ProbeNet(**PROBE)
        load_params(model, params)
        model.eval()
        with torch.no_grad():
            expected = model(data[2]).numpy()
        out = need_array(got["output"], "predict(model, X)", kind="tensor", shape=expected.shape)
        if any(c["training"] for c in got["calls"]):
            raise CheckFailed("predict ran the model in training mode (dropout on); call model.eval() first")
        if any(c["grad"] for c in got["calls"]):
            raise CheckFailed("predict ran with gradients on; wrap it in torch.no_grad()")
        need_close(out, expected, "predict(model, X)", rtol=1e-5, atol=1e-6)

    checks.run("predict: eval mode, no gradient, the model's outputs", predict_probe)
    return checks.outcome()


def check_grad_clipping(ctx):
    """Clipping seen from outside the loop: a global optimizer step hook reads the
    total gradient norm right before every step.

    The probe has no dropout and the reference is rerun for the number of steps
    the student's loop took, so loop mistakes (an extra epoch, a summed loss,
    validation in training mode) stay train_loop's and do not leak in here.
    """
    tol = float(ctx.item.get("tolerance", 1e-4))
    clip = float(ctx.item.get("clip_norm", 0.05))
    checks = Subchecks()
    params, data, seed = _probe_setup(ctx, "clip", CLIP_PROBE, target_scale=40.0)
    base = {"epochs": 5, "lr": 0.01, "log_every": 30, "log": None}

    def run(clip_norm):
        got = _student_train(ctx, params, data, seed, dict(base, clip_norm=clip_norm), CLIP_PROBE)
        if not got["norms"]:
            raise CheckFailed("no optimizer.step() was seen: train_model should step a torch.optim optimizer")
        ref = _reference_train(ctx, params, data, seed, dict(base, clip_norm=clip_norm, epochs=len(got["norms"])),
                               CLIP_PROBE)
        return got, ref

    def clipped():
        got, ref = run(clip)
        worst = max(got["norms"])
        if worst > clip * (1 + 1e-3):
            raise CheckFailed(f"with clip_norm={clip} a step ran with total gradient norm {worst:.4g}: clip the "
                              "total norm with clip_grad_norm_ after backward() and before step() (clipping each "
                              "value is not clipping the norm)")
        _compare_params(got["params"], ref["params"], tol, f"clip_norm={clip}")

    def unclipped():
        got, ref = run(None)
        if got["norms"][0] < 0.5 * ref["norms"][0]:
            raise CheckFailed(f"with clip_norm=None the first step's gradient norm should be about "
                              f"{ref['norms'][0]:.4g} (untouched), saw {got['norms'][0]:.4g}: skip clipping when "
                              "clip_norm is None")

    checks.run(f"clip_norm={clip}: every step's total gradient norm at most {clip}", clipped)
    checks.run("clip_norm=None: gradients untouched", unclipped)
    return checks.outcome()


# --- beating the baseline ------------------------------------------------------

def pipeline_series(ctx, count):
    """(series, model seed) pairs: hidden when grading, public in the self-check."""
    rng = ctx.rng("series")
    return [(random_series(rng), int(rng.integers(0, 10_000))) for _ in range(count)]


def run_pipeline(ctx, series, model_seed, init=None, rolling_steps=0, artifacts=None):
    """The student's own pipeline on ``series``; returns (ratio, details) measured here.

    ``artifacts`` (a dict) receives the details for the report's plots before any
    verdict, so a failing pipeline still shows its student what went wrong.
    """
    window, frac = 16, 0.8
    X, y = ctx.reference.make_windows(series, window)
    _, X_val, _, y_val = ctx.reference.time_split(X, y, frac)
    got = ctx.op("pipeline", series=arg(series), window=window, frac=frac, seed=model_seed,
                 cls="LSTMForecaster", init=init or {}, rolling_steps=rolling_steps)
    pred = need_array(got["val_pred"], "predict(model, X_val)")
    naive = ctx.reference.naive_mse(X_val, y_val)
    details = {"y_val": y_val.numpy().reshape(-1), "naive_pred": X_val[:, -1, 0].numpy(),
               "history": got.get("history"), "naive_mse": naive}
    if pred.size == len(y_val) and np.all(np.isfinite(pred)):
        details["pred"] = pred.reshape(-1)
        details["model_mse"] = float(((pred.reshape(-1).astype(np.float64) - details["y_val"]) ** 2).mean())
        if got.get("rolling") is not None:
            try:
                details["rolling"] = need_array(got["rolling"], "rolling").reshape(-1)
            except CheckFailed:
                pass
        if artifacts is not None:
            artifacts["pipeline"] = details
    # Predictions only mean something on the right rows: windows that end before their
    # target. A misaligned pipeline can hide its own target inside the window.
    their_X = need_array(got["X_val"], "the pipeline's X_val")
    their_y = need_array(got["y_val"], "the pipeline's y_val")
    if their_X.shape != tuple(X_val.shape) or their_y.shape != tuple(y_val.shape) or \
            not np.allclose(their_X, X_val.numpy()) or not np.allclose(their_y, y_val.numpy()):
        raise CheckFailed(f"the pipeline validates on other rows than the last {1 - frac:.0%} of {window}-step "
                          f"windows in time order (X_val {their_X.shape}, expected {tuple(X_val.shape)}): "
                          "fix make_windows and time_split first")
    need_array(got["val_pred"], "predict(model, X_val)", shape=tuple(y_val.shape))
    if "pred" not in details:
        raise CheckFailed("the validation predictions contain NaN or inf")
    return details["model_mse"] / naive, details


def check_beats_baseline(ctx):
    from autograder.checks.base import Outcome

    grading = ctx.mode == "grade"
    max_ratio = float(ctx.item.get("max_ratio" if grading else "check_max_ratio", 0.8))
    count = int(ctx.item.get("series", 3)) if grading else 1
    checks = Subchecks()
    for number, (series, seed) in enumerate(pipeline_series(ctx, count), start=1):
        def one(series=series, seed=seed, number=number):
            ratio, details = run_pipeline(ctx, series, seed, rolling_steps=20 if number == 1 else 0,
                                          artifacts=checks.artifacts if number == 1 else None)
            if ratio > max_ratio:
                verdict = "no better than" if ratio >= 0.95 else "not well below"
                raise CheckFailed(f"validation MSE {details['model_mse']:.4f} is {verdict} the naive "
                                  f"baseline's {details['naive_mse']:.4f} (ratio {ratio:.2f}, needs at most "
                                  f"{max_ratio}). Plot predictions against the truth: a lag or a flat line "
                                  "points at the windows, the split or the training loop")
        label = f"{ctx.data} series {number}: val MSE at most {max_ratio} x naive MSE"
        checks.run(label, one)
    outcome = checks.outcome()
    return Outcome(outcome.score, outcome.feedback, outcome.details, checks.artifacts)
