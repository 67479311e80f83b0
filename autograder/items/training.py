"""Checks for training: the loop, gradient clipping, and beating the naive baseline.

The loop is checked by parity: the worker trains a small probe model (a tanh
recurrence with dropout, so train and eval mode differ) with the student's
``train_model``; the grader trains the same model from the same weights with
the reference loop. Equal final parameters and equal logged losses mean the
same epochs, learning rate, zero_grad, mean loss and eval-mode validation.
A missing ``zero_grad``, a summed loss, an ignored ``lr`` or an extra epoch
all move the parameters.
"""

import re
from dataclasses import dataclass

import numpy as np

from autograder.items.base import (
    Unmet, GraderWords, StudentRaised, Criteria, arg, finite, need_array, need_close, need_number,
    within,
)
from autograder.hidden import item_rng, random_series
from autograder.items.registry import item
from autograder.reference_pipeline import WINDOW, PlannedSeriesSettings, make_task, planned_draws
from autograder.sandbox.probes import load_params, probe_models

LOG_LINE = re.compile(r"^epoch=(\d{3,}) train_mse=(-?\d+\.\d{4}) val_mse=(-?\d+\.\d{4})$")
# train_loop's probe has dropout, so validation in training mode changes val_mse.
PROBE = {"input_size": 1, "hidden_size": 6, "dropout": 0.25}
# grad_clipping's has none, so only clipping can change its result.
CLIP_PROBE = {"input_size": 1, "hidden_size": 6, "dropout": 0.0}


def _probe_setup(ctx, stream, probe, target_scale=1.0, rows=(26, 9), window=5, rng=None):
    """Initial probe weights and a small dataset, all drawn from the item's seed (or from ``rng``)."""
    import torch

    rng = ctx.rng(stream) if rng is None else rng
    series = random_series(rng, rows[0] + rows[1] + window)
    X, y = ctx.reference.make_windows(series, window)
    X, y = X * target_scale, y * target_scale
    data = (X[: rows[0]], y[: rows[0]], X[rows[0]:], y[rows[0]:])
    ProbeNet, _ = probe_models()
    torch.manual_seed(int(rng.integers(0, 10_000)))
    params = [p.detach().numpy().copy() for p in ProbeNet(**probe).parameters()]
    return params, data, int(rng.integers(0, 10_000))


def _reference_train(ctx, params, data, seed, kwargs, probe=PROBE, record_steps=False):
    """The reference loop on the probe: history, log lines, step norms, final params, and with
    ``record_steps`` each step's parameters and gradients.

    The norms are seen by an optimizer step pre-hook, that is after any clipping.
    """
    import torch
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    ProbeNet, _ = probe_models()
    model = ProbeNet(**probe)
    load_params(model, params)
    logs, norms, steps = [], [], []
    kwargs = dict(kwargs)
    if kwargs.pop("capture_log", False):
        kwargs["log"] = logs.append

    def record(optimizer, args, kw):
        norms.append(float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()))
        if record_steps:
            steps.append({"params": [p.detach().numpy().copy() for p in model.parameters()],
                          "grads": [p.grad.detach().numpy().copy() for p in model.parameters()]})

    handle = register_optimizer_step_pre_hook(record)
    torch.manual_seed(seed)
    try:
        history = ctx.reference.train_model(model, *data, **kwargs)
    finally:
        handle.remove()
    return {"history": history, "logs": logs, "norms": norms, "steps": steps,
            "params": [p.detach().numpy() for p in model.parameters()]}


def _student_train(ctx, params, data, seed, kwargs, probe=PROBE):
    return ctx.op("train", probe=probe, params=[arg(p) for p in params],
                  data=[arg(d.numpy(), "tensor") for d in data], kwargs=kwargs, seed=seed)


