"""Held-out correct submission: a student who likes composition: the forecaster is an nn.Sequential of a
small "last step" wrapper around nn.LSTM and a Linear head; training passes a
closure to optimizer.step(); prediction runs under torch.inference_mode(); the
scaler keeps its statistics with keepdims=True, shape (1, features).
"""
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _int_ok(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _as_2d(series):
    a = np.array(series, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim != 2:
        raise ValueError(f"series must be 1-D or 2-D, got {a.ndim} dimensions")
    if np.isnan(a).any() or np.isinf(a).any():
        raise ValueError("series contains NaN or inf")
    return a


def make_windows(series, window_size, target_col=0):
    a = _as_2d(series)
    if not _int_ok(window_size) or window_size <= 0:
        raise ValueError(f"window_size must be a positive int, got {window_size!r}")
    if window_size >= len(a):
        raise ValueError(f"window_size {window_size} must be smaller than the series length {len(a)}")
    if not _int_ok(target_col) or not (0 <= target_col < a.shape[1]):
        raise ValueError(f"target_col {target_col!r} is not a column of a {a.shape[1]}-feature series")
    # zip of w shifted views: row i of the result is (a[i], a[i+1], ..., a[i+w-1])
    shifted = [a[k:len(a) - window_size + k] for k in range(window_size)]
    X = np.stack(shifted, axis=1)                       # (n-w, w, f)
    y = a[window_size:, [target_col]]                   # (n-w, 1)
    return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError(f"len(X)={len(X)} but len(y)={len(y)}")
    if isinstance(train_frac, bool) or not isinstance(train_frac, numbers.Real) or not 0 < train_frac < 1:
        raise ValueError(f"train_frac must lie strictly between 0 and 1, got {train_frac!r}")
    k = int(len(X) * train_frac)
    if k < 1 or k >= len(X):
        raise ValueError(f"train_frac={train_frac} leaves an empty side for {len(X)} rows")
    sizes = [k, len(X) - k]
    X_train, X_val = torch.split(X, sizes)
    y_train, y_val = torch.split(y, sizes)
    return X_train, X_val, y_train, y_val


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3 or X.size(1) == 0:
        raise ValueError(f"X must be (batch, seq_len, features), got shape {tuple(X.shape)}")
    if not _int_ok(target_col) or not (0 <= target_col < X.size(2)):
        raise ValueError(f"target_col {target_col!r} out of range")
    return X[:, -1:, target_col]                        # (batch, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError(f"len(X)={len(X)} but len(y)={len(y)}")
    guess = naive_forecast(X, target_col)
    truth = torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
    return F.mse_loss(guess, truth).item()


class LastStep(nn.Module):
    """Runs a recurrent layer and keeps only its output at the final time step."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        seq, _ = self.rnn(x)                            # (batch, seq_len, hidden)
        return seq[:, -1]                               # (batch, hidden)


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.net = nn.Sequential(
            LastStep(nn.LSTM(input_size, hidden_size, batch_first=True)),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, x):
        return self.net(x)


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.net = nn.Sequential(
            LastStep(nn.GRU(input_size, hidden_size, batch_first=True)),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, x):
        return self.net(x)


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y lengths differ")
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def closure():
        opt.zero_grad()
        loss = F.mse_loss(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_norm)
        return loss

    rows = []
    for epoch in range(1, epochs + 1):
        model.train()
        loss = opt.step(closure)
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val = F.mse_loss(model(X_val), y_val).item()
            rows.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val})
            if log is not None:
                log("epoch=%03d train_mse=%.4f val_mse=%.4f" % (epoch, loss.item(), val))
    model.eval()
    return rows


def predict(model, X):
    model.eval()
    with torch.inference_mode():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    out = {}
    for w in sizes:
        X_tr, X_va, y_tr, y_va = time_split(*make_windows(series, w), 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X_tr.shape[2])
        out[w] = train_model(model, X_tr, y_tr, X_va, y_va, epochs=epochs, log=None)[-1]["val_mse"]
    return out


def two_feature_series(n=220, seed=42):
    return np.column_stack([make_series(n, seed), np.cos(0.12 * np.arange(n))]).astype(np.float32)


def rolling_forecast(model, window, steps):
    if not _int_ok(steps) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    w = torch.tensor(np.array(window, dtype=np.float32)).reshape(-1)
    buf = torch.cat([w, torch.zeros(steps)])            # observed values, then room for predictions
    model.eval()
    with torch.inference_mode():
        for i in range(steps):
            buf[len(w) + i] = model(buf[i:i + len(w)].view(1, -1, 1)).squeeze()
    return buf[len(w):].clone()


class Standardizer:
    def fit(self, values):
        v = _as_2d(values)
        self.mean_ = v.mean(axis=0, keepdims=True)      # (1, f)
        sd = v.std(axis=0, keepdims=True)
        sd[sd == 0] = 1.0
        self.std_ = sd
        return self

    def transform(self, values):
        v = np.asarray(values, dtype=np.float32)
        out = (_as_2d(v) - self.mean_) / self.std_
        return out.reshape(v.shape)

    def inverse_transform(self, values):
        v = np.asarray(values, dtype=np.float32)
        out = _as_2d(v) * self.std_ + self.mean_
        return out.reshape(v.shape)


def prepare_data(series, window_size, train_frac=0.8):
    a = _as_2d(series)
    if not _int_ok(window_size) or not 0 < window_size < len(a):
        raise ValueError(f"window_size {window_size!r} is not a positive int below {len(a)}")
    k = int((len(a) - window_size) * train_frac)
    scaler = Standardizer().fit(np.asarray(series, dtype=np.float32)[:k + window_size])
    X_tr, X_va, y_tr, y_va = time_split(*make_windows(scaler.transform(series), window_size), train_frac)
    return X_tr, X_va, y_tr, y_va, scaler


BEST_WINDOW_SIZE = 32
WHY_WINDOW_SIZE = "The 32-step window measured lowest, though all three were close."
LOWER_VAL_MSE = "GRU"
WHY_GRU_VS_LSTM = "They ended almost level; the GRU was a hair lower."
STABLE_WITHOUT_CLIPPING = True
WHY_CLIPPING = "Without clipping the losses matched the clipped run: gradients never got large."
PLOT_SHOWS = "none"
WHY_PLOT = "The predictions track the truth closely, with no lag or flat stretch."
