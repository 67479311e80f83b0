"""Checks for the data steps: windows, input validation, the time split, the naive baseline.

Most inputs are series whose values encode their index (``s[t, f] = 1000 f + t``),
so an off-by-one or a transposed axis shows up as a wrong, recognisable value.
"""

import numpy as np
from hypothesis import strategies as st

from autograder.items.base import (
    Unmet, StudentRaised, Criteria, arg, near, need_array, need_close, need_float,
)
from autograder.hidden import index_series, random_series
from autograder.items.registry import item

KINDS = st.sampled_from(["ndarray", "tensor", "list"])


def several(value, count):
    """True for a tuple or a list of ``count`` items: both unpack alike, and the spec's ``-> (a, b)``
    does not rule out a list."""
    return isinstance(value, (tuple, list)) and len(value) == count


def described(value):
    """ "a list of 3 items", "a tuple of 5 items", "a dict": what was returned, for feedback."""
    kind = type(value).__name__ if not hasattr(value, "type_name") else value.type_name
    return f"a {kind} of {len(value)} items" if isinstance(value, (tuple, list)) else f"a {kind}"


def _windows(ctx, series, w, kind="ndarray", **kwargs):
    """The student's (X, y) for a series, with their types checked."""
    result = ctx.call("make_windows", arg(series, kind), w, **kwargs)
    if not several(result, 2):
        raise Unmet(f"make_windows should return a tuple (X, y), got {described(result)}")
    X, y = result
    n = len(series)
    n_features = 1 if np.ndim(series) == 1 else series.shape[1]
    X = need_array(X, "X", kind="tensor")
    y = need_array(y, "y", kind="tensor")
    if X.shape == (n - w + 1, w, n_features):
        raise Unmet(f"X has {n - w + 1} windows for n={n}, w={w}; expected {n - w}: "
                    "the last window has no value after it to predict")
    if X.shape == (n - w, w) and n_features == 1:
        raise Unmet(f"X has shape {X.shape}; it needs the feature axis: (n - w, w, 1) (unsqueeze(-1))")
    if X.shape == (n - w, n_features, w) and n_features > 1 and n_features != w:
        raise Unmet(f"X has shape {X.shape}: (windows, features, time). Expected (windows, time, "
                    "features); sliding_window_view puts the window axis last, so transpose, don't reshape")
    need_array(result[0], "X", dtype="float32", shape=(n - w, w, n_features))
    if y.shape == (n - w,):
        raise Unmet(f"y has shape {y.shape}; it should be (n - w, 1) (unsqueeze(-1))")
    need_array(result[1], "y", dtype="float32", shape=(n - w, 1))
    return X, y


def _expect_windows(series, w, target_col, X, y):
    values = series[:, None] if series.ndim == 1 else series
    n = len(values)
    for i in range(n - w):
        if not np.array_equal(X[i], values[i : i + w]):
            raise Unmet(f"X[{i}] should be series[{i}:{i + w}] = {values[i : i + w].reshape(-1)[:6].tolist()}, "
                        f"got {X[i].reshape(-1)[:6].tolist()}")
        expected = values[i + w, target_col]
        if y[i, 0] != expected:
            if y[i, 0] == values[i + w - 1, target_col]:
                raise Unmet(f"y[{i}] is the window's last value series[{i + w - 1}]; the target is "
                            f"the value after the window, series[{i + w}] = {expected}")
            if values.shape[1] > 1 and y[i, 0] == values[i + w, 0]:
                raise Unmet(f"y[{i}] comes from column 0; with target_col={target_col} it should be "
                            f"series[{i + w}, {target_col}] = {expected}")
            raise Unmet(f"y[{i}] should be series[{i + w}] = {expected}, got {y[i, 0]}")
    if n - w > 1 and not np.array_equal(X[1:, :-1], X[:-1, 1:]):
        raise Unmet("neighbouring windows should overlap: X[i + 1] is X[i] shifted by one step")


