# function: GRUForecaster
# loses: gru_forecaster
# mistake: copy-paste: the GRU forecaster is built on nn.LSTM
# based on: correct/c07_helper_modules.py
"""Held-out WRONG submission (its one mistake: see the header), made from a correct one: an object-oriented student with helper classes.

One base class for both forecasters (the recurrent layer class is a parameter),
an nn.Sequential head, a small Checks helper whose methods raise ValueError,
np.lib.stride_tricks.as_strided for the windows, a rolling window kept as a list.
"""
import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


class Checks:
    @staticmethod
    def series(values):
        arr = np.array(values, dtype=np.float32, copy=True)
        if arr.ndim not in (1, 2):
            raise ValueError(f"series: expected 1 or 2 dimensions, got {arr.ndim}")
        if not np.isfinite(arr).all():
            raise ValueError("series: NaN or inf found")
        return arr

    @staticmethod
    def count(value, name, minimum=1):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}: expected an int, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name}: must be at least {minimum}, got {value}")
        return value

    @staticmethod
    def same_length(a, b):
        if len(a) != len(b):
            raise ValueError(f"length mismatch: {len(a)} vs {len(b)}")

    @staticmethod
    def column(index, n_columns):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n_columns:
            raise ValueError(f"target_col={index!r} is not one of the {n_columns} column(s)")


def make_windows(series, window_size, target_col=0):
    arr = Checks.series(series)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    arr = np.ascontiguousarray(arr)
    n, f = arr.shape
    Checks.count(window_size, "window_size")
    if window_size >= n:
        raise ValueError(f"window_size: {window_size} >= series length {n}")
    Checks.column(target_col, f)
    rows = n - window_size
    row_stride, col_stride = arr.strides
    X = np.lib.stride_tricks.as_strided(arr, shape=(rows, window_size, f),
                                        strides=(row_stride, row_stride, col_stride)).copy()
    y = arr[window_size:, target_col].reshape(rows, 1).copy()
    return torch.from_numpy(X), torch.from_numpy(y)


def time_split(X, y, train_frac=0.8):
    Checks.same_length(X, y)
    if not isinstance(train_frac, (int, float)) or isinstance(train_frac, bool) or not 0 < train_frac < 1:
        raise ValueError(f"train_frac: expected a number in (0, 1), got {train_frac!r}")
    cut = int(len(X) * train_frac)
    if cut in (0, len(X)):
        raise ValueError("train_frac: one side of the split would be empty")
    return X[:cut], X[cut:], y[:cut], y[cut:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X: expected (batch, seq_len, features)")
    Checks.column(target_col, X.shape[2])
    return X[:, -1:, target_col].clone()          # (batch, 1): the last step, kept as a slice


def naive_mse(X, y, target_col=0):
    Checks.same_length(X, y)
    return torch.nn.functional.mse_loss(naive_forecast(X, target_col),
                                        torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)).item()


class _RecurrentForecaster(nn.Module):
    layer_class = None

    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.recurrent = self.layer_class(input_size, hidden_size, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 1))

    def forward(self, x):
        sequence, _ = self.recurrent(x)
        return self.head(sequence[:, -1, :])


class LSTMForecaster(_RecurrentForecaster):
    layer_class = nn.LSTM


class GRUForecaster(_RecurrentForecaster):
    layer_class = nn.LSTM


class _Logger:
    def __init__(self, log_every, epochs, log):
        self.log_every, self.epochs, self.log = log_every, epochs, log
        self.rows = []

    def due(self, epoch):
        return epoch == 1 or epoch % self.log_every == 0 or epoch == self.epochs

    def record(self, epoch, train_mse, val_mse):
        self.rows.append({"epoch": epoch, "train_mse": train_mse, "val_mse": val_mse})
        if self.log is not None:
            self.log(f"epoch={epoch:03d} train_mse={train_mse:.4f} val_mse={val_mse:.4f}")


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    Checks.count(epochs, "epochs")
    Checks.same_length(X_train, y_train)
    Checks.same_length(X_val, y_val)
    logger = _Logger(log_every, epochs, log)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if logger.due(epoch):
            model.eval()
            with torch.no_grad():
                val_mse = loss_fn(model(X_val), y_val).item()
            logger.record(epoch, loss.item(), val_mse)
    model.eval()
    return logger.rows


def predict(model, X):
    model.eval()
    with torch.inference_mode():
        return model(torch.as_tensor(X, dtype=torch.float32)).clone()


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    comparison = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        rows = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        comparison[size] = rows[-1]["val_mse"]
    return comparison


def two_feature_series(n=220, seed=42):
    columns = [make_series(n, seed), np.cos(0.12 * np.arange(n)).astype(np.float32)]
    return np.stack(columns, axis=-1)


def rolling_forecast(model, window, steps):
    Checks.count(steps, "steps")
    recent = np.asarray(window, dtype=np.float32).ravel().tolist()
    width = len(recent)
    outputs = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(recent[-width:], dtype=torch.float32)[None, :, None]
            outputs.append(model(x).squeeze().item())
            recent = recent[1:] + outputs[-1:]
    return torch.tensor(outputs, dtype=torch.float32)


class Standardizer:
    def fit(self, values):
        data = torch.from_numpy(Checks.series(values))
        self.mean_ = data.mean(dim=0).numpy()
        std = data.std(dim=0, unbiased=False).numpy()
        self.std_ = np.where(std > 0, std, np.ones_like(std))
        return self

    def transform(self, values):
        return (Checks.series(values) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return Checks.series(values) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    arr = Checks.series(series)
    Checks.count(window_size, "window_size")
    n_windows = len(arr) - window_size
    if n_windows < 1:
        raise ValueError("window_size: longer than the series")
    train_windows = int(n_windows * train_frac)
    seen_by_training = arr[: train_windows + window_size]
    scaler = Standardizer().fit(seen_by_training)
    X, y = make_windows(scaler.transform(arr), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler
