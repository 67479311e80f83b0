"""Checks for the real-project path: a Standardizer and a prepare_data that does not leak.

The leakage check is metamorphic: change every value after the training
region and call ``prepare_data`` again; the training windows, targets and the
scaler's statistics must not move.
"""

import numpy as np

from autograder.checks.base import CheckFailed, Subchecks, arg, need_array, need_close
from autograder.hidden import random_series


def _stat(value, what, n_columns):
    array = need_array(value, what) if not isinstance(value, (int, float)) else np.asarray(value, dtype=np.float64)
    array = np.asarray(array, dtype=np.float64).reshape(-1)
    if array.size != n_columns:
        raise CheckFailed(f"{what} should hold one value per column ({n_columns}), got {array.size}")
    return array


def check_standardizer(ctx):
    checks = Subchecks()
    rng = ctx.rng("scaler")
    fit_values = np.stack([random_series(rng, 60) * 3 + 2, np.full(60, 4.0, np.float32),
                           random_series(rng, 60)], axis=1).astype(np.float32)
    other = (rng.normal(size=(25, 3)) * 5).astype(np.float32)

    def statistics_and_round_trip():
        got = ctx.op("scaler", fit=arg(fit_values), transform=[arg(other), arg(fit_values, "tensor")],
                     inverse=[arg(other)])
        if not got["returns_self"]:
            raise CheckFailed("fit should return self, so Standardizer().fit(v).transform(w) works")
        mean = _stat(got["mean"], "mean_", 3)
        std = _stat(got["std"], "std_", 3)
        need_close(mean, fit_values.mean(axis=0), "mean_ (per column of what fit was given)", rtol=1e-5, atol=1e-5)
        if std[1] != 1.0:
            raise CheckFailed(f"a constant column should get std_ = 1 (so nothing divides by zero), got {std[1]}")
        population, sample = fit_values.std(axis=0), fit_values.std(axis=0, ddof=1)
        for c in (0, 2):
            if not (np.isclose(std[c], population[c], rtol=1e-4) or np.isclose(std[c], sample[c], rtol=1e-4)):
                raise CheckFailed(f"std_[{c}] should be the column's standard deviation {population[c]:.5g}, got {std[c]:.5g}")
        transformed = np.asarray(need_array(got["transform"][0], "transform(values)"), dtype=np.float64)
        need_close(transformed, (other - mean) / std, "transform(new values) with the fitted mean_ and std_",
                   rtol=1e-4, atol=1e-4)
        back = np.asarray(need_array(got["inverse"][0], "inverse_transform(values)"), dtype=np.float64)
        need_close(back, other * std + mean, "inverse_transform(values)", rtol=1e-4, atol=1e-4)
        round_trip = ctx.op("scaler", fit=arg(fit_values), transform=[], inverse=[arg(transformed.astype(np.float32))])
        need_close(need_array(round_trip["inverse"][0], "inverse_transform(transform(v))"), other,
                   "inverse_transform(transform(v))", rtol=1e-5, atol=1e-5)

    def one_dimensional():
        values = random_series(rng, 40) * 2 - 1
        got = ctx.op("scaler", fit=arg(values, "tensor"), transform=[arg(values)], inverse=[])
        mean = _stat(got["mean"], "mean_ of a 1-D series", 1)
        need_close(mean, [values.mean()], "mean_ of a 1-D series", rtol=1e-5, atol=1e-5)
        transformed = np.asarray(need_array(got["transform"][0], "transform(1-D values)"), dtype=np.float64)
        if transformed.reshape(-1).shape != values.shape:
            raise CheckFailed(f"transform of a 1-D series of length {len(values)} returned shape {transformed.shape}")

    series = random_series(ctx.rng("prepare"), 160)
    window, frac = 12, 0.8
    split = int((len(series) - window) * frac)

    def prepare(values):
        got = ctx.op("prepare", series=arg(values), window=window, frac=frac)
        if "shape_error" in got:
            raise CheckFailed(got["shape_error"])
        return got

    def matches_reference():
        got = prepare(series)
        X_train, X_val, y_train, y_val, scaler = ctx.reference.prepare_data(series, window, frac)
        for value, ref, name in zip(got["arrays"], (X_train, X_val, y_train, y_val),
                                    ("X_train", "X_val", "y_train", "y_val")):
            need_close(need_array(value, name, shape=tuple(ref.shape)), ref.numpy(), name, rtol=1e-4, atol=1e-4)

    def no_leak():
        first = prepare(series)
        future = series.copy()
        future[split + window:] = future[split + window:] * 10 + 50      # the validation future changes
        second = prepare(future)
        for name, a, b in (("X_train", first["arrays"][0], second["arrays"][0]),
                           ("y_train", first["arrays"][2], second["arrays"][2])):
            if not np.allclose(need_array(a, name), need_array(b, name), rtol=1e-6, atol=1e-6):
                raise CheckFailed(f"changing values after index {split + window - 1} changed {name}: the scaler "
                                  "saw the validation period. Fit it on series[:split + window_size] only")
        for name in ("mean", "std"):
            if not np.allclose(_stat(first[name], name + "_", 1), _stat(second[name], name + "_", 1)):
                raise CheckFailed(f"changing the validation future changed the scaler's {name}_: fit on training values only")

    checks.run("per-column mean_ and std_, constant column, transform with fitted values, round trip",
               statistics_and_round_trip)
    checks.run("a 1-D series", one_dimensional)
    checks.run("prepare_data equals the reference's windows", matches_reference)
    checks.run("prepare_data: changing the validation future moves nothing on the training side", no_leak)
    return checks.outcome()