@item("make_windows", name="Sliding windows (1 feature)", points=10, functions=("make_windows",), after="Step 1")
def grade_make_windows(ctx):
    criteria = Criteria()

    def lesson_example():
        X, y = _windows(ctx, np.array([1, 2, 3, 4, 5, 6], dtype=np.float32), 3)
        _expect_windows(np.array([1, 2, 3, 4, 5, 6], dtype=np.float32), 3, 0, X, y)

    criteria.run("the lesson's example [1..6], window 3", lesson_example)

    @st.composite
    def cases(draw):
        n = draw(st.integers(2, 40))
        return {"n": n, "w": draw(st.integers(1, n - 1)), "kind": draw(KINDS)}

    def shapes_and_values(case):
        series = index_series(case["n"])
        X, y = _windows(ctx, series, case["w"], case["kind"])
        _expect_windows(series, case["w"], 0, X, y)

    criteria.prop(ctx, "windows of index-valued series (any length, window, input type)", cases(), shapes_and_values)

    def noisy_series():
        series = random_series(ctx.rng("series"))
        X, y = _windows(ctx, series, 16)
        X_ref, y_ref = ctx.reference.make_windows(series, 16)
        need_close(X, X_ref.numpy(), "X", rtol=0, atol=0)
        need_close(y, y_ref.numpy(), "y", rtol=0, atol=0)

    criteria.run(f"{ctx.data} noisy series, window 16", noisy_series)
    return criteria.outcome()


@item("make_windows_multifeature", name="Sliding windows (several features, any target column)", points=5,
      functions=("make_windows",), after="Step 1")
def grade_make_windows_multifeature(ctx):
    criteria = Criteria()

    @st.composite
    def cases(draw):
        n = draw(st.integers(2, 30))
        f = draw(st.integers(2, 4))
        return {"n": n, "f": f, "w": draw(st.integers(1, n - 1)), "target_col": draw(st.integers(0, f - 1)),
                "kind": draw(KINDS)}

    def multi(case):
        series = index_series(case["n"], case["f"])
        X, y = _windows(ctx, series, case["w"], case["kind"], target_col=case["target_col"])
        _expect_windows(series, case["w"], case["target_col"], X, y)

    criteria.prop(ctx, "(n, features) series with any target column", cases(), multi)

    def two_features():
        rng = ctx.rng("two")
        series = np.stack([random_series(rng, 150), random_series(rng, 150)], axis=1)
        X, y = _windows(ctx, series, 12, target_col=1)
        X_ref, y_ref = ctx.reference.make_windows(series, 12, target_col=1)
        need_close(X, X_ref.numpy(), "X", rtol=0, atol=0)
        need_close(y, y_ref.numpy(), "y", rtol=0, atol=0)

    criteria.run(f"{ctx.data} two-feature series, target_col=1", two_features)
    return criteria.outcome()


# --- input validation ---------------------------------------------------------

def _bad_inputs(ctx):
    """(function, label, op payload) for every bad input of the spec."""
    rng = ctx.rng("bad")
    s = random_series(rng, 30)
    two = np.stack([s, s * 2], axis=1)
    X3, y3 = ctx.reference.make_windows(s[:8], 4)                 # 4 windows
    X, y = ctx.reference.make_windows(s, 5)
    nan, inf = s.copy(), s.copy()
    nan[7], inf[11] = np.nan, np.inf
    call = lambda fn, *a, **k: {"op": "call", "fn": fn, "args": list(a), "kwargs": k}
    return [
        ("make_windows", "window_size=0", call("make_windows", arg(s), 0)),
        ("make_windows", "window_size=-3", call("make_windows", arg(s), -3)),
        ("make_windows", "window_size=2.0 (a float)", call("make_windows", arg(s), 2.0)),
        ("make_windows", "window_size=True (a bool)", call("make_windows", arg(s), True)),
        ("make_windows", "window_size equal to the series length", call("make_windows", arg(s), len(s))),
        ("make_windows", "window_size longer than the series", call("make_windows", arg(s), len(s) + 5)),
        ("make_windows", "a 3-D series", call("make_windows", arg(s.reshape(5, 3, 2)), 2)),
        ("make_windows", "a 0-D series", call("make_windows", arg(np.float32(1.5)), 1)),
        ("make_windows", "NaN in the series", call("make_windows", arg(nan), 4)),
        ("make_windows", "inf in the series", call("make_windows", arg(inf), 4)),
        ("make_windows", "target_col=2 with 2 features", call("make_windows", arg(two), 4, target_col=2)),
        ("make_windows", "target_col=1 with 1 feature", call("make_windows", arg(s), 4, target_col=1)),
        ("time_split", "train_frac=0", call("time_split", arg(X, "tensor"), arg(y, "tensor"), 0.0)),
        ("time_split", "train_frac=1", call("time_split", arg(X, "tensor"), arg(y, "tensor"), 1.0)),
        ("time_split", "train_frac=1.5", call("time_split", arg(X, "tensor"), arg(y, "tensor"), 1.5)),
        ("time_split", "train_frac=-0.2", call("time_split", arg(X, "tensor"), arg(y, "tensor"), -0.2)),
        ("time_split", "a split leaving training empty (4 rows, 0.2)",
         call("time_split", arg(X3, "tensor"), arg(y3, "tensor"), 0.2)),
        ("time_split", "a split leaving training empty (2 rows, 0.4)",
         call("time_split", arg(X3[:2], "tensor"), arg(y3[:2], "tensor"), 0.4)),
        ("time_split", "len(X) != len(y)", call("time_split", arg(X, "tensor"), arg(y[:-2], "tensor"), 0.8)),
        ("naive_mse", "len(X) != len(y)", call("naive_mse", arg(X, "tensor"), arg(y[:-1], "tensor"))),
        ("naive_forecast", "target_col=1 with 1 feature", call("naive_forecast", arg(X, "tensor"), 1)),
        ("rolling_forecast", "steps=0", {"op": "rolling", "stub": {"rule": "last_plus"},
                                         "window": arg(s[:5], "tensor"), "steps": 0}),
        ("rolling_forecast", "steps=-2", {"op": "rolling", "stub": {"rule": "last_plus"},
                                          "window": arg(s[:5], "tensor"), "steps": -2}),
    ]


def _good_inputs(ctx):
    """One valid call per function: a function that raises on everything earns nothing."""
    s = random_series(ctx.rng("good"), 30)
    X, y = ctx.reference.make_windows(s, 5)
    return {
        "make_windows": {"op": "call", "fn": "make_windows", "args": [arg(s), 5], "kwargs": {}},
        "time_split": {"op": "call", "fn": "time_split", "args": [arg(X, "tensor"), arg(y, "tensor"), 0.8], "kwargs": {}},
        "naive_mse": {"op": "call", "fn": "naive_mse", "args": [arg(X, "tensor"), arg(y, "tensor")], "kwargs": {}},
        "naive_forecast": {"op": "call", "fn": "naive_forecast", "args": [arg(X, "tensor")], "kwargs": {}},
        "rolling_forecast": {"op": "rolling", "stub": {"rule": "last_plus"}, "window": arg(s[:5], "tensor"), "steps": 2},
    }


# Every function's ValueErrors: the input checks are the functions it grades alone.
@item("input_validation", name="Bad input raises ValueError", points=7,
      functions=("validate_series", "validate_window_size", "validate_target_col", "validate_windows"))
def grade_input_validation(ctx):
    from autograder.items.base import NotImplementedYet, Outcome

    good, stubs = {}, []
    for fn, payload in _good_inputs(ctx).items():
        payload = dict(payload)
        try:
            ctx.op(payload.pop("op"), seed=1, **payload)
            good[fn] = None
        except StudentRaised as exc:
            if exc.not_implemented:          # exc.call names the stub that raised: validate_series, say
                stubs.append(exc.call)
                good[fn] = f"is not implemented yet ({exc.call} raises NotImplementedError)"
            else:
                good[fn] = f"raised {exc.info.get('type')} on valid input"
    if len(stubs) == len(good):
        raise NotImplementedYet(stubs[0])

    caught, failures = 0, []
    cases = _bad_inputs(ctx)
    for fn, label, payload in cases:
        if good[fn] is not None:
            failures.append(f"{fn} with {label}: counted as missed, since {fn} {good[fn]}")
            continue
        payload = dict(payload)
        try:
            ctx.op(payload.pop("op"), seed=1, **payload)
        except StudentRaised as exc:
            info = exc.info
            is_value_error = info.get("is_value_error") and "builtins.ValueError" in info.get("mro", [])
            if is_value_error and len(str(info.get("message", "")).strip()) >= 3:
                caught += 1
            elif is_value_error:
                failures.append(f"{fn} with {label}: ValueError has no message; say what is wrong")
            else:
                failures.append(f"{fn} with {label}: raised {info.get('type')} ({info.get('message', '')[:80]}), "
                                "expected ValueError")
            continue
        failures.append(f"{fn} with {label}: returned normally, expected ValueError")
    total = len(cases)
    if not failures:
        return Outcome(1.0, f"all {total} bad inputs raise ValueError with a message")
    return Outcome(caught / total, f"{caught}/{total} bad inputs raise ValueError. {failures[0]}", failures)


# --- time split -----------------------------------------------------------------

