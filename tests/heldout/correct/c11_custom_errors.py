"""Held-out correct submission: a student with their own exception class (a
ValueError subclass) and validation decorators; compare_window_sizes measures the
validation MSE itself through predict; the split returns a namedtuple.
"""
import functools
from collections import namedtuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


class LessonInputError(ValueError):
    """Bad input to one of the lesson's functions."""


def positive_int(name):
    """Decorator: the keyword/positional argument ``name`` must be an int >= 1."""
    def wrap(fn):
        import inspect
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            value = signature.bind(*args, **kwargs).arguments.get(name, signature.parameters[name].default)
            if type(value) is not int or value < 1:
                raise LessonInputError(f"{name} must be a positive int, got {value!r}")
            return fn(*args, **kwargs)
        return inner
    return wrap


def checked_series(series):
    arr = np.asarray(series, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise LessonInputError(f"series has {arr.ndim} dimensions; 1 or 2 expected")
    if not np.isfinite(arr).all():
        raise LessonInputError("series contains NaN/inf")
    return arr


@positive_int("window_size")
def make_windows(series, window_size, target_col=0):
    arr = checked_series(series)
    table = arr if arr.ndim == 2 else arr[:, None]
    if window_size >= len(table):
        raise LessonInputError(f"window_size {window_size} >= series length {len(table)}")
    if type(target_col) is not int or not 0 <= target_col < table.shape[1]:
        raise LessonInputError(f"target_col {target_col!r} is outside 0..{table.shape[1] - 1}")
    windows = np.stack([table[i : i + window_size] for i in range(len(table) - window_size)], axis=0)
    targets = table[window_size:, target_col].reshape(-1, 1)
    return torch.from_numpy(windows.astype(np.float32)), torch.from_numpy(targets.astype(np.float32))


Split = namedtuple("Split", "X_train X_val y_train y_val")


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise LessonInputError("X and y must be equally long")
    if not isinstance(train_frac, (int, float)) or not 0 < train_frac < 1:
        raise LessonInputError(f"train_frac {train_frac!r} is outside (0, 1)")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise LessonInputError("an empty training or validation part")
    return Split(X[:split], X[split:], y[:split], y[split:])


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise LessonInputError("X must be 3-D")
    if type(target_col) is not int or not 0 <= target_col < X.shape[2]:
        raise LessonInputError("target_col out of range")
    return X[:, -1, target_col].unsqueeze(1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise LessonInputError("X and y must be equally long")
    target = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return F.mse_loss(naive_forecast(X, target_col), target).item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        return self.fc(self.gru(x)[0][:, -1])


@positive_int("epochs")
def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = F.mse_loss(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_mse = F.mse_loss(model(X_val), y_val).item()
            history.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val_mse})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={loss.item():.4f} val_mse={val_mse:.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for size in sizes:
        parts = time_split(*make_windows(series, size), 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=parts.X_train.shape[2])
        train_model(model, parts.X_train, parts.y_train, parts.X_val, parts.y_val, epochs=epochs, log=None)
        results[size] = F.mse_loss(predict(model, parts.X_val), parts.y_val).item()
    return results


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    return np.stack((make_series(n, seed), np.cos(t * 0.12).astype(np.float32)), axis=1)


@positive_int("steps")
def rolling_forecast(model, window, steps):
    context = torch.as_tensor(np.array(window, dtype=np.float32)).view(1, -1, 1)
    forecasts = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            step = model(context)
            forecasts.append(step.view(()))
            context = torch.cat([context[:, 1:], step.view(1, 1, 1)], dim=1)
    return torch.stack(forecasts)


class Standardizer:
    def fit(self, values):
        arr = checked_series(values)
        self.mean_ = arr.mean(axis=0)
        spread = arr.std(axis=0)
        self.std_ = np.where(spread == 0, np.float32(1), spread)
        return self

    def transform(self, values):
        return (checked_series(values) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return checked_series(values) * self.std_ + self.mean_


@positive_int("window_size")
def prepare_data(series, window_size, train_frac=0.8):
    arr = checked_series(series)
    if window_size >= len(arr):
        raise LessonInputError("window_size must be shorter than the series")
    split = int((len(arr) - window_size) * train_frac)
    scaler = Standardizer().fit(arr[: split + window_size])
    X, y = make_windows(scaler.transform(arr), window_size)
    return (*time_split(X, y, train_frac), scaler)
