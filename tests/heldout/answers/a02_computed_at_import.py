# answers: consistent
# loses: 
# based on: correct/c02_numpy_vectorised.py
"""Held-out answers: a numpy student who computes the window answer at import from her own
compare_window_sizes, picking the size by np.argmin over an array (so a numpy integer),
and types the others in.
"""
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    return (np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04).astype(np.float32)


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def _as_2d(series):
    arr = np.asarray(series, dtype=np.float32)
    _require(arr.ndim in (1, 2), f"series must be 1-D or 2-D, got ndim={arr.ndim}")
    _require(bool(np.isfinite(arr).all()), "series must not contain NaN or inf")
    return arr[:, None] if arr.ndim == 1 else arr


def _positive_int(value, name):
    _require(isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1,
             f"{name} must be a positive int, got {value!r}")


def make_windows(series, window_size, target_col=0):
    arr = _as_2d(series)
    n, f = arr.shape
    _positive_int(window_size, "window_size")
    _require(window_size < n, f"window_size={window_size} must be shorter than the series ({n})")
    _require(isinstance(target_col, numbers.Integral) and not isinstance(target_col, bool)
             and 0 <= target_col < f, f"target_col={target_col!r} out of range for {f} columns")
    # sliding_window_view puts the window axis last: (n - w + 1, f, w)
    windows = sliding_window_view(arr, window_size, axis=0)[:-1]
    X = np.ascontiguousarray(windows.transpose(0, 2, 1))
    y = arr[window_size:, [target_col]]
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))


def time_split(X, y, train_frac=0.8):
    _require(len(X) == len(y), f"len(X)={len(X)} but len(y)={len(y)}")
    _require(isinstance(train_frac, numbers.Real) and 0.0 < train_frac < 1.0,
             f"train_frac must be in (0, 1), got {train_frac!r}")
    split = int(len(X) * train_frac)
    _require(0 < split < len(X), f"train_frac={train_frac} leaves one side of the split empty")
    return X[:split], X[split:], y[:split], y[split:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    _require(X.ndim == 3, "X must be 3-D (batch, seq_len, features)")
    _require(0 <= target_col < X.shape[-1], f"target_col={target_col} out of range")
    return X[:, -1, target_col].reshape(-1, 1)


def naive_mse(X, y, target_col=0):
    _require(len(X) == len(y), "X and y must have the same number of rows")
    err = naive_forecast(X, target_col) - torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return float(err.pow(2).mean())


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size=input_size, hidden_size=hidden_size, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        seq_out, _ = self.lstm(x)
        return self.head(seq_out[:, -1])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size=input_size, hidden_size=hidden_size, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        seq_out, _ = self.gru(x)
        return self.head(seq_out[:, -1])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    _positive_int(epochs, "epochs")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rows = []
    for epoch in range(epochs):
        model.train()
        opt.zero_grad()
        train_loss = F.mse_loss(model(X_train), y_train)
        train_loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_norm)
        opt.step()
        number = epoch + 1
        if number == 1 or number % log_every == 0 or number == epochs:
            model.eval()
            with torch.no_grad():
                val_loss = F.mse_loss(model(X_val), y_val)
            row = dict(epoch=number, train_mse=float(train_loss), val_mse=float(val_loss))
            rows.append(row)
            if log:
                log("epoch={:03d} train_mse={:.4f} val_mse={:.4f}".format(number, row["train_mse"], row["val_mse"]))
    model.eval()
    return rows


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    out = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_tr, X_va, y_tr, y_va = time_split(X, y, train_frac=0.8)
        torch.manual_seed(seed)
        net = LSTMForecaster(input_size=X.shape[-1])
        out[size] = train_model(net, X_tr, y_tr, X_va, y_va, epochs=epochs, log=None)[-1]["val_mse"]
    return out


def two_feature_series(n=220, seed=42):
    return np.column_stack([make_series(n, seed), np.cos(0.12 * np.arange(n))]).astype(np.float32)


def rolling_forecast(model, window, steps):
    _positive_int(steps, "steps")
    buf = np.asarray(window, dtype=np.float32).reshape(-1).copy()
    preds = np.empty(steps, dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for k in range(steps):
            nxt = model(torch.from_numpy(buf).view(1, -1, 1)).item()
            preds[k] = nxt
            buf = np.append(buf[1:], np.float32(nxt)).astype(np.float32)
    return torch.from_numpy(preds)


class Standardizer:
    """Per-column z-scores; statistics in float64 for accuracy."""

    def fit(self, values):
        values = np.asarray(values, dtype=np.float64)
        _require(values.ndim in (1, 2), "values must be 1-D or 2-D")
        self.mean_ = np.mean(values, axis=0)
        std = np.std(values, axis=0)
        self.std_ = np.where(std > 0, std, 1.0) if np.ndim(std) else (std if std > 0 else np.float64(1.0))
        return self

    def transform(self, values):
        return ((np.asarray(values, dtype=np.float64) - self.mean_) / self.std_).astype(np.float32)

    def inverse_transform(self, values):
        return (np.asarray(values, dtype=np.float64) * self.std_ + self.mean_).astype(np.float32)


def prepare_data(series, window_size, train_frac=0.8):
    values = _as_2d(series)[:, 0] if np.ndim(series) == 1 else _as_2d(series)
    _positive_int(window_size, "window_size")
    _require(window_size < len(values), "window_size must be shorter than the series")
    split = int((len(values) - window_size) * train_frac)
    scaler = Standardizer().fit(values[: split + window_size])
    X, y = make_windows(scaler.transform(values), window_size)
    return (*time_split(X, y, train_frac), scaler)


# Answers, computed from my own run rather than copied by hand.
_SIZES = np.array([8, 16, 32])
_SCORES = compare_window_sizes(make_series(), sizes=tuple(int(s) for s in _SIZES))
BEST_WINDOW_SIZE = _SIZES[np.argmin([_SCORES[int(s)] for s in _SIZES])]
LOWER_VAL_MSE = "LSTM"
STABLE_WITHOUT_CLIPPING = True
PLOT_SHOWS = "none"
WHY_WINDOW_SIZE = "argmin over my compare_window_sizes, whichever it printed."
