"""Held-out correct submission: a student who learned windows from the "split_sequence" tutorials (walk the
series, stop when the end index runs off it) and who computes in float64,
converting to float32 only at the edges. The models keep their layers in an
nn.ModuleDict, and GRUForecaster is LSTMForecaster with another recurrent class.
The scaler uses Python's statistics module per column and prepare_data fits it
on the training windows' values only (the spec's "or less": series[:split]).
"""
import math
import statistics

import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _rows(series):
    """series as a float64 array (n, f); refuses bad shapes and non-finite values."""
    arr = np.array(series, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError("series must be one- or two-dimensional")
    if not all(math.isfinite(v) for v in arr.ravel()):
        raise ValueError("series has a NaN or an infinite value")
    return arr


def split_sequence(rows, n_steps, target_col):
    xs, ys = [], []
    for i in range(len(rows)):
        end_ix = i + n_steps
        if end_ix > len(rows) - 1:
            break
        xs.append(rows[i:end_ix, :])
        ys.append([rows[end_ix, target_col]])
    return np.array(xs), np.array(ys)


def make_windows(series, window_size, target_col=0):
    rows = _rows(series)
    if not _is_int(window_size) or window_size < 1 or window_size >= len(rows):
        raise ValueError(f"window_size must be an int from 1 to {len(rows) - 1}, got {window_size!r}")
    if not _is_int(target_col) or target_col < 0 or target_col >= rows.shape[1]:
        raise ValueError(f"target_col must be an int from 0 to {rows.shape[1] - 1}, got {target_col!r}")
    X, y = split_sequence(rows, int(window_size), int(target_col))
    return torch.tensor(X).float(), torch.tensor(y).float()


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y have different lengths")
    if not isinstance(train_frac, (float, int, np.floating)) or isinstance(train_frac, bool):
        raise ValueError("train_frac must be a number")
    if train_frac <= 0 or train_frac >= 1:
        raise ValueError("train_frac must be between 0 and 1 (exclusive)")
    n_train = int(len(X) * train_frac)
    if n_train == 0:
        raise ValueError("train_frac too small: no training rows")
    if n_train == len(X):
        raise ValueError("train_frac too large: no validation rows")
    train_idx = slice(0, n_train)
    val_idx = slice(n_train, len(X))
    return X[train_idx], X[val_idx], y[train_idx], y[val_idx]


def naive_forecast(X, target_col=0):
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] == 0:
        raise ValueError("X must be shaped (batch, seq_len, features)")
    if not _is_int(target_col) or not 0 <= target_col < arr.shape[2]:
        raise ValueError("target_col out of range")
    return torch.tensor(arr[:, -1, [target_col]], dtype=torch.float32)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y have different lengths")
    guess = naive_forecast(X, target_col).double().numpy()
    truth = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    return float(np.mean((guess - truth) ** 2))


class LSTMForecaster(nn.Module):
    recurrent = nn.LSTM

    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.layers = nn.ModuleDict()
        self.layers["rnn"] = self.recurrent(input_size, hidden_size, batch_first=True)
        self.layers["head"] = nn.Linear(hidden_size, 1)

    def forward(self, x):
        outputs = self.layers["rnn"](x)[0]
        return self.layers["head"](outputs[:, -1, :])


class GRUForecaster(LSTMForecaster):
    recurrent = nn.GRU


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(X, dtype=np.float64)).to(torch.float32))


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("every X needs a y of the same length")
    X_train, y_train = torch.as_tensor(X_train).float(), torch.as_tensor(y_train).float()
    X_val, y_val = torch.as_tensor(X_val).float(), torch.as_tensor(y_val).float()
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    logged = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        number = epoch + 1
        if number == 1 or number % log_every == 0 or number == epochs:
            val_loss = criterion(predict(model, X_val), y_val).item()   # predict: eval + no_grad
            logged.append({"epoch": number, "train_mse": float(loss), "val_mse": val_loss})
            if log is not None:
                log("epoch={:03d} train_mse={:.4f} val_mse={:.4f}".format(number, float(loss), val_loss))
    model.eval()
    return logged


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, train_frac=0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        log = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        results[size] = log[-1]["val_mse"]
    return results


def two_feature_series(n=220, seed=42):
    out = np.empty((n, 2), dtype=np.float32)
    out[:, 0] = make_series(n, seed)
    out[:, 1] = [math.cos(0.12 * t) for t in range(n)]
    return out


def rolling_forecast(model, window, steps):
    if not _is_int(steps) or steps < 1:
        raise ValueError("steps must be a positive int")
    history = [float(v) for v in np.asarray(window, dtype=np.float64).reshape(-1)]
    w = len(history)
    preds = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(history[-w:], dtype=torch.float32).view(1, w, 1)
            nxt = model(x).item()
            preds.append(nxt)
            history.append(nxt)
    return torch.tensor(preds, dtype=torch.float32)


class Standardizer:
    def fit(self, values):
        cols = _rows(values).T
        self._one_d = np.ndim(values) == 1
        means = [statistics.fmean(c) for c in cols]
        stds = [statistics.pstdev(c) or 1.0 for c in cols]
        self.mean_ = np.array(means)
        self.std_ = np.array(stds)
        return self

    def _apply(self, values, fn):
        rows = _rows(values)
        out = fn(rows).astype(np.float32)
        return out[:, 0] if np.ndim(values) == 1 else out

    def transform(self, values):
        return self._apply(values, lambda r: (r - self.mean_) / self.std_)

    def inverse_transform(self, values):
        return self._apply(values, lambda r: r * self.std_ + self.mean_)


def prepare_data(series, window_size, train_frac=0.8):
    rows = _rows(series)
    if not _is_int(window_size) or not 1 <= window_size < len(rows):
        raise ValueError(f"window_size must be an int from 1 to {len(rows) - 1}")
    n_train = int((len(rows) - window_size) * train_frac)
    values = np.asarray(series, dtype=np.float64)
    scaler = Standardizer().fit(values[:n_train])       # a prefix of what training sees
    X, y = make_windows(scaler.transform(values), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 32
WHY_WINDOW_SIZE = "Window 32 had the lowest validation MSE in my run."
LOWER_VAL_MSE = "GRU"
WHY_GRU_VS_LSTM = "Practically tied; the GRU has fewer gates and trained as well."
STABLE_WITHOUT_CLIPPING = True
WHY_CLIPPING = "Gradients stayed under the clip, so removing it changed nothing."
PLOT_SHOWS = "none"
WHY_PLOT = "The prediction overlays the truth well."
