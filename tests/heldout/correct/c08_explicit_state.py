"""Held-out correct submission in the style of the common "LSTM for time series"
blog posts: explicit zero initial states h0/c0, num_layers stored on the model,
a hand-written MSE, a while loop over epochs, dict(...) rows with float(),
and a Standardizer that hands back the type it was given.
"""
import numpy as np
import torch
import torch.nn as nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _fail(msg):
    raise ValueError(msg)


def make_windows(series, window_size, target_col=0):
    data = np.asarray(series, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        _fail("series should be shaped (n,) or (n, features)")
    if not np.isfinite(data).all():
        _fail("series has missing (NaN) or infinite values; clean it first")
    n, n_features = data.shape
    if not isinstance(window_size, int) or isinstance(window_size, bool):
        _fail("window_size should be an int")
    if window_size < 1 or window_size >= n:
        _fail(f"window_size should be in 1..{n - 1}")
    if not isinstance(target_col, int) or isinstance(target_col, bool) or not 0 <= target_col < n_features:
        _fail(f"target_col should be in 0..{n_features - 1}")
    xs, ys = [], []
    i = 0
    while i + window_size < n:
        xs.append(torch.from_numpy(data[i : i + window_size].copy()))
        ys.append(float(data[i + window_size, target_col]))
        i += 1
    return torch.stack(xs), torch.tensor(ys, dtype=torch.float32).view(-1, 1)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        _fail("X and y should have the same number of rows")
    if not 0.0 < train_frac < 1.0:
        _fail("train_frac should be strictly between 0 and 1")
    train_size = int(len(X) * train_frac)
    if train_size <= 0:
        _fail("train_frac too small: the training set would be empty")
    if train_size >= len(X):
        _fail("train_frac too large: the validation set would be empty")
    return X[:train_size], X[train_size:], y[:train_size], y[train_size:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        _fail("X should be 3-D")
    if not 0 <= target_col < X.size(-1):
        _fail("target_col out of range")
    return X[:, -1, target_col].unsqueeze(1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        _fail("X and y should have the same number of rows")
    errors = naive_forecast(X, target_col) - torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
    return float(torch.mean(errors ** 2))


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = 1
        self.lstm = nn.LSTM(input_size, hidden_size, self.num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))
        out = self.fc(out[:, -1, :])
        return out


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = 1
        self.gru = nn.GRU(input_size, hidden_size, self.num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.gru(x, h0)
        out = self.fc(out[:, -1, :])
        return out


def mse(pred, target):
    return torch.mean((pred - target) ** 2)


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    epoch = 0
    while epoch < epochs:
        epoch += 1
        model.train()
        outputs = model(X_train)
        optimizer.zero_grad()
        loss = mse(outputs, y_train)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_norm)
        optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_loss = mse(model(X_val), y_val)
            history.append(dict(epoch=epoch, train_mse=float(loss), val_mse=float(val_loss)))
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={float(loss):.4f} val_mse={float(val_loss):.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        out = model(X)
    return out


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = dict()
    for window_size in sizes:
        X, y = make_windows(series, window_size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.size(2))
        train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        results[window_size] = float(mse(predict(model, X_val), y_val))
    return results


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    features = np.zeros((n, 2), dtype=np.float32)
    features[:, 0] = make_series(n, seed)
    features[:, 1] = np.cos(t * 0.12)
    return features


def rolling_forecast(model, window, steps):
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        _fail("steps should be a positive int")
    seq = torch.as_tensor(window, dtype=torch.float32).detach().clone().view(1, -1, 1)
    forecast = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            next_val = model(seq)                         # (1, 1)
            forecast.append(next_val.item())
            seq = torch.cat([seq[:, 1:, :], next_val.view(1, 1, 1)], dim=1)
    return torch.tensor(forecast)


class Standardizer:
    def fit(self, values):
        arr = np.asarray(values, dtype=np.float32)
        if not np.isfinite(arr).all():
            _fail("cannot fit on NaN or inf")
        self.mean_ = arr.mean(axis=0)
        self.std_ = arr.std(axis=0)
        self.std_ = np.where(self.std_ == 0, 1.0, self.std_).astype(np.float32)
        return self

    def transform(self, values):
        if isinstance(values, torch.Tensor):
            return (values - torch.from_numpy(np.asarray(self.mean_))) / torch.from_numpy(self.std_)
        return (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        if isinstance(values, torch.Tensor):
            return values * torch.from_numpy(self.std_) + torch.from_numpy(np.asarray(self.mean_))
        return np.asarray(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    data = np.asarray(series, dtype=np.float32)
    if not isinstance(window_size, int) or isinstance(window_size, bool) or not 1 <= window_size < len(data):
        _fail("window_size should be an int in 1..len(series) - 1")
    split = int((len(data) - window_size) * train_frac)
    scaler = Standardizer().fit(data[: split + window_size])
    X, y = make_windows(scaler.transform(data), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler
