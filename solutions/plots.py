"""Figures for the lab, written as PNG files with matplotlib's Agg backend (no screen).

Every figure says its numbers: the MSE in the title, the naive baseline drawn
beside the model, whole numbers on axes that count (epochs, steps), and bars
labelled with their values on an axis that shows their differences.
"""

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import MaxNLocator  # noqa: E402


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _mse(a, b):
    return float(np.mean((np.asarray(a, dtype=float).reshape(-1) - np.asarray(b, dtype=float).reshape(-1)) ** 2))


def counted(ax):
    """Whole-number ticks on the x axis: epochs and steps are counts, never 2.5."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def predictions_figure(y_val, val_pred, naive_pred):
    """Validation truth against the model and the naive last-value baseline, both MSEs in the title."""
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(y_val.reshape(-1), label="true", color="black", linewidth=2)
    ax.plot(val_pred.reshape(-1), label="LSTM prediction")
    ax.plot(naive_pred.reshape(-1), label="naive (last value)", linestyle="--")
    ax.set(title=f"Validation: LSTM MSE {_mse(val_pred, y_val):.4f}, naive MSE {_mse(naive_pred, y_val):.4f}",
           xlabel="validation step", ylabel="value")
    counted(ax)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return fig


def curves_figure(history, naive_mse=None):
    """Training and validation MSE per logged epoch, on a log scale, with the naive baseline's MSE."""
    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(epochs, [row["train_mse"] for row in history], label="train MSE")
    ax.plot(epochs, [row["val_mse"] for row in history], label="validation MSE")
    if naive_mse is not None:
        ax.axhline(naive_mse, color="grey", linestyle=":", label=f"naive baseline MSE {naive_mse:.4f}")
    ax.set(title=f"Training curves: final validation MSE {history[-1]['val_mse']:.4f}", xlabel="epoch",
           ylabel="MSE (log scale)", yscale="log")
    counted(ax)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return fig


def rolling_figure(y_val, one_step, rolling):
    """A rolling forecast from the first validation window against the truth and the held last value."""
    steps = len(rolling.reshape(-1))
    truth = y_val.reshape(-1)[:steps]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(truth, label="true", color="black", linewidth=2)
    ax.plot(one_step.reshape(-1)[:steps], label="one-step prediction")
    ax.plot(rolling.reshape(-1), label="rolling forecast (fed its own predictions)")
    ax.set(title=f"Rolling forecast from the first validation window: MSE {_mse(rolling, truth):.4f} over "
                 f"{steps} steps", xlabel="steps ahead", ylabel="value")
    counted(ax)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return fig


def window_sizes_figure(results):
    """Validation MSE for each window size, as labelled bars. The axis starts near the smallest bar,
    not at zero, so a few percent between sizes shows; the labels give the exact values."""
    fig, ax = plt.subplots(figsize=(6, 4))
    sizes = list(results)
    values = [results[s] for s in sizes]
    bars = ax.bar([str(s) for s in sizes], values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.4f}" for v in values], padding=2)
    low, high = min(values), max(values)
    ax.set_ylim(max(0.0, low - 0.5 * (high - low) - 0.02 * high), high + 0.25 * (high - low) + 0.02 * high)
    best = sizes[values.index(low)]
    ax.set(title=f"Validation MSE by window size (best {best}: {low:.4f})", xlabel="window_size",
           ylabel="validation MSE (axis not from 0)")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def plot_predictions(y_val, val_pred, naive_pred, path):
    return _save(predictions_figure(y_val, val_pred, naive_pred), path)


def plot_curves(history, path, naive_mse=None):
    return _save(curves_figure(history, naive_mse), path)


def plot_rolling(y_val, one_step, rolling, path):
    return _save(rolling_figure(y_val, one_step, rolling), path)


def plot_window_sizes(results, path):
    return _save(window_sizes_figure(results), path)


def write_lab_figures(lab, out_dir, window_results=None):
    """Write every figure for a finished lab run (see ``run_lab``) into ``out_dir``."""
    import torch

    from solutions.exercises import lab_data, train_fresh
    from solutions.sequence_modeling import (
        LSTMForecaster, compare_window_sizes, make_series, naive_forecast, rolling_forecast,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y_val, X_val, model = lab["y_val"], lab["X_val"], lab["model"]
    naive = naive_forecast(X_val).numpy()
    paths = [plot_predictions(y_val.numpy(), lab["val_pred"].numpy(), naive, out / "predictions.png")]
    # The logged rows are every 30 epochs; the curves want every epoch.
    _, history, _ = train_fresh(LSTMForecaster, lab_data(), log_every=1)
    paths.append(plot_curves(history, out / "training_curves.png", naive_mse=_mse(naive, y_val.numpy())))
    with torch.no_grad():
        rolling = rolling_forecast(model, X_val[0, :, 0], len(y_val))
    paths.append(plot_rolling(y_val.numpy(), lab["val_pred"].numpy(), rolling.numpy(), out / "rolling_forecast.png"))
    if window_results is None:
        window_results = compare_window_sizes(make_series())
    paths.append(plot_window_sizes(window_results, out / "window_sizes.png"))
    return paths
