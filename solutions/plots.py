"""Figures for the lab, written as PNG files with matplotlib's Agg backend (no screen)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_predictions(y_val, val_pred, naive_pred, path):
    """Validation truth against the model and the naive last-value baseline."""
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(y_val.reshape(-1), label="true", color="black", linewidth=2)
    ax.plot(val_pred.reshape(-1), label="LSTM prediction")
    ax.plot(naive_pred.reshape(-1), label="naive (last value)", linestyle="--")
    ax.set(title="Validation: truth, LSTM and naive baseline", xlabel="validation step", ylabel="value")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_curves(history, path):
    """Training and validation MSE per logged epoch, on a log scale."""
    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(epochs, [row["train_mse"] for row in history], label="train MSE")
    ax.plot(epochs, [row["val_mse"] for row in history], label="validation MSE")
    ax.set(title="Training curves", xlabel="epoch", ylabel="MSE (log scale)", yscale="log")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_rolling(y_val, one_step, rolling, path):
    """A rolling forecast from the first validation window against the truth."""
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(y_val.reshape(-1), label="true", color="black", linewidth=2)
    ax.plot(one_step.reshape(-1), label="one-step prediction")
    ax.plot(rolling.reshape(-1), label="rolling forecast (fed its own predictions)")
    ax.set(title="Rolling forecast from the first validation window", xlabel="steps ahead", ylabel="value")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_window_sizes(results, path):
    """Validation MSE for each window size, as bars."""
    fig, ax = plt.subplots(figsize=(6, 4))
    sizes = list(results)
    ax.bar([str(s) for s in sizes], [results[s] for s in sizes], color="tab:blue")
    ax.set(title="Validation MSE by window size", xlabel="window_size", ylabel="validation MSE")
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


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
    paths = [plot_predictions(y_val.numpy(), lab["val_pred"].numpy(), naive_forecast(X_val).numpy(),
                              out / "predictions.png")]
    # The logged rows are every 30 epochs; the curves want every epoch.
    _, history, _ = train_fresh(LSTMForecaster, lab_data(), log_every=1)
    paths.append(plot_curves(history, out / "training_curves.png"))
    with torch.no_grad():
        rolling = rolling_forecast(model, X_val[0, :, 0], len(y_val))
    paths.append(plot_rolling(y_val.numpy(), lab["val_pred"].numpy(), rolling.numpy(), out / "rolling_forecast.png"))
    if window_results is None:
        window_results = compare_window_sizes(make_series())
    paths.append(plot_window_sizes(window_results, out / "window_sizes.png"))
    return paths
