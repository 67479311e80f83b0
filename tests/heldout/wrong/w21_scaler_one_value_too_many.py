# function: prepare_data
# loses: standardizer
# mistake: fits on series[:split + window_size + 1]: the first validation target leaks into the statistics
# based on: correct/c10_linear_on_all_steps.py
"""Held-out WRONG submission (its one mistake: see the header), made from a correct one: the head applied to every time step, then the last
step kept; Tensor.narrow windows; zero_grad(set_to_none=True) before the forward
pass; keyword clip_grad_norm_; np.roll for the rolling window; float64 numpy for
two_feature_series with one cast at the end.
"""
import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def as_series_tensor(series):
    """A checked float32 tensor of shape (n, features)."""
    s = torch.as_tensor(np.array(series, dtype=np.float32))
    if s.ndim == 1:
        s = s[:, None]
    elif s.ndim != 2:
        raise ValueError(f"series must be (n,) or (n, features), got shape {tuple(s.shape)}")
    if not bool(torch.isfinite(s).all()):
        raise ValueError("series contains NaN or inf")
    return s


def make_windows(series, window_size, target_col=0):
    s = as_series_tensor(series)
    n, f = s.shape
    if isinstance(window_size, bool) or not isinstance(window_size, int):
        raise ValueError(f"window_size must be an int, got {type(window_size).__name__}")
    if not 0 < window_size < n:
        raise ValueError(f"window_size={window_size} must satisfy 0 < window_size < {n}")
    if isinstance(target_col, bool) or not isinstance(target_col, int) or not 0 <= target_col < f:
        raise ValueError(f"target_col={target_col!r} must be in [0, {f})")
    X = torch.stack([s.narrow(0, start, window_size) for start in range(n - window_size)])
    y = s[window_size:, target_col].reshape(-1, 1).clone()
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if not isinstance(train_frac, (float, int)) or isinstance(train_frac, bool) or not 0 < train_frac < 1:
        raise ValueError(f"train_frac={train_frac!r} is not in (0, 1)")
    split = int(len(X) * train_frac)
    if not 1 <= split <= len(X) - 1:
        raise ValueError(f"train_frac={train_frac} gives an empty side on {len(X)} rows")
    return X[:split], X[split:], y[:split], y[split:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D, got shape {tuple(X.shape)}")
    if isinstance(target_col, bool) or not isinstance(target_col, int) or not 0 <= target_col < X.shape[2]:
        raise ValueError(f"target_col={target_col!r} is out of range")
    return X[:, -1, :][:, target_col : target_col + 1]


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    residual = naive_forecast(X, target_col) - torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return residual.square().mean().item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out)[:, -1, :]        # the head on every step; keep the last


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out)[:, -1, :]


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y must have the same number of rows")
    optimizer = torch.optim.Adam(params=model.parameters(), lr=lr)
    criterion = nn.MSELoss(reduction="mean")
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        train_loss = criterion(model(X_train), y_train)
        train_loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(parameters=model.parameters(), max_norm=clip_norm)
        optimizer.step()
        is_last = epoch == epochs
        if epoch == 1 or epoch % log_every == 0 or is_last:
            model.eval()
            with torch.no_grad():
                val_loss = criterion(model(X_val), y_val).item()
            entry = {"epoch": epoch, "train_mse": train_loss.detach().item(), "val_mse": val_loss}
            history.append(entry)
            if log is not None:
                log("epoch=%03d train_mse=%.4f val_mse=%.4f" % (epoch, entry["train_mse"], val_loss))
    model.eval()
    return history


def predict(model, X):
    was = torch.is_grad_enabled()
    model.eval()
    torch.set_grad_enabled(False)
    try:
        return model(torch.as_tensor(X, dtype=torch.float32))
    finally:
        torch.set_grad_enabled(was)


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    return {w: _one_size(series, w, epochs, seed) for w in sizes}


def _one_size(series, w, epochs, seed):
    X, y = make_windows(series, w)
    X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
    torch.manual_seed(seed)
    model = LSTMForecaster(input_size=X.shape[2])
    return train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]


def two_feature_series(n=220, seed=42):
    t = np.arange(n, dtype=np.float64)
    both = np.empty((n, 2))
    both[:, 0] = make_series(n, seed)
    both[:, 1] = np.cos(0.12 * t)
    return both.astype(np.float32)


def rolling_forecast(model, window, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    buf = np.array(window, dtype=np.float32).reshape(-1)      # np.array copies
    result = np.zeros(steps, dtype=np.float32)
    model.eval()
    with torch.no_grad():
        for k in range(steps):
            result[k] = model(torch.from_numpy(buf.reshape(1, -1, 1))).item()
            buf = np.roll(buf, -1)
            buf[-1] = result[k]
    return torch.from_numpy(result)


class Standardizer:
    def fit(self, values):
        v = as_series_tensor(values).numpy()
        std = v.std(axis=0)
        std[std == 0] = 1.0
        if np.ndim(values) == 1:
            self.mean_, self.std_ = v.mean(axis=0)[0], std[0]
        else:
            self.mean_, self.std_ = v.mean(axis=0), std
        return self

    def transform(self, values):
        return (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return np.asarray(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    s = as_series_tensor(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 0 < window_size < len(s):
        raise ValueError(f"window_size={window_size!r} must be an int in (0, {len(s)})")
    split = int((len(s) - window_size) * train_frac)
    values = np.asarray(series, dtype=np.float32)
    scaler = Standardizer().fit(values[: split + window_size + 1])
    X, y = make_windows(scaler.transform(values), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler
