"""Held-out correct submission: a student coming from text models: the forecaster packs its (equal-length)
sequences with pack_padded_sequence and reads the final hidden state h_n, the
time split is a pair of boolean masks, the naive forecast gathers the last step
with torch.gather, and the scaler is Welford's one-pass mean and variance. The
validation loss is measured by an evaluate() helper over a DataLoader that
holds the whole validation set in one batch.
"""
import math
import numbers

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.data import DataLoader, TensorDataset


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _int(name, v, low, high):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {v!r}")
    if v < low or v >= high:
        raise ValueError(f"{name}={v} is outside [{low}, {high})")


def _table(series):
    t = torch.tensor(np.asarray(series, dtype=np.float32))
    if t.ndim == 1:
        t = t[:, None]
    elif t.ndim != 2:
        raise ValueError(f"series must be 1-D or 2-D, got {t.ndim}-D")
    if torch.isnan(t).any() or torch.isinf(t).any():
        raise ValueError("series contains NaN or inf")
    return t                                                       # (n, f)


def make_windows(series, window_size, target_col=0):
    t = _table(series)
    n, f = t.shape
    _int("window_size", window_size, 1, n)
    _int("target_col", target_col, 0, f)
    starts = torch.arange(n - window_size)
    offsets = torch.arange(window_size)
    X = t[starts[:, None] + offsets[None, :]]                      # (n-w, w, f)
    y = t[starts + window_size, target_col].unsqueeze(1)           # (n-w, 1)
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if isinstance(train_frac, bool) or not isinstance(train_frac, numbers.Real) or not 0 < train_frac < 1:
        raise ValueError(f"train_frac must be a number in (0, 1), got {train_frac!r}")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise ValueError(f"train_frac={train_frac} leaves an empty side of {len(X)} rows")
    is_train = torch.arange(len(X)) < split
    return X[is_train], X[~is_train], y[is_train], y[~is_train]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3 or X.shape[1] == 0:
        raise ValueError(f"X must be (batch, seq_len, features), got {tuple(X.shape)}")
    _int("target_col", target_col, 0, X.shape[2])
    target = X[:, :, target_col]                                   # (batch, seq_len)
    last = torch.full((len(X), 1), X.shape[1] - 1, dtype=torch.long)
    return torch.gather(target, 1, last)                           # (batch, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    y = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return torch.mean((naive_forecast(X, target_col) - y) ** 2).item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.fc(h_n[-1])                                    # (batch, 1)


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)
        return self.fc(h_n[-1])


def evaluate(model, X, y):
    """Mean squared error over X, in eval mode without gradients."""
    loader = DataLoader(TensorDataset(X, y), batch_size=len(X), shuffle=False)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.mse_loss(model(xb), yb, reduction="sum").item()
            count += yb.numel()
    return total / count


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y must be the same length")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            row = {"epoch": epoch, "train_mse": loss.item(), "val_mse": evaluate(model, X_val, y_val)}
            history.append(row)
            if log is not None:
                log(f"epoch={row['epoch']:03d} train_mse={row['train_mse']:.4f} val_mse={row['val_mse']:.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def _val_mse_for(series, size, epochs, seed):
    X_train, X_val, y_train, y_val = time_split(*make_windows(series, size), 0.8)
    torch.manual_seed(seed)
    model = LSTMForecaster(X_train.shape[2])
    return train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    return {size: _val_mse_for(series, size, epochs, seed) for size in sizes}


def two_feature_series(n=220, seed=42):
    return np.vstack([make_series(n, seed), np.cos(0.12 * np.arange(n))]).T.astype(np.float32)


def rolling_forecast(model, window, steps):
    _int("steps", steps, 1, 2 ** 31)
    seq = torch.tensor(np.asarray(window, dtype=np.float32).reshape(1, -1, 1))
    out = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            value = model(seq).view(1, 1, 1)
            out.append(value.flatten())
            seq = torch.cat([seq[:, 1:], value], dim=1)
    return torch.cat(out)


class Standardizer:
    def fit(self, values):
        rows = _table(values).double().numpy()
        count, mean, m2 = 0, np.zeros(rows.shape[1]), np.zeros(rows.shape[1])
        for row in rows:                                           # Welford: one pass, stable
            count += 1
            delta = row - mean
            mean = mean + delta / count
            m2 = m2 + delta * (row - mean)
        std = np.sqrt(m2 / count)
        self.mean_ = mean
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def _go(self, values, fn):
        arr = np.asarray(values, dtype=np.float32)
        rows = _table(arr).double().numpy()
        return fn(rows).astype(np.float32).reshape(arr.shape)

    def transform(self, values):
        return self._go(values, lambda r: (r - self.mean_) / self.std_)

    def inverse_transform(self, values):
        return self._go(values, lambda r: r * self.std_ + self.mean_)


def prepare_data(series, window_size, train_frac=0.8):
    t = _table(series)
    _int("window_size", window_size, 1, len(t))
    arr = np.asarray(series, dtype=np.float32)
    split = int((len(t) - window_size) * train_frac)
    scaler = Standardizer().fit(arr[:split + window_size])
    X_train, X_val, y_train, y_val = time_split(*make_windows(scaler.transform(arr), window_size), train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 32
WHY_WINDOW_SIZE = "32 measured lowest; differences are small."
LOWER_VAL_MSE = "LSTM"
WHY_GRU_VS_LSTM = "Within a percent; I would not call a winner."
STABLE_WITHOUT_CLIPPING = True
WHY_CLIPPING = "Training was identical without clipping."
PLOT_SHOWS = "none"
WHY_PLOT = "Predictions follow the truth without an obvious pattern of error."
