"""Checks for exercises 1, 4 and 5: window comparison, a second feature, rolling forecasts.

Rolling forecasts are checked against stub models whose recursion has a closed
form (``next = last + step``, ``next = first``, ``next = mean``): the expected
forecast is known exactly, and every input the model was shown is recorded.
"""

import numpy as np
from hypothesis import strategies as st

from autograder.checks.base import CheckFailed, Subchecks, arg, need_array, need_close, need_number
from autograder.checks.training import run_pipeline
from autograder.hidden import random_series


def check_window_comparison(ctx):
    tol = float(ctx.item.get("tolerance", 1e-4))
    epochs = int(ctx.item.get("epochs", 4))
    checks = Subchecks()
    rng = ctx.rng("series")
    series = random_series(rng, 90)
    seed = int(rng.integers(0, 10_000))
    sizes = (4, 7)

    def same_as_reference():
        got = ctx.call("compare_window_sizes", arg(series), sizes, epochs=epochs, seed=seed)
        if not isinstance(got, dict):
            raise CheckFailed(f"compare_window_sizes should return a dict {{size: val_mse}}, got {type(got).__name__}")
        if sorted(got) != sorted(sizes):
            raise CheckFailed(f"the keys should be the window sizes {list(sizes)}, got {list(got)}")
        expected = ctx.reference.compare_window_sizes(series, sizes, epochs=epochs, seed=seed)
        for size in sizes:
            value = need_number(got[size], f"result[{size}]")
            if not np.isclose(value, expected[size], rtol=tol, atol=1e-6):
                raise CheckFailed(f"for window {size} the validation MSE should be {expected[size]:.6f}, got "
                                  f"{value:.6f}: seed with torch.manual_seed(seed) right before building each "
                                  "model, split 0.8 in time order, train with train_model")
        again = ctx.call("compare_window_sizes", arg(series), sizes, epochs=epochs, seed=seed)
        if not isinstance(again, dict) or any(again.get(s) != got[s] for s in sizes):
            raise CheckFailed("the same inputs gave different numbers on a second call: reseed for every size")

    def default_sizes():
        got = ctx.call("compare_window_sizes", arg(series), epochs=1, seed=seed)
        if not isinstance(got, dict) or sorted(got) != [8, 16, 32]:
            raise CheckFailed(f"by default the sizes are 8, 16 and 32; got keys {list(got) if isinstance(got, dict) else got}")

    checks.run(f"{ctx.data} series, sizes {sizes}, {epochs} epochs: the reference's numbers, twice", same_as_reference)
    checks.run("default sizes (8, 16, 32)", default_sizes)
    return checks.outcome()


def two_feature_draw(rng):
    """(n, seed) for exercise 4's series: lengths where a correct model reliably learns."""
    return int(rng.integers(220, 301)), int(rng.integers(0, 10_000))


def check_two_feature(ctx):
    max_ratio = float(ctx.item.get("max_ratio", 0.8))
    checks = Subchecks()
    rng = ctx.rng("two")
    n, seed = two_feature_draw(rng)

    def the_series():
        got = need_array(ctx.call("two_feature_series", n, seed), "two_feature_series(n, seed)",
                         dtype="float32", shape=(n, 2))
        expected = ctx.reference.two_feature_series(n, seed)
        need_close(got[:, 0], expected[:, 0], "column 0 (make_series(n, seed))", rtol=1e-6, atol=1e-6)
        need_close(got[:, 1], expected[:, 1], "column 1 (cos(0.12 t))", rtol=1e-6, atol=1e-6)

    def trains():
        series = ctx.reference.two_feature_series(n, seed)
        ratio, details = run_pipeline(ctx, series, seed, init={"input_size": 2})
        if ratio > max_ratio:
            raise CheckFailed(f"with two features the validation MSE {details['model_mse']:.4f} should be well "
                              f"below the naive {details['naive_mse']:.4f} (ratio {ratio:.2f} > {max_ratio})")

    checks.run(f"two_feature_series({n}, {seed}): shape (n, 2), float32, both columns", the_series)
    checks.run("windows of it train LSTMForecaster(input_size=2) past the baseline", trains)
    return checks.outcome()


def _expected_rolling(window, steps, rule, step):
    values = list(np.asarray(window, dtype=np.float64).reshape(-1))
    out = []
    for _ in range(steps):
        if rule == "last_plus":
            nxt = values[-1] + step
        elif rule == "first":
            nxt = values[0]
        else:
            nxt = float(np.mean(values))
        out.append(nxt)
        values = values[1:] + [nxt]
    return np.array(out)


def check_rolling_forecast(ctx):
    checks = Subchecks()

    @st.composite
    def cases(draw):
        w = draw(st.integers(1, 10))
        return {"w": w, "steps": draw(st.integers(1, 3 * w + 2)),
                "rule": draw(st.sampled_from(["last_plus", "first", "mean"])),
                "shape": draw(st.sampled_from(["(w,)", "(w, 1)"])),
                "kind": draw(st.sampled_from(["tensor", "ndarray"])),
                "start": draw(st.integers(-50, 50))}

    def rolling(case):
        w, steps, rule = case["w"], case["steps"], case["rule"]
        window = (np.arange(w, dtype=np.float32) * 0.5 + case["start"]).astype(np.float32)
        if case["shape"] == "(w, 1)":
            window = window[:, None]
        got = ctx.op("rolling", stub={"rule": rule, "step": 0.25}, window=arg(window, case["kind"]), steps=steps)
        result = need_array(got["result"], "rolling_forecast(...)", kind="tensor", shape=(steps,))
        if not got["window_unchanged"]:
            raise CheckFailed("rolling_forecast modified the window it was given; work on a copy")
        if got["n_calls"] != steps:
            raise CheckFailed(f"the model should be called once per step ({steps}), it was called {got['n_calls']} times")
        for i, call in enumerate(got["calls"]):
            if call["shape"] != [1, w, 1]:
                raise CheckFailed(f"call {i + 1} gave the model shape {call['shape']}; it expects [1, {w}, 1] "
                                  "(batch, seq_len, input_size)")
            if call["training"] or call["grad"]:
                raise CheckFailed("the model ran in training mode or with gradients; use model.eval() and "
                                  "torch.no_grad()")
        expected = _expected_rolling(window.reshape(-1), steps, rule, 0.25)
        expected_inputs = np.concatenate([window.reshape(-1), expected])
        for i, call in enumerate(got["calls"]):
            if not np.allclose(call["input"], expected_inputs[i : i + w], atol=1e-4):
                raise CheckFailed(f"at step {i + 1} the model should see {np.round(expected_inputs[i:i + w], 3).tolist()}, "
                                  f"it saw {np.round(call['input'], 3).tolist()}: drop the oldest value and append "
                                  "the prediction at the end")
        need_close(result, expected, f"rolling_forecast with a '{rule}' model", rtol=1e-5, atol=1e-4)

    checks.prop(ctx, "stub models with a closed-form recursion (any window, steps, shape)", cases(), rolling)
    return checks.outcome()