def _diagnose_history(got, ref, n_train, n_val, calls, step_cause=None):
    """Why the logged losses differ from the reference loop's, read from where they first differ.

    Both loops start from the same weights, so epoch 1's train_mse (computed before the
    first step) must agree whatever the loop does next; what differs first names the mistake.
    """
    first, ref_first = got[0], ref[0]
    train_1 = need_number(first.get("train_mse"), "row['train_mse']")
    batches = sorted({c["rows"] for c in calls if c["training"] and c["grad"]} - {n_train, n_val})
    if batches:
        return (f"the model was trained on batches of {batches[:3]} rows; train_model trains full-batch: "
                f"one step per epoch on all {n_train} training rows")
    if not np.isclose(train_1, ref_first["train_mse"], rtol=1e-3, atol=1e-6):
        if np.isclose(train_1, ref_first["train_mse"] * n_train, rtol=1e-3):
            return ("epoch 1's train_mse is the SUM of squared errors; use the mean "
                    "(nn.MSELoss() with its default reduction)")
        if np.isclose(train_1, np.sqrt(ref_first["train_mse"]), rtol=1e-3):
            return "epoch 1's train_mse is the RMSE; report the mean squared error"
        return (f"epoch 1's train_mse should be {ref_first['train_mse']:.6f} (the MSE on the whole training set "
                f"before the first step), got {train_1:.6f}")
    cause = step_cause() if step_cause is not None else None
    if cause:
        return cause
    val_1 = need_number(first.get("val_mse"), "row['val_mse']")
    if not np.isclose(val_1, ref_first["val_mse"], rtol=1e-3, atol=1e-6):
        if any(c["training"] and not c["grad"] for c in calls):
            return "validation ran with the model in training mode (dropout on): call model.eval() before it"
        return (f"epoch 1's val_mse should be {ref_first['val_mse']:.6f}, got {val_1:.6f}: the first step differs "
                "from full-batch Adam with lr=lr (is lr passed to the optimizer? is the validation loss "
                "computed after the step, in eval mode?)")
    return ("epoch 1 matches the reference loop but later epochs do not: gradients accumulate across "
            "epochs (call optimizer.zero_grad() every epoch, before backward()) or the optimizer is "
            "rebuilt every epoch (create it once, before the loop)")


def first_step_lr(steps, final):
    """The learning rate of the loop's first optimizer step, if that step was Adam's, else None.

    Adam's first step moves each weight by lr * g / (|g| + eps): by lr itself wherever the gradient
    is not tiny, whatever the gradient's scale (so clipping does not change it). When those moves
    agree to 1% the step was Adam's and their median is its lr; an SGD step's moves do not agree.
    """
    if not steps:
        return None
    before = steps[0]["params"]
    after = steps[1]["params"] if len(steps) > 1 else final
    moves, grads = [], []
    for p0, p1, g in zip(before, after, steps[0]["grads"]):
        moves.append(np.abs(np.asarray(p1, np.float64) - np.asarray(p0, np.float64)).reshape(-1))
        grads.append(np.abs(np.asarray(g, np.float64)).reshape(-1))
    moves, grads = np.concatenate(moves), np.concatenate(grads)
    moves = moves[grads > 1e-4]
    if not moves.size or not finite(moves):
        return None
    lr = float(np.median(moves))
    if lr <= 0 or np.mean(np.abs(moves - lr) <= 0.01 * lr) < 0.9:
        return None
    return lr


def _named_lr(lr):
    """A measured lr for feedback: 0.001 named as Adam's default (the lr of an Adam not given one)."""
    return "0.001, Adam's default" if np.isclose(lr, 0.001, rtol=0.01) else f"{lr:.3g}"


