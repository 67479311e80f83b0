"""The lesson's five exercises and the standardised pipeline, each as one compact table.

Every function trains with the same seed as the lab, so the tables are the same
on every run; ``python -m solutions --exercises`` prints them all.
"""

import time

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from solutions.sequence_modeling import (
    GRUForecaster,
    LSTMForecaster,
    compare_window_sizes,
    make_series,
    make_windows,
    naive_mse,
    predict,
    prepare_data,
    rolling_forecast,
    time_split,
    train_model,
    two_feature_series,
)

SEED = 42
WINDOW = 16


def lab_data(window_size=WINDOW):
    """The lab's windows and time split: (X_train, X_val, y_train, y_val)."""
    X, y = make_windows(make_series(), window_size)
    return time_split(X, y, 0.8)


def train_fresh(model_class, data, **train_kwargs):
    """Seed, build and train a model on ``data``; returns (model, history, seconds)."""
    X_train, X_val, y_train, y_val = data
    torch.manual_seed(SEED)
    model = model_class(input_size=X_train.shape[2])
    start = time.perf_counter()
    history = train_model(model, X_train, y_train, X_val, y_val, log=None, **train_kwargs)
    return model, history, time.perf_counter() - start


def table(title, header, rows):
    """Format a small fixed-width table."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) for c, w in zip(cells, widths))
    return "\n".join([title, line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def exercise_window_sizes(series=None):
    """Exercise 1: validation MSE for windows of 8, 16 and 32."""
    results = compare_window_sizes(make_series() if series is None else series)
    best = min(results, key=results.get)
    rows = [[size, f"{mse:.4f}", "<- best" if size == best else ""] for size, mse in results.items()]
    return results, table("Exercise 1: window size", ["window", "val_mse", "best"], rows)


def exercise_gru():
    """Exercise 2: LSTM against GRU on the lab's data."""
    data = lab_data()
    rows = []
    for name, model_class in [("LSTM", LSTMForecaster), ("GRU", GRUForecaster)]:
        _, history, seconds = train_fresh(model_class, data)
        rows.append([name, f"{history[0]['val_mse']:.4f}", f"{history[-1]['val_mse']:.4f}", f"{seconds:.2f}"])
    return table("Exercise 2: LSTM vs GRU", ["model", "val_mse@1", "val_mse@120", "seconds"], rows)


class GradNormRecorder:
    """Records the total gradient norm of every backward pass, before any clipping.

    A tensor hook on each parameter sees its full gradient as backward produces
    it, which is before ``clip_grad_norm_`` rescales it in place.
    """

    def __init__(self, model):
        self.squares = 0.0
        self.norms = []
        self.handles = [p.register_hook(self._add) for p in model.parameters()]
        self.step_hook = register_optimizer_step_pre_hook(self._close)

    def _add(self, grad):
        self.squares += float(grad.pow(2).sum())

    def _close(self, optimizer, args, kwargs):
        self.norms.append(self.squares ** 0.5)
        self.squares = 0.0

    def remove(self):
        for handle in self.handles + [self.step_hook]:
            handle.remove()


def exercise_clipping():
    """Exercise 3: clipping at 1.0 against no clipping, with the largest raw gradient norm."""
    X_train, X_val, y_train, y_val = lab_data()
    rows = []
    for label, clip_norm in [("clip 1.0", 1.0), ("no clip", None)]:
        torch.manual_seed(SEED)
        model = LSTMForecaster()
        recorder = GradNormRecorder(model)
        history = train_model(model, X_train, y_train, X_val, y_val, clip_norm=clip_norm, log=None)
        recorder.remove()
        clipped_steps = sum(norm > 1.0 for norm in recorder.norms) if clip_norm else 0
        rows.append([label, f"{history[-1]['val_mse']:.4f}", f"{max(recorder.norms):.3f}", clipped_steps])
    return table("Exercise 3: gradient clipping", ["run", "val_mse", "max_grad_norm", "steps_clipped"], rows)


def exercise_two_features():
    """Exercise 4: one feature against two (the series plus cos(0.12 t))."""
    rows = []
    for label, series in [("1 feature", make_series()), ("2 features", two_feature_series())]:
        X, y = make_windows(series, WINDOW)
        data = time_split(X, y, 0.8)
        _, history, _ = train_fresh(LSTMForecaster, data)
        rows.append([label, f"{naive_mse(data[1], data[3]):.4f}", f"{history[-1]['val_mse']:.4f}"])
    return table("Exercise 4: a second feature", ["input", "naive_mse", "val_mse"], rows)


def rolling_errors(model, X_val, y_val, horizon=10):
    """Mean squared error at each horizon 1..horizon over every validation start."""
    starts = range(len(X_val) - horizon + 1)
    errors = torch.zeros(horizon)
    for i in starts:
        forecast = rolling_forecast(model, X_val[i, :, 0], horizon)      # (horizon,)
        errors += (forecast - y_val[i : i + horizon, 0]) ** 2
    return errors / len(starts)


def exercise_rolling(model=None, horizons=(1, 2, 5, 10)):
    """Exercise 5: how the rolling forecast's error grows with the horizon."""
    data = lab_data()
    if model is None:
        model, _, _ = train_fresh(LSTMForecaster, data)
    one_step = ((predict(model, data[1]) - data[3]) ** 2).mean().item()
    # Horizon 1 is the one-step forecast over the same starting points.
    errors = rolling_errors(model, data[1], data[3], horizon=max(horizons))
    rows = [[h, f"{errors[h - 1]:.4f}", f"{errors[h - 1] / errors[0]:.1f}x"] for h in horizons]
    title = f"Exercise 5: rolling forecast (one-step val_mse on all rows {one_step:.4f})"
    return table(title, ["horizon", "mse", "vs one-step"], rows)


def exercise_standardized():
    """The real-project path: raw inputs against a scaler fitted on training values."""
    series = make_series()
    rows = []
    _, raw_history, _ = train_fresh(LSTMForecaster, lab_data())
    rows.append(["raw", f"{raw_history[-1]['val_mse']:.4f}"])

    X_train, X_val, y_train, y_val, scaler = prepare_data(series, WINDOW)
    model, _, _ = train_fresh(LSTMForecaster, (X_train, X_val, y_train, y_val))
    pred = scaler.inverse_transform(predict(model, X_val).numpy())        # back to series units
    true = scaler.inverse_transform(y_val.numpy())
    rows.append(["standardised", f"{((pred - true) ** 2).mean():.4f}"])
    return table("Standardised pipeline (val_mse in series units)", ["inputs", "val_mse"], rows)


def run_all(log=print):
    """Print every exercise's table; returns the window comparison for plotting."""
    window_results, window_table = exercise_window_sizes()
    for text in [window_table, exercise_gru(), exercise_clipping(), exercise_two_features(),
                 exercise_rolling(), exercise_standardized()]:
        log("")
        log(text)
    return window_results