@item("time_split", name="Time-ordered split", points=6, functions=("time_split",), after="Step 2")
def grade_time_split(ctx):
    criteria = Criteria()

    @st.composite
    def cases(draw):
        n = draw(st.integers(2, 60))
        frac = draw(st.floats(0.05, 0.95))
        split = int(n * frac)
        if not 0 < split < n:
            frac = (n // 2 + 0.5) / n
        return {"n": n, "frac": frac, "kind": "tensor"}     # the spec gives time_split tensors only

    def split_case(case):
        n, frac = case["n"], case["frac"]
        X = np.arange(n * 3, dtype=np.float32).reshape(n, 3, 1)          # row i holds 3i..3i+2
        y = (np.arange(n, dtype=np.float32) + 0.5).reshape(n, 1)
        out = ctx.op("call", fn="time_split", args=[arg(X, case["kind"]), arg(y, case["kind"]), frac],
                     kwargs={}, seed=11)
        if not several(out, 4):
            raise Unmet(f"time_split should return (X_train, X_val, y_train, y_val), got {described(out)}")
        X_train, X_val, y_train, y_val = (need_array(v, name) for v, name in
                                          zip(out, ("X_train", "X_val", "y_train", "y_val")))
        split = int(n * frac)
        rows = [int(r) // 3 for r in np.concatenate([X_train, X_val]).reshape(-1, 3)[:, 0]] \
            if X_train.size + X_val.size == X.size else []
        if sorted(rows) == list(range(n)) and rows != list(range(n)):
            raise Unmet(f"the split holds every row but not in time order (rows {rows[:8]}...): "
                        "no shuffling, no random_split; train is [:split], validation is [split:]")
        if len(X_train) != split:
            raise Unmet(f"with {n} rows and train_frac={frac:.4g}, training should have "
                        f"int({n} * {frac:.4g}) = {split} rows, got {len(X_train)}")
        for got, expected, name in ((X_train, X[:split], "X_train"), (X_val, X[split:], "X_val"),
                                    (y_train, y[:split], "y_train"), (y_val, y[split:], "y_val")):
            if got.shape != expected.shape:
                raise Unmet(f"{name} should have shape {expected.shape}, got {got.shape}")
            if not np.array_equal(got, expected):
                raise Unmet(f"{name} should be rows {0 if 'train' in name else split}.."
                            f"{split - 1 if 'train' in name else n - 1} in order")
        again = ctx.op("call", fn="time_split", args=[arg(X, case["kind"]), arg(y, case["kind"]), frac],
                       kwargs={}, seed=12345)
        if not all(np.array_equal(need_array(a, "a"), need_array(b, "b")) for a, b in zip(out, again)):
            raise Unmet("time_split gave different rows under another random seed: nothing may be random")

    criteria.prop(ctx, "sizes int(n * train_frac), time order, no overlap", cases(), split_case)

    def default_fraction():
        X, y = ctx.reference.make_windows(random_series(ctx.rng("default"), 120), 10)
        out = ctx.op("call", fn="time_split", args=[arg(X, "tensor"), arg(y, "tensor")], kwargs={}, seed=3)
        if not several(out, 4):
            raise Unmet(f"time_split should return (X_train, X_val, y_train, y_val), got {described(out)}")
        expected = ctx.reference.time_split(X, y)
        for got, ref, name in zip(out, expected, ("X_train", "X_val", "y_train", "y_val")):
            need_close(need_array(got, name), ref.numpy(), name, rtol=0, atol=0)

    criteria.run(f"default train_frac=0.8 on {ctx.data} windows", default_fraction)
    return criteria.outcome()


# --- naive baseline ---------------------------------------------------------------

@item("naive_baseline", name="Naive last-value baseline", points=5, functions=("naive_forecast", "naive_mse"),
      after="Step 3")
def grade_naive_baseline(ctx):
    criteria = Criteria()

    @st.composite
    def cases(draw):
        n_features = draw(st.integers(1, 3))
        return {"rows": draw(st.integers(1, 12)), "w": draw(st.integers(1, 8)), "f": n_features,
                "target_col": draw(st.integers(0, n_features - 1))}

    def last_value(case):
        rows, w, f = case["rows"], case["w"], case["f"]
        X = (np.arange(rows * w * f, dtype=np.float32) * 1.5).reshape(rows, w, f)
        out = ctx.call("naive_forecast", arg(X, "tensor"), case["target_col"])
        got = need_array(out, "naive_forecast(X)", kind="tensor", shape=(rows, 1))
        expected = X[:, -1, case["target_col"]][:, None]
        if not np.array_equal(got, expected):
            if np.array_equal(got, X[:, -1, 0][:, None]):
                raise Unmet(f"the forecast reads feature 0; it should read target_col={case['target_col']}")
            if w > 1 and np.array_equal(got, X[:, 0, case["target_col"]][:, None]):
                raise Unmet("the forecast reads the first time step; it should read the last one, X[:, -1]")
            raise Unmet(f"naive_forecast should be X[:, -1, target_col], got {got[:3, 0].tolist()}...")

    criteria.prop(ctx, "naive_forecast is the last value of the target feature", cases(), last_value)

    def constant_and_linear():
        constant = np.full((10, 4, 1), 2.5, dtype=np.float32)
        mse = need_float(ctx.call("naive_mse", arg(constant, "tensor"), arg(np.full((10, 1), 2.5, np.float32), "tensor")),
                         "naive_mse(X, y)")
        if not near(mse, 0.0, 1e-9):
            raise Unmet(f"a constant series has naive MSE 0, got {mse}")
        slope = 3.0
        series = (slope * np.arange(30)).astype(np.float32)
        X, y = ctx.reference.make_windows(series, 5)
        mse = need_float(ctx.call("naive_mse", arg(X, "tensor"), arg(y, "tensor")), "naive_mse(X, y)")
        if not near(mse, slope ** 2, 1e-4):
            if near(mse, slope, 1e-4):
                raise Unmet(f"on a line of slope {slope} the naive MSE is {slope ** 2}; you returned "
                            f"{mse}, the RMSE. Return the mean squared error")
            raise Unmet(f"on a line of slope {slope} every naive error is {slope}, so the MSE is "
                        f"{slope ** 2}; got {mse}")

    criteria.run("naive_mse on a constant and a linear series", constant_and_linear)

    def two_features():
        rng = ctx.rng("naive")
        series = np.stack([random_series(rng, 120), random_series(rng, 120)], axis=1)
        X, y = ctx.reference.make_windows(series, 9, target_col=1)
        got = need_float(ctx.call("naive_mse", arg(X, "tensor"), arg(y, "tensor"), 1), "naive_mse(X, y, 1)")
        need_close(got, ctx.reference.naive_mse(X, y, 1), "naive_mse(X, y, target_col=1)", rtol=1e-5)

    criteria.run(f"naive_mse on {ctx.data} two-feature windows, target_col=1", two_features)
    return criteria.outcome()
