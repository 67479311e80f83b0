"""Held-out correct submission: a student who wants to see the recurrence: the forecaster still owns one
nn.LSTM(batch_first=True) and one Linear, but its forward feeds the window to
the LSTM one time step at a time and carries (h, c) by hand. Windows come from
torch.roll copies, clipping uses torch's two-step API (total norm, then scale),
validation runs under torch.set_grad_enabled(False), the rolling forecast is
recursive, and the scaler keeps torch tensors.
"""
import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _check_int(name, v, lo, hi):
    """lo <= v < hi, v a real int (bool refused)."""
    if type(v) is bool or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {type(v).__name__} {v!r}")
    if not lo <= v < hi:
        raise ValueError(f"{name}={v} must be in [{lo}, {hi})")


def _series(series):
    s = torch.as_tensor(np.asarray(series, dtype=np.float32))
    if s.dim() not in (1, 2):
        raise ValueError(f"series must be 1-D or 2-D, got {s.dim()}-D")
    if not torch.isfinite(s).all():
        raise ValueError("series must not contain NaN or inf")
    return s if s.dim() == 2 else s.unsqueeze(1)        # (n, f)


def make_windows(series, window_size, target_col=0):
    s = _series(series)
    n, f = s.shape
    _check_int("window_size", window_size, 1, n)
    _check_int("target_col", target_col, 0, f)
    m = n - window_size
    # copy k is the series moved k steps earlier; its first m rows are step k of every window
    cols = [torch.roll(s, -k, dims=0)[:m] for k in range(window_size)]
    X = torch.stack(cols, dim=1)                        # (m, w, f)
    y = torch.roll(s, -window_size, dims=0)[:m, target_col].unsqueeze(1)  # (m, 1)
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows, y has {len(y)}")
    if type(train_frac) is bool or not isinstance(train_frac, (int, float)) or not 0.0 < train_frac < 1.0:
        raise ValueError(f"train_frac must be in (0, 1), got {train_frac!r}")
    cut = int(len(X) * train_frac)
    if not 0 < cut < len(X):
        raise ValueError(f"train_frac={train_frac} gives {cut} of {len(X)} rows: one side is empty")
    return X[:cut], X[cut:], y[:cut], y[cut:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3 or X.shape[1] < 1:
        raise ValueError(f"X must be 3-D (batch, seq_len, features), got {tuple(X.shape)}")
    _check_int("target_col", target_col, 0, X.shape[2])
    return X[:, X.shape[1] - 1, target_col].reshape(-1, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows, y has {len(y)}")
    err = naive_forecast(X, target_col) - torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return float(err.pow(2).mean())


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size=input_size, hidden_size=hidden_size, num_layers=1, batch_first=True)
        self.out = nn.Linear(hidden_size, 1)
        self.hidden_size = hidden_size

    def forward(self, x):
        b = x.shape[0]
        h = x.new_zeros(1, b, self.hidden_size)
        c = x.new_zeros(1, b, self.hidden_size)
        for t in range(x.shape[1]):
            _, (h, c) = self.lstm(x[:, t:t + 1, :], (h, c))  # one step: (b, 1, in)
        return self.out(h[0])                              # (b, hidden) -> (b, 1)


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size=input_size, hidden_size=hidden_size, num_layers=1, batch_first=True)
        self.out = nn.Linear(hidden_size, 1)
        self.hidden_size = hidden_size

    def forward(self, x):
        h = x.new_zeros(1, x.shape[0], self.hidden_size)
        for t in range(x.shape[1]):
            _, h = self.gru(x[:, t:t + 1, :], h)
        return self.out(h[0])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y must have the same number of rows")
    params = [p for p in model.parameters()]
    optimizer = torch.optim.Adam(params, lr)
    mse = nn.MSELoss()
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        model.zero_grad(set_to_none=True)
        loss = mse(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            grads = [p.grad for p in params if p.grad is not None]
            total = nn.utils.get_total_norm(grads)
            nn.utils.clip_grads_with_norm_(params, clip_norm, total)
        optimizer.step()
        if epoch in (1, epochs) or epoch % log_every == 0:
            model.eval()
            with torch.set_grad_enabled(False):
                val_mse = mse(model(X_val), y_val).item()
            row = dict(epoch=epoch, train_mse=loss.item(), val_mse=val_mse)
            history.append(row)
            if log:
                log(f"epoch={epoch:03d} train_mse={row['train_mse']:.4f} val_mse={val_mse:.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.set_grad_enabled(False):
        return model(torch.as_tensor(X).float())


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    scores = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(X.shape[-1])
        history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        scores[size] = history[-1]["val_mse"]
    return scores


def two_feature_series(n=220, seed=42):
    t = torch.arange(n, dtype=torch.float64)
    main = torch.from_numpy(make_series(n, seed))
    return torch.stack([main, torch.cos(0.12 * t).float()], dim=1).numpy()


def _roll(model, window, steps):
    """window: (1, w, 1). Recursion: one prediction, then the rest from the slid window."""
    if steps == 0:
        return []
    nxt = model(window).reshape(1, 1, 1)
    return [nxt.reshape(())] + _roll(model, torch.cat((window[:, 1:], nxt), dim=1), steps - 1)


def rolling_forecast(model, window, steps):
    _check_int("steps", steps, 1, 10 ** 9)
    start = torch.tensor(np.array(window, dtype=np.float32).reshape(1, -1, 1))
    model.eval()
    with torch.no_grad():
        return torch.stack(_roll(model, start, steps))


class Standardizer:
    def fit(self, values):
        v = _series(values)
        self.mean_ = v.mean(dim=0)
        sd = v.std(dim=0, unbiased=False)
        self.std_ = torch.where(sd > 0, sd, torch.ones_like(sd))
        return self

    def _prep(self, values):
        v = torch.as_tensor(np.asarray(values, dtype=np.float32))
        if v.dim() not in (1, 2) or not torch.isfinite(v).all():
            raise ValueError("values must be a finite 1-D or 2-D array")
        return v.unsqueeze(1) if v.dim() == 1 else v, v.dim()

    def transform(self, values):
        v, d = self._prep(values)
        out = (v - self.mean_) / self.std_
        return out[:, 0] if d == 1 else out

    def inverse_transform(self, values):
        v, d = self._prep(values)
        out = v * self.std_ + self.mean_
        return out[:, 0] if d == 1 else out


def prepare_data(series, window_size, train_frac=0.8):
    s = _series(series)
    _check_int("window_size", window_size, 1, len(s))
    cut = int((len(s) - window_size) * train_frac)
    scaler = Standardizer().fit(s[:cut + window_size])
    scaled = scaler.transform(s)
    if np.ndim(series) == 1:
        scaled = scaled[:, 0]
    X, y = make_windows(scaled, window_size)
    return (*time_split(X, y, train_frac), scaler)


BEST_WINDOW_SIZE = 32
WHY_WINDOW_SIZE = "32 gave the smallest validation error of the three."
LOWER_VAL_MSE = "LSTM"
WHY_GRU_VS_LSTM = "The two were within a percent of each other, so either could win."
STABLE_WITHOUT_CLIPPING = True
WHY_CLIPPING = "The unclipped run ended where the clipped one did."
PLOT_SHOWS = "none"
WHY_PLOT = "Nothing stands out: the curve follows the data."