def _step_cause(got, ref, kwargs):
    """The loop's step mistake, read from the steps its optimizer took, or None: the learning rate it
    used, or a gradient scaled although clip_norm is above every gradient of this run. Asked only once
    epoch 1's train_mse matched, so the loss is the reference's (a summed loss scales the gradient too)."""
    steps = got.get("steps") if isinstance(got.get("steps"), list) else []
    try:
        steps = [{"params": [need_array(p, "parameter") for p in s["params"]],
                  "grads": [need_array(g, "gradient") for g in s["grads"]]} for s in steps]
        final = [need_array(p, "parameter") for p in got["params"]]
    except (Unmet, KeyError, TypeError):
        return None
    lr = first_step_lr(steps, final)
    if lr is not None and not np.isclose(lr, kwargs["lr"], rtol=0.02):
        return (f"with lr={kwargs['lr']} the first Adam step moved each weight by {lr:.3g}, so the "
                f"optimizer ran with lr={_named_lr(lr)}: create it with torch.optim.Adam(model.parameters(), lr=lr)")
    norms = got.get("norms") if isinstance(got.get("norms"), list) else []
    if norms and ref["norms"] and finite(norms[0]) and not np.isclose(norms[0], ref["norms"][0], rtol=1e-3):
        fixed = finite(*norms) and np.isclose(max(norms), norms[0], rtol=1e-3)     # no step above the first
        return (f"the first step's gradient has total norm {norms[0]:.4g}, but the loss's gradient has "
                f"{ref['norms'][0]:.4g} and clip_norm={kwargs['clip_norm']:.4g} is above it"
                + (f": no step's gradient norm exceeds {norms[0]:.3g}, so the loop clips to a fixed number; "
                   "clip to clip_norm" if fixed else ": only clip_norm may scale the gradient")
                + " (grad_clipping grades the clipping)")
    return None


def _compare_history(got, ref, tol, n_train, n_val, calls, step_cause=None):
    if not isinstance(got, list) or not all(isinstance(r, dict) for r in got):
        raise Unmet(f"train_model should return a list of dicts, got {type(got).__name__}")
    epochs = [r.get("epoch") for r in got]
    expected_epochs = [r["epoch"] for r in ref]
    if epochs != expected_epochs:
        raise Unmet(f"history rows should be at epochs {expected_epochs} (epoch 1, every log_every-th, "
                    f"the last), got {epochs}")
    for row in got:
        if set(row) != {"epoch", "train_mse", "val_mse"}:
            raise Unmet(f"each row should have exactly the keys epoch, train_mse, val_mse; got {sorted(row)}")
    for row, ref_row in zip(got, ref):
        for key in ("train_mse", "val_mse"):
            value = need_number(row[key], f"row[{key!r}]")
            if not np.isclose(value, ref_row[key], rtol=tol, atol=tol):
                cause = _diagnose_history(got, ref, n_train, n_val, calls, step_cause)
                if cause.startswith(("epoch 1's", "with lr=", "the first step's")):   # the whole story
                    raise Unmet(cause)
                raise Unmet(f"at epoch {row['epoch']} {key} should be {ref_row[key]:.6f}, got {value:.6f}: "
                            + cause)


def _left_in_eval_mode(got, X_val, probe=PROBE):
    """Whether the output the worker measured after train_model returned is the eval-mode output of
    the weights it trained, recomputed here: the probe's dropout changes it in training mode, and
    it is a value to compute, not a flag the submission could rewrite."""
    import torch

    after = need_array(got.get("after"), "the model's output after train_model")
    ProbeNet, _ = probe_models()
    model = ProbeNet(**probe)
    load_params(model, [np.asarray(need_array(p, "parameter"), dtype=np.float32) for p in got["params"]])
    model.eval()
    with torch.no_grad():
        expected = model(torch.as_tensor(X_val)).numpy()         # (n_val, 1)
    return after.shape == expected.shape and np.allclose(after, expected, rtol=1e-5, atol=1e-6)


def _compare_params(got, ref, tol, what):
    for i, (g, r) in enumerate(zip(got, ref)):
        g = need_array(g, "parameter")
        if g.shape != r.shape or not np.allclose(g, r, rtol=tol, atol=tol):
            raise Unmet(f"{what}: after training, the parameters differ from the reference loop's "
                        f"(parameter {i}; max difference {np.abs(g - r).max():.3g}). Check zero_grad before "
                        "backward, a mean (not summed) loss, lr and the number of epochs")


def trains_a_probe(ctx):
    """Whether the student's train_model changes a probe model's weights (to finite values) in a short
    run: the least a train_model does. Other items lean on it before trusting its reports."""
    # train_loop's own probe and data: the same reference calls, so the hand-out's recorded answers hold them.
    loop_rng = item_rng(ctx.seed, "train_loop", "loop")
    params, data, seed = _probe_setup(ctx, "loop", PROBE, target_scale=0.25, rng=loop_rng)
    try:
        got = _student_train(ctx, params, data, seed, {"epochs": 2, "lr": 0.01, "log_every": 1, "log": None,
                                                       "clip_norm": None})
        after = [need_array(p, "parameter") for p in got["params"]]
    except (Unmet, StudentRaised, KeyError, TypeError):
        return False
    return len(after) == len(params) and finite(*after) and \
        not all(a.shape == p.shape and np.array_equal(a, p) for a, p in zip(after, params))


def clip_above(norms):
    """A clip_norm that no step of a run reaches: clipping then cannot change it."""
    return max(1.0, float(np.ceil(4 * max(norms))))


@dataclass(frozen=True)
class TrainLoopSettings:
    epochs_range: tuple[int, int] = (11, 24)   # the long run's epoch count is drawn from this range (a fixed
                                               # count let a loop that caps epochs pass)
    tolerance: float = 1e-4                    # parameters and logged losses against the reference


@item("train_loop", settings=TrainLoopSettings, name="Training loop and predict", points=9,
      functions=("train_model", "predict"), after="Step 5")
def grade_train_loop(ctx):
    """Parity with the reference loop on a probe, for two runs with drawn settings.

    The epoch counts are drawn from the seed (a fixed 7 let a loop that caps epochs
    at 10 pass), and each run's clip_norm is set above every raw gradient norm the
    reference meets on it, measured here: clipping mistakes are grad_clipping's.
    """
    import torch

    tol = float(ctx.settings.tolerance)
    low, high = ctx.settings.epochs_range
    rng = ctx.rng("settings")
    criteria = Criteria()
    params, data, seed = _probe_setup(ctx, "loop", PROBE, target_scale=0.25)
    runs = [
        {"epochs": int(rng.integers(low, high + 1)), "lr": 0.02, "log_every": int(rng.integers(3, 6)),
         "capture_log": True},
        {"epochs": int(rng.integers(2, 6)), "lr": 0.005, "log_every": 2, "log": None},
    ]
    for run in runs:
        raw = _reference_train(ctx, params, data, seed, dict(run, clip_norm=None, log=None, capture_log=False))
        run["clip_norm"] = clip_above(raw["norms"])
    n_train, n_val = len(data[0]), len(data[2])

    def parity(kwargs):
        ref = _reference_train(ctx, params, data, seed, kwargs)
        got = _student_train(ctx, params, data, seed, dict(kwargs, record_steps=True))
        calls = got["calls"] if isinstance(got.get("calls"), list) else []
        _compare_history(got["history"], ref["history"], tol, n_train, n_val, calls,
                         step_cause=lambda: _step_cause(got, ref, kwargs))
        _compare_params(got["params"], ref["params"], tol, f"epochs={kwargs['epochs']}, lr={kwargs['lr']}")
        if not _left_in_eval_mode(got, data[2]):
            raise Unmet("the model is still in training mode after train_model; end with model.eval()")
        # Parity above already proves eval-mode validation (the probe has dropout); gradients
        # during validation leave no trace in the numbers, so only the call records can show them.
        for call in calls:
            if call["rows"] == n_val and call["grad"]:
                raise Unmet("validation ran with gradients on: wrap it in torch.no_grad()")
        if kwargs.get("capture_log"):
            if len(got["logs"]) != len(ref["logs"]):
                raise Unmet(f"log should be called {len(ref['logs'])} times, got {len(got['logs'])}")
            for line, ref_line in zip(got["logs"], ref["logs"]):
                match = LOG_LINE.match(line)
                if not match:
                    raise Unmet(f"log line {line!r} should look like {ref_line!r}")
                ref_values = [float(v) for v in LOG_LINE.match(ref_line).groups()[1:]]
                if int(match.group(1)) != int(LOG_LINE.match(ref_line).group(1)) or \
                        not np.allclose([float(v) for v in match.groups()[1:]], ref_values, atol=2e-4):
                    raise Unmet(f"log line {line!r} should be {ref_line!r}")

    criteria.run(f"{runs[0]['epochs']} epochs, lr=0.02, log_every={runs[0]['log_every']}: losses, log lines, "
                 "parameters, eval mode", parity, runs[0])
    criteria.run(f"{runs[1]['epochs']} epochs, lr=0.005, log=None: history and parameters", parity, runs[1])

    def predict_probe():
        got = ctx.op("predict", probe=PROBE, params=[arg(p) for p in params], X=arg(data[2].numpy(), "tensor"))
        ProbeNet, _ = probe_models()
        model = ProbeNet(**PROBE)
        load_params(model, params)
        model.eval()
        with torch.no_grad():
            expected = model(data[2]).numpy()
        out = need_array(got["output"], "predict(model, X)", kind="tensor", shape=expected.shape)
        if not np.allclose(out, expected, rtol=1e-5, atol=1e-6):
            if any(c["training"] for c in got["calls"]):
                raise Unmet("predict ran the model in training mode (dropout on); call model.eval() first")
            need_close(out, expected, "predict(model, X)", rtol=1e-5, atol=1e-6)
        if any(c["grad"] for c in got["calls"]):
            raise Unmet("predict ran with gradients on; wrap it in torch.no_grad()")

    criteria.run("predict: eval mode, no gradient, the model's outputs", predict_probe)
    return criteria.outcome()


