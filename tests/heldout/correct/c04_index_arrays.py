"""Held-out correct submission: fancy indexing everywhere.

Windows from an index matrix, the split from tensors of row numbers, a sample
standard deviation (ddof=1) in the Standardizer, and a deque for rolling forecasts.
"""
from collections import deque

import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _series(values):
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim == 0 or arr.ndim > 2:
        raise ValueError("series must have shape (n,) or (n, features)")
    if np.isnan(arr).any() or np.isinf(arr).any():
        raise ValueError("series contains NaN or infinite values")
    return arr


def make_windows(series, window_size, target_col=0):
    arr = _series(series)
    table = arr.reshape(len(arr), -1)
    n, f = table.shape
    if isinstance(window_size, bool) or not isinstance(window_size, (int, np.integer)):
        raise ValueError("window_size must be an integer")
    if not 1 <= window_size < n:
        raise ValueError(f"window_size must be between 1 and {n - 1}")
    if isinstance(target_col, bool) or not isinstance(target_col, (int, np.integer)) or not 0 <= target_col < f:
        raise ValueError(f"target_col must be a column index below {f}")
    starts = np.arange(n - window_size)[:, None]            # (n - w, 1)
    offsets = np.arange(window_size)[None, :]               # (1, w)
    X = table[starts + offsets]                             # (n - w, w, f)
    y = table[np.arange(window_size, n), target_col][:, None]
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y need the same length")
    if not isinstance(train_frac, float) and not isinstance(train_frac, int) or isinstance(train_frac, bool):
        raise ValueError("train_frac must be a number")
    if train_frac <= 0 or train_frac >= 1:
        raise ValueError("train_frac must be in the open interval (0, 1)")
    n = len(X)
    split = int(n * train_frac)
    if split == 0:
        raise ValueError("no training rows with this train_frac")
    if split == n:
        raise ValueError("no validation rows with this train_frac")
    rows = torch.arange(n)
    train_rows, val_rows = rows[:split], rows[split:]
    return X[train_rows], X[val_rows], y[train_rows], y[val_rows]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise ValueError("X must be 3-D")
    if not 0 <= target_col < X.shape[2]:
        raise ValueError("target_col does not name a feature of X")
    last = X[:, X.shape[1] - 1, :]
    return last[:, [target_col]]


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y need the same length")
    diff = naive_forecast(X, target_col) - torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return (diff * diff).mean().item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.encoder = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.decoder = nn.Linear(hidden_size, 1)

    def forward(self, x):
        states, _ = self.encoder(x)
        return self.decoder(states[:, -1, :])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.encoder = nn.GRU(input_size, hidden_size, batch_first=True)
        self.decoder = nn.Linear(hidden_size, 1)

    def forward(self, x):
        states, _ = self.encoder(x)
        return self.decoder(states[:, -1, :])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    log_epochs = {1, epochs} | set(range(log_every, epochs + 1, log_every))
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch in log_epochs:
            model.eval()
            with torch.no_grad():
                val_loss = criterion(model(X_val), y_val)
            history.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val_loss.item()})
            if log is not None:
                log("epoch=%03d train_mse=%.4f val_mse=%.4f" % (epoch, loss.item(), val_loss.item()))
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        preds = model(torch.as_tensor(X, dtype=torch.float32))
    return preds


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    mses = {}
    for window_size in sizes:
        X, y = make_windows(series, window_size)
        X_train, X_val, y_train, y_val = time_split(X, y, train_frac=0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        mses[window_size] = history[-1]["val_mse"]
    return mses


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    out = np.empty((n, 2), dtype=np.float32)
    out[:, 0] = make_series(n, seed)
    out[:, 1] = np.cos(0.12 * t)
    return out


def rolling_forecast(model, window, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError("steps must be a positive integer")
    flat = np.asarray(window, dtype=np.float32).reshape(-1)
    buffer = deque(flat.tolist(), maxlen=len(flat))
    forecasts = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(list(buffer), dtype=torch.float32).view(1, len(buffer), 1)
            value = float(model(x)[0, 0])
            forecasts.append(value)
            buffer.append(value)                 # maxlen drops the oldest value
    return torch.tensor(forecasts)


class Standardizer:
    """z-scores with the sample standard deviation (ddof=1), as pandas' .std() gives."""

    def fit(self, values):
        arr = _series(values)
        self.mean_ = arr.mean(axis=0)
        std = arr.std(axis=0, ddof=1)
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        return self

    def transform(self, values):
        return (_series(values) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return _series(values) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    arr = _series(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 1 <= window_size < len(arr):
        raise ValueError("window_size must be an int between 1 and len(series) - 1")
    split = int((len(arr) - window_size) * train_frac)
    scaler = Standardizer().fit(arr[: split + window_size])
    X, y = make_windows(scaler.transform(arr), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler
