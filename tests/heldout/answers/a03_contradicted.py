# answers: contradicted
# loses: answer_window_size, answer_clipping, answer_plot
# based on: correct/c03_torch_first.py
"""Held-out answers: a student who answered from what the lesson's text led him to expect, not from
his own runs: the middle window, clipping as a necessity, and the textbook lag.
His own code measures otherwise on all three; the GRU/LSTM call is too close to judge.
"""
import math

import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _to_tensor(series):
    s = torch.as_tensor(np.asarray(series, dtype=np.float32))
    if s.dim() not in (1, 2):
        raise ValueError(f"expected a 1-D or 2-D series, got a {s.dim()}-D one")
    if not torch.isfinite(s).all():
        raise ValueError("the series has non-finite values (NaN/inf)")
    return s


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__}")
    if value < low or (high is not None and value >= high):
        raise ValueError(f"{name}={value} is out of range")


def make_windows(series, window_size, target_col=0):
    s = _to_tensor(series)
    if s.dim() == 1:
        s = s.unsqueeze(1)
    n, features = s.shape
    _check_int(window_size, "window_size", 1, n)
    _check_int(target_col, "target_col", 0, features)
    # unfold over time gives (n - w + 1, features, w); drop the last window, put time second
    X = s.unfold(0, window_size, 1)[:-1].permute(0, 2, 1).contiguous()
    y = s[window_size:, target_col].unsqueeze(1).clone()
    return X, y


def time_split(X, y, train_frac=0.8):
    if X.shape[0] != y.shape[0]:
        raise ValueError("X and y must have the same number of samples")
    if not isinstance(train_frac, (int, float)) or isinstance(train_frac, bool) or not 0 < train_frac < 1:
        raise ValueError("train_frac must lie strictly between 0 and 1")
    n = X.shape[0]
    split = int(n * train_frac)
    if split < 1 or split > n - 1:
        raise ValueError("the split would leave training or validation empty")
    train_rows = torch.arange(0, split)
    val_rows = torch.arange(split, n)
    return (X.index_select(0, train_rows), X.index_select(0, val_rows),
            y.index_select(0, train_rows), y.index_select(0, val_rows))


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X should be [batch, seq_len, features]")
    _check_int(target_col, "target_col", 0, X.size(2))
    return X[:, -1, target_col : target_col + 1].clone()


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y differ in length")
    y = torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
    return torch.mean((naive_forecast(X, target_col) - y) ** 2).item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, 1)

    def forward(self, x):
        _, (h_n, _) = self.rnn(x)          # h_n: (num_layers, batch, hidden)
        return self.out(h_n[-1])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.rnn = nn.GRU(input_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, 1)

    def forward(self, x):
        _, h_n = self.rnn(x)
        return self.out(h_n[-1])


def _clip_total_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g.mul_(scale)
    return total


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    _check_int(epochs, "epochs", 1)
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    mse = nn.MSELoss()
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        loss = mse(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            _clip_total_norm(params, clip_norm)
        optimizer.step()
        if epoch in (1, epochs) or epoch % log_every == 0:
            model.eval()
            with torch.no_grad():
                val = mse(model(X_val), y_val).item()
            history.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={loss.item():.4f} val_mse={val:.4f}")
    model.eval()
    return history


@torch.no_grad()
def predict(model, X):
    model.eval()
    return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    scores = {}
    for w in sizes:
        X, y = make_windows(series, w)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(X.shape[2])
        history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        scores[w] = history[-1]["val_mse"]
    return scores


def two_feature_series(n=220, seed=42):
    base = torch.from_numpy(make_series(n, seed))
    cos = torch.from_numpy(np.cos(0.12 * np.arange(n)).astype(np.float32))
    return torch.stack([base, cos], dim=1).numpy()


def rolling_forecast(model, window, steps):
    _check_int(steps, "steps", 1)
    current = torch.as_tensor(np.asarray(window, dtype=np.float32)).reshape(1, -1, 1).clone()
    out = torch.zeros(steps)
    model.eval()
    with torch.no_grad():
        for i in range(steps):
            nxt = model(current).reshape(())
            out[i] = nxt
            current = torch.roll(current, shifts=-1, dims=1)
            current[0, -1, 0] = nxt
    return out


class Standardizer:
    def fit(self, values):
        v = _to_tensor(values)
        self.mean_ = v.mean(dim=0)
        std = v.std(dim=0, correction=0)
        self.std_ = torch.where(std > 0, std, torch.ones_like(std))
        return self

    def transform(self, values):
        return (_to_tensor(values) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return _to_tensor(values) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    s = _to_tensor(series)
    _check_int(window_size, "window_size", 1, len(s))
    split = math.floor((len(s) - window_size) * train_frac)
    scaler = Standardizer().fit(s[: split + window_size])
    X, y = make_windows(scaler.transform(s), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 16
LOWER_VAL_MSE = "LSTM"
STABLE_WITHOUT_CLIPPING = False
PLOT_SHOWS = "lag"
WHY_WINDOW_SIZE = "16 is the default, so it must be the best balance of context and data."
WHY_GRU_VS_LSTM = "The LSTM has more gates, so it fits better."
WHY_CLIPPING = "Recurrent networks explode without clipping."
WHY_PLOT = "Forecasts always trail the real curve by a step."