def _clip_setup(ctx, fraction, tol):
    """Probe weights, data and a clip norm that acts on every step of the reference's clipped run.

    The norm starts at ``fraction`` of the smallest raw gradient norm and is halved until
    every step of the clipped reference run sits exactly at it (a step below it would
    mean clipping did nothing there); the raw first step is kept far above any clip
    norm a loop might hard-code (1.0), so "clip_norm=None still clips" shows. A draw is kept only
    when the check can tell a loop that shows its step hook clipped gradients but steps with the
    unclipped ones (``_tells_shown_from_used``); else the next draw is tried.
    """
    base = {"epochs": 5, "lr": 0.05, "log_every": 30, "log": None}
    rng, scale = ctx.rng("clip"), 40.0
    for _ in range(12):
        params, data, seed = _probe_setup(ctx, "clip", CLIP_PROBE, target_scale=scale, rng=rng)
        raw = _reference_train(ctx, params, data, seed, dict(base, clip_norm=None), CLIP_PROBE, record_steps=True)
        if raw["norms"][0] < 5.0:
            scale *= 2
            continue
        clip = fraction * min(raw["norms"])
        for _ in range(12):
            clipped = _reference_train(ctx, params, data, seed, dict(base, clip_norm=clip), CLIP_PROBE)
            if all(abs(n - clip) <= 1e-3 * clip for n in clipped["norms"]):
                break
            clip /= 2
        else:
            scale *= 2
            continue
        if _tells_shown_from_used(raw, clip, base["lr"], tol):
            return params, data, seed, base, float(clip), raw
        raise RuntimeError("no probe whose gradients clipping can act on: report this seed to the kit's maintainers")


def _tells_shown_from_used(raw, clip, lr, tol):
    """Whether Adam replayed on the raw run's gradients scaled to ``clip`` misses the raw run's own
    parameters: the replay (``_adam_consumed``) then catches a loop that shows the step hook clipped
    gradients but steps with the unclipped ones. Adam ignores a gradient's scale when every step is
    scaled by the same factor, so this needs raw norms that change from step to step."""
    shown = [{"params": step["params"], "grads": [g * (clip / norm) for g in step["grads"]]}
             for step, norm in zip(raw["steps"], raw["norms"])]
    return not _adam_consumed(shown, raw["params"], lr, tol)


def _snapped(lr):
    """A measured lr as the round number a student would have typed, when it is within 1% of one."""
    rounded = float(f"{lr:.1g}")
    return rounded if np.isclose(lr, rounded, rtol=0.01) else lr


