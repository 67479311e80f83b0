"""Checks for the real-project path: a Standardizer and a prepare_data that does not leak.

The leakage check is metamorphic: change every value after the training
region and call ``prepare_data`` again; the training windows, targets and the
scaler's statistics must not move.
"""

import numpy as np

from autograder.hidden import random_series
from autograder.items.base import Unmet, Criteria, arg, need_array, need_close
from autograder.items.registry import item
from autograder.items.standins import reference_steps, standing_in


def _stat(value, what, n_columns):
    array = need_array(value, what) if not isinstance(value, (int, float)) else np.asarray(value, dtype=np.float64)
    array = np.asarray(array, dtype=np.float64).reshape(-1)
    if array.size != n_columns:
        raise Unmet(f"{what} should hold one value per column ({n_columns}), got {array.size}")
    return array


@item("standardizer", name="Standardizer and leak-free prepare_data", points=5,
      functions=("Standardizer", "prepare_data"), after="The real-project path")
def grade_standardizer(ctx):
    criteria = Criteria()
    rng = ctx.rng("scaler")
    fit_values = np.stack([random_series(rng, 60) * 3 + 2, np.full(60, 4.0, np.float32),
                           random_series(rng, 60)], axis=1).astype(np.float32)
    other = (rng.normal(size=(25, 3)) * 5).astype(np.float32)

    def statistics_and_round_trip():
        got = ctx.op("scaler", fit=arg(fit_values), transform=[arg(other), arg(fit_values, "tensor")],
                     inverse=[arg(other)], chain=True)
        if got["transform"] is None:
            raise Unmet(f"fit should return self, so Standardizer().fit(v).transform(w) works "
                        f"(it returned {got.get('fit_returned', 'something else')})")
        mean = _stat(got["mean"], "mean_", 3)
        std = _stat(got["std"], "std_", 3)
        need_close(mean, fit_values.mean(axis=0), "mean_ (per column of what fit was given)", rtol=1e-5, atol=1e-5)
        if std[1] != 1.0:
            raise Unmet(f"a constant column should get std_ = 1 (so nothing divides by zero), got {std[1]}")
        population, sample = fit_values.std(axis=0), fit_values.std(axis=0, ddof=1)
        for c in (0, 2):
            if not (np.isclose(std[c], population[c], rtol=1e-4) or np.isclose(std[c], sample[c], rtol=1e-4)):
                raise Unmet(f"std_[{c}] should be the column's standard deviation {population[c]:.5g}, got {std[c]:.5g}")
        transformed = np.asarray(need_array(got["transform"][0], "transform(values)"), dtype=np.float64)
        need_close(transformed, (other - mean) / std, "transform(new values) with the fitted mean_ and std_",
                   rtol=1e-4, atol=1e-4)
        back = np.asarray(need_array(got["inverse"][0], "inverse_transform(values)"), dtype=np.float64)
        need_close(back, other * std + mean, "inverse_transform(values)", rtol=1e-4, atol=1e-4)
        round_trip = ctx.op("scaler", fit=arg(fit_values), transform=[], inverse=[arg(transformed.astype(np.float32))],
                            chain=True)
        need_close(need_array(round_trip["inverse"][0], "inverse_transform(transform(v))"), other,
                   "inverse_transform(transform(v))", rtol=1e-5, atol=1e-5)

    def one_dimensional():
        values = random_series(rng, 40) * 2 - 1
        got = ctx.op("scaler", fit=arg(values, "tensor"), transform=[arg(values)], inverse=[])
        mean = _stat(got["mean"], "mean_ of a 1-D series", 1)
        need_close(mean, [values.mean()], "mean_ of a 1-D series", rtol=1e-5, atol=1e-5)
        transformed = np.asarray(need_array(got["transform"][0], "transform(1-D values)"), dtype=np.float64)
        if transformed.reshape(-1).shape != values.shape:
            raise Unmet(f"transform of a 1-D series of length {len(values)} returned shape {transformed.shape}")

    series = random_series(ctx.rng("prepare"), 160)
    window, frac = 12, 0.8
    split = int((len(series) - window) * frac)
    seen = split + window                       # the values training windows and targets see

    # The reference's windows and split, in case the student's raise inside prepare_data (items/standins.py).
    steps = reference_steps(ctx.reference, windows=[(len(series), window)], splits=[(len(series) - window, frac)])

    def prepare(values):
        got = ctx.op("prepare", series=arg(values), window=window, frac=frac)
        if "shape_error" in got:
            raise Unmet(got["shape_error"])
        return got

    def fitted_on_training_values():
        got = prepare(series)
        mean, std = _stat(got["mean"], "the scaler's mean_", 1)[0], _stat(got["std"], "the scaler's std_", 1)[0]
        if _fitted_prefix(series, mean, std, longest=seen) is None:
            whole = _fitted_prefix(series, mean, std)
            if whole is not None:
                raise Unmet(f"the scaler was fitted on series[:{whole}], which reaches into the validation "
                            f"period: fit it on series[:split + window_size] = series[:{seen}] or less")
            raise Unmet(f"the scaler's mean_ {mean:.5g} and std_ {std:.5g} are not the statistics of the "
                        f"training values series[:{seen}] (or a shorter start of it)")
        future = series.copy()
        future[seen:] = future[seen:] * 10 + 50          # the validation future changes
        again = prepare(future)
        if not (np.allclose(_stat(again["mean"], "mean_", 1), mean) and np.allclose(_stat(again["std"], "std_", 1), std)):
            raise Unmet(f"changing values after index {seen - 1} changed the scaler: fit on training values only")

    def windows_of_the_scaled_series():
        got = prepare(series)
        names = ("X_train", "X_val", "y_train", "y_val")
        arrays = [need_array(a, name) for a, name in zip(got["arrays"], names)]
        mean, std = _stat(got["mean"], "mean_", 1)[0], _stat(got["std"], "std_", 1)[0]
        # Windows and the split are positional, so scaling commutes with them: scale the reference's
        # windows of the raw series (the same call whatever the student fitted; the hand-out replays it).
        X, y = ctx.reference.make_windows(series, window)
        expected = [(t.numpy().astype(np.float64) - mean) / std for t in ctx.reference.time_split(X, y, frac)]
        if all(a.shape == e.shape and np.allclose(a, e, rtol=1e-4, atol=1e-4) for a, e in zip(arrays, expected)):
            return
        composed = got.get("composed")
        if isinstance(composed, (list, tuple)) and len(composed) == 4:
            own = [c.array if hasattr(c, "array") else None for c in composed]
            if all(o is not None and a.shape == o.shape and np.allclose(a, o, rtol=1e-4, atol=1e-4)
                   for a, o in zip(arrays, own)):
                return                  # your own make_windows and time_split, composed as the spec says
        for a, e, name in zip(arrays, expected, names):
            need_close(a, e, f"{name} (windows of the scaled series, split {frac} in time order)", rtol=1e-4, atol=1e-4)

    criteria.run("prepare_data: the scaler is fitted on training values only",
                 standing_in, ctx, criteria, steps, fitted_on_training_values)
    criteria.run("per-column mean_ and std_, constant column, transform with fitted values, round trip",
                 statistics_and_round_trip)
    criteria.run("a 1-D series", one_dimensional)
    criteria.run("prepare_data: windows and split of the scaled series",
                 standing_in, ctx, criteria, steps, windows_of_the_scaled_series)
    return criteria.outcome()


def _fitted_prefix(series, mean, std, longest=None):
    """The length k of a start series[:k] whose mean and standard deviation (population or
    sample) are ``mean`` and ``std``; None if no k from 2 to ``longest`` fits."""
    values = np.asarray(series, dtype=np.float64)
    longest = longest or len(values)
    k = np.arange(1, len(values) + 1)
    total, squares = np.cumsum(values), np.cumsum(values ** 2)
    means = total / k
    variance = np.maximum(squares / k - means ** 2, 0)
    population = np.sqrt(variance)
    sample = np.sqrt(variance * k / np.maximum(k - 1, 1))
    for length in range(2, longest + 1):
        i = length - 1
        if np.isclose(means[i], mean, rtol=1e-4, atol=1e-5) and \
                (np.isclose(population[i], std, rtol=1e-3) or np.isclose(sample[i], std, rtol=1e-3)):
            return length
    return None
