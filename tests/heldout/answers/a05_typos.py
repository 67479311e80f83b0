# answers: mixed
# loses: answer_gru_vs_lstm, answer_plot
# based on: correct/c09_plain_python.py
"""Held-out answers: a student who answered every question but not in the spec's spelling twice: the
model in lower case and the plot's pattern in the singular. Both are outside the
allowed values, so each costs its own item only; the other two stand.
"""
import math
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _rows(series):
    """The series as a list of rows (lists of floats), checked."""
    arr = np.asarray(series, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise ValueError("series must be one- or two-dimensional")
    rows = [[float(v)] for v in arr] if arr.ndim == 1 else [[float(v) for v in row] for row in arr]
    if any(not math.isfinite(v) for row in rows for v in row):
        raise ValueError("series must not contain NaN or infinity")
    return rows


def make_windows(series, window_size, target_col=0):
    rows = _rows(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or window_size <= 0:
        raise ValueError(f"window_size should be a positive integer, not {window_size!r}")
    if window_size >= len(rows):
        raise ValueError("window_size must be shorter than the series")
    width = len(rows[0])
    if isinstance(target_col, bool) or not isinstance(target_col, int) or target_col < 0 or target_col >= width:
        raise ValueError(f"no column {target_col!r} in a series with {width} column(s)")
    X = [rows[start : start + window_size] for start in range(len(rows) - window_size)]
    y = [[rows[start + window_size][target_col]] for start in range(len(rows) - window_size)]
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y do not have the same length")
    if isinstance(train_frac, bool) or not isinstance(train_frac, (int, float)):
        raise ValueError("train_frac must be a number")
    if train_frac <= 0 or train_frac >= 1:
        raise ValueError("train_frac must be greater than 0 and less than 1")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise ValueError("the split leaves an empty side")
    return X[:split], X[split:], y[:split], y[split:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X must be (batch, seq_len, features)")
    if target_col not in range(X.shape[2]):
        raise ValueError("target_col is not a feature index")
    return X[:, -1, target_col].view(-1, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y do not have the same length")
    return F.mse_loss(naive_forecast(X, target_col), torch.as_tensor(y, dtype=torch.float32).view(-1, 1)).item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x):
        output, (hidden, cell) = self.lstm(x)
        return self.linear(hidden.squeeze(0))


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x):
        output, hidden = self.gru(x)
        return self.linear(hidden.squeeze(0))


def _log_epochs(epochs, log_every):
    for e in range(1, epochs + 1):
        if e == 1 or e % log_every == 0 or e == epochs:
            yield e


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError("epochs must be a positive int")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    when = set(_log_epochs(epochs, log_every))
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = F.mse_loss(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm, norm_type=2.0)
        optimizer.step()
        if epoch in when:
            model.eval()
            with torch.no_grad():
                val = F.mse_loss(model(X_val), y_val).item()
            row = {"epoch": epoch, "train_mse": loss.item(), "val_mse": val}
            history.append(row)
            if log is not None:
                log("epoch=" + str(epoch).zfill(3) + f" train_mse={row['train_mse']:.4f} val_mse={val:.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    out = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        out[size] = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]
    return out


def two_feature_series(n=220, seed=42):
    first = make_series(n, seed).tolist()
    second = [math.cos(0.12 * t) for t in range(n)]
    return np.array(list(zip(first, second)), dtype=np.float32)


def rolling_forecast(model, window, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError("steps must be a positive int")
    values = [float(v) for v in np.asarray(window, dtype=np.float32).reshape(-1)]
    preds = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor([[[v] for v in values]], dtype=torch.float32)       # (1, w, 1)
            p = model(x)[0][0].item()
            preds.append(p)
            values.pop(0)
            values.append(p)
    return torch.tensor(preds, dtype=torch.float32)


class Standardizer:
    def fit(self, values):
        rows = _rows(values)
        columns = list(zip(*rows))
        means = [statistics.fmean(c) for c in columns]
        stds = [statistics.pstdev(c) or 1.0 for c in columns]
        if np.ndim(values) == 1:
            self.mean_, self.std_ = means[0], stds[0]
        else:
            self.mean_, self.std_ = np.array(means, dtype=np.float32), np.array(stds, dtype=np.float32)
        return self

    def transform(self, values):
        return ((np.asarray(values, dtype=np.float32) - self.mean_) / self.std_).astype(np.float32)

    def inverse_transform(self, values):
        return (np.asarray(values, dtype=np.float32) * self.std_ + self.mean_).astype(np.float32)


def prepare_data(series, window_size, train_frac=0.8):
    rows = _rows(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 0 < window_size < len(rows):
        raise ValueError("window_size must be a positive int shorter than the series")
    split = int((len(rows) - window_size) * train_frac)
    values = np.asarray(series, dtype=np.float32)
    scaler = Standardizer().fit(values[: split + window_size])
    X, y = make_windows(scaler.transform(values), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 32
LOWER_VAL_MSE = "gru"
STABLE_WITHOUT_CLIPPING = True
PLOT_SHOWS = "missed peak"
WHY_WINDOW_SIZE = "lowest val mse at 32"
WHY_GRU_VS_LSTM = "gru a little lower"
WHY_CLIPPING = "same numbers with and without"
WHY_PLOT = "I think the tops are a bit low"