def _adam_consumed(steps, final, lr, tol):
    """True when every step's parameters follow from the previous ones by Adam with lr on exactly
    the gradients the step hook saw (one optimizer for the whole run, or a new one each step).

    This is what makes the hook's norms trustworthy: a loop that shows the hook clipped
    gradients but steps with others cannot reproduce its own parameters.
    """
    import torch

    after = [s["params"] for s in steps[1:]] + [final]
    for fresh_each_step in (False, True):
        params = [torch.nn.Parameter(torch.from_numpy(np.array(p, dtype=np.float32))) for p in steps[0]["params"]]
        optimizer = torch.optim.Adam(params, lr=lr)
        consistent = True
        for step, expected in zip(steps, after):
            if fresh_each_step:
                optimizer = torch.optim.Adam(params, lr=lr)
            with torch.no_grad():
                for p, start in zip(params, step["params"]):
                    p.copy_(torch.from_numpy(np.array(start, dtype=np.float32)))
            for p, grad in zip(params, step["grads"]):
                p.grad = torch.from_numpy(np.array(grad, dtype=np.float32))
            optimizer.step()
            if not all(np.allclose(p.detach().numpy(), e, rtol=tol, atol=tol) for p, e in zip(params, expected)):
                consistent = False
                break
        if consistent:
            return True
    return False


@dataclass(frozen=True)
class ClipSettings:
    clip_fraction: float = 0.1    # the clip norm's share of the probe's smallest raw gradient norm (halved
                                  # until clipping acts on every step of the reference's run)
    tolerance: float = 1e-4       # the replayed Adam steps against the loop's own parameters


@item("grad_clipping", settings=ClipSettings, name="Gradient clipping by total norm", points=6,
      functions=("train_model",), after="Step 5")
def grade_grad_clipping(ctx):
    """Clipping seen from outside the loop: global optimizer step hooks record the
    parameters right before every step and the gradients right after it (a loop that
    passes a closure to ``optimizer.step`` makes them inside the step).

    The verdict is about the gradients Adam consumed: with clip_norm=c every step's
    total norm must be c (the probe's raw norms are all at least 10c), and replaying
    Adam here on the recorded gradients must reproduce the loop's own parameters,
    so a hook shown other gradients than the step used gives itself away. Nothing
    is compared with the reference's trajectory, so loop mistakes (no zero_grad, a
    summed loss, an extra epoch) stay train_loop's.
    """
    tol = float(ctx.settings.tolerance)
    criteria = Criteria()
    params, data, seed, base, clip, raw = _clip_setup(ctx, float(ctx.settings.clip_fraction), tol)

    def run(clip_norm):
        got = _student_train(ctx, params, data, seed, dict(base, clip_norm=clip_norm, record_steps=True), CLIP_PROBE)
        steps = got.get("steps") if isinstance(got.get("steps"), list) else []
        if not steps:
            raise Unmet("no optimizer.step() was seen: train_model should step a torch.optim optimizer")
        steps = [{"params": [need_array(p, "parameter") for p in s["params"]],
                  "grads": [need_array(g, "gradient") for g in s["grads"]]} for s in steps]
        final = [need_array(p, "parameter") for p in got["params"]]
        norms = [float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in s["grads"]))) for s in steps]
        return steps, final, norms

    def consumed(steps, final):
        """Adam at the lr asked for, or at the lr the loop's first step shows (a wrong lr is train_loop's)."""
        own = first_step_lr(steps, final)
        return _adam_consumed(steps, final, base["lr"], tol) or \
            (own is not None and _adam_consumed(steps, final, _snapped(own), tol))

    def clipped():
        steps, final, norms = run(clip)
        if not finite(norms):
            raise Unmet(f"with clip_norm={clip:.4g} a step ran with a NaN or infinite gradient")
        worst, least = max(norms), min(norms)
        if len(norms) > 1 and np.allclose(norms, norms[0], rtol=1e-3) and not np.isclose(norms[0], clip, rtol=1e-3):
            raise Unmet(f"with clip_norm={clip:.4g} every step ran with total gradient norm {norms[0]:.4g}: "
                        f"the gradients are clipped to a fixed {norms[0]:.3g}, not to clip_norm; pass "
                        "clip_norm to clip_grad_norm_")
        if not within(worst, clip * (1 + 1e-3)):
            raise Unmet(f"with clip_norm={clip:.4g} a step ran with total gradient norm {worst:.4g}: clip the "
                        "total norm with clip_grad_norm_ after backward() and before step() (clipping each "
                        "value is not clipping the norm)")
        if not least >= clip * (1 - 1e-3):               # norms are finite here
            raise Unmet(f"with clip_norm={clip:.4g} a step ran with total gradient norm {least:.4g}, although "
                        "every raw gradient here is far larger: clipping should scale the gradient down to "
                        "exactly clip_norm, not below it")
        if not consumed(steps, final):
            raise Unmet("the parameters after each step do not follow from the gradients seen at "
                        "optimizer.step(): clip the gradients in place, then call step() on them")

    def unclipped():
        steps, final, norms = run(None)
        if not (finite(norms) and norms[0] >= 0.5 * raw["norms"][0]):
            raise Unmet(f"with clip_norm=None the first step's gradient norm should be about "
                        f"{raw['norms'][0]:.4g} (untouched), saw {norms[0]:.4g}: skip clipping when "
                        "clip_norm is None")
        if not consumed(steps, final):
            raise Unmet("the parameters after each step do not follow from the gradients seen at "
                        "optimizer.step()")

    criteria.run(f"clip_norm={clip:.3g}: the gradients every step used have total norm exactly the clip norm",
                 clipped)
    criteria.run("clip_norm=None: gradients untouched", unclipped)
    return criteria.outcome()


# --- beating the baseline ------------------------------------------------------

def run_student_model(ctx, task, init=None, artifacts=None, rolling_steps=0):
    """Train the student's model on the grader's task; the held-out ratio, measured here.

    The held-out windows go to ``predict`` one at a time, in time order, so no call
    sees a value it is asked to forecast. Everything the report may show (the
    history, the validation predictions, a rolling forecast, and MSEs on the
    validation stretch) is taken before the first held-out window is sent, into
    ``artifacts``, so a failing model still shows its student why; nothing the code
    makes afterwards leaves this function but the ratio. Failures after that point
    are told in the grader's words (``GraderWords``), as a quiet Criteria requires.
    """
    data = [arg(t.numpy(), "tensor") for t in (task.X_train, task.y_train, task.X_val, task.y_val)]
    fitted = ctx.op("fit", data=data, seed=task.model_seed, init=init or {})
    if artifacts is not None:
        _validation_details(ctx, task, fitted, artifacts, rolling_steps)
    preds = []
    for i in range(len(task.X_test)):                      # from here on, the code holds held-out data
        out = ctx.op("predict_next", X=arg(task.X_test[i : i + 1].numpy(), "tensor"))
        value = need_array(out, "predict(model, X) on one window")
        if value.size != 1:
            raise GraderWords(f"predict(model, X) on one window of shape (1, {WINDOW}, {task.input_size}) should "
                              "return shape (1, 1)")
        preds.append(float(value.reshape(-1)[0]))
    pred = np.array(preds)
    if not finite(pred):
        raise GraderWords("the held-out predictions contain NaN or inf")
    truth = task.y_test.numpy().reshape(-1).astype(np.float64)
    return float(((pred - truth) ** 2).mean()) / task.naive_mse()


def _validation_details(ctx, task, fitted, artifacts, rolling_steps):
    """What the report plots, from the validation stretch the student's code already had."""
    y_val, naive_pred = task.y_val.numpy().reshape(-1), task.X_val[:, -1, 0].numpy()
    details = {"y_val": y_val, "naive_pred": naive_pred, "history": fitted.get("history"),
               "naive_mse": float(((naive_pred - y_val) ** 2).mean())}
    details["own"] = _own_data_steps(ctx)
    try:
        val_pred = need_array(fitted.get("val_pred"), "predict(model, X_val)").reshape(-1)
        if val_pred.shape != y_val.shape or not finite(val_pred):
            return
        details["pred"], details["model_mse"] = val_pred, float(((val_pred - y_val) ** 2).mean())
        if rolling_steps:
            rolled = ctx.op("roll", window=arg(task.X_val[0, :, 0].numpy(), "tensor"), steps=rolling_steps)
            details["rolling"] = need_array(rolled, "rolling").reshape(-1)
    except (Unmet, StudentRaised):
        pass
    artifacts["pipeline"] = details


def _own_data_steps(ctx, n=40):
    """What the student's own make_windows and time_split do to the index series 0, 1, 2, ...: how far
    after each window's last value its target lies (1 is right, 0 is the classic lag bug), and whether
    the split keeps time order. The report's diagnosis reads it (reports/diagnosis.py): the model it
    plots trained on the grader's windows, where neither mistake can show. A fact is left out when the
    student's function raises or returns something else."""
    own = {"window": WINDOW}
    index = np.arange(n, dtype=np.float32)

    def target_offset():
        X, y = (need_array(v, "make_windows") for v in ctx.call("make_windows", arg(index), WINDOW))
        offsets = y.reshape(len(y), -1)[:, 0] - X[:, -1].reshape(len(X), -1)[:, 0]
        if len(X) == len(y) > 0 and np.all(offsets == offsets[0]):
            own["target_offset"] = int(offsets[0])

    def split_in_order():
        parts = ctx.call("time_split", arg(index.reshape(n, 1, 1), "tensor"), arg(index.reshape(n, 1), "tensor"), 0.8)
        X_train, X_val = need_array(parts[0], "X_train"), need_array(parts[1], "X_val")
        order = np.concatenate([X_train.reshape(-1), X_val.reshape(-1)])
        if sorted(order.tolist()) == index.tolist():
            own["split_in_order"] = bool(np.all(np.diff(order) > 0))

    # A function that hung in its own item is refused here (Session.attempt): that item alone pays for it.
    try:
        ctx.session.attempt(target_offset)
    except (Unmet, StudentRaised, TypeError, ValueError, IndexError):
        pass
    try:
        ctx.session.attempt(split_in_order)
    except (Unmet, StudentRaised, TypeError, ValueError, IndexError, KeyError):
        pass
    return own


@dataclass(frozen=True)
class BaselineSettings(PlannedSeriesSettings):
    series: int = 3                 # hidden series graded, each with its own model seed
    check_max_ratio: float = 0.8    # the self-check's threshold, on the public series


# Held-out windows reach the worker here: the engine grades this item after every other one, in a
# fresh worker, and shows nothing the code prints or raises from then on.
@item("beats_baseline", settings=BaselineSettings, name="Your pipeline beats the naive baseline on unseen series",
      points=8, visibility="after_due_date", sees_held_out_data=True,
      functions=("LSTMForecaster", "train_model", "predict"), after="Step 5", planned="series")
def grade_beats_baseline(ctx):
    """The student's model against the naive baseline on held-out steps (see run_student_model)."""
    from autograder.items.base import Outcome

    grading = ctx.mode == "grade"
    max_ratio = float(ctx.settings.max_ratio if grading else ctx.settings.check_max_ratio)
    held_out = int(ctx.settings.held_out)
    criteria = Criteria(quiet=True)
    draws = planned_draws(ctx.plan, ctx.seed, ctx.item, held_out)
    for number, (_, (series, model_seed)) in enumerate(draws, start=1):
        def one(series=series, model_seed=model_seed, number=number):
            task = make_task(ctx.reference, series, held_out, model_seed)
            ratio = run_student_model(ctx, task, rolling_steps=20 if number == 1 else 0,
                                      artifacts=criteria.artifacts if number == 1 else None)
            if not within(ratio, max_ratio):
                verdict = "not well below" if within(ratio, 0.95) else "no better than"
                raise GraderWords(f"on the {held_out} held-out steps your model's MSE is {verdict} the naive "
                                  f"baseline's (it must be at most {max_ratio} x the naive MSE). The grader made "
                                  "the windows and the split, so look at LSTMForecaster, train_model and predict: "
                                  "plot predictions against the truth (a lag means it copies the last value; a "
                                  "flat line, it is not learning)")
        criteria.run(f"{ctx.data} series {number}: held-out MSE at most {max_ratio} x naive MSE", one)
    outcome = criteria.outcome()
    return Outcome(outcome.score, outcome.feedback, outcome.details, criteria.artifacts)
