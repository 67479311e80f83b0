"""Held-out correct submission: a student who copies habits from tutorials written for GPUs: every tensor
is moved to the model's device, Adam's defaults are spelled out, numbers
leave the graph through .detach().cpu(). Windows come from the sliding_window
recipe of the itertools documentation, taking w+1 rows at a time: w inputs
and the answer. The rolling forecast slides a cloned tensor in place.
"""
import collections
import itertools
import numbers

import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def sliding_window(iterable, n):
    """Overlapping tuples of n consecutive items (the itertools documentation's recipe)."""
    iterator = iter(iterable)
    window = collections.deque(itertools.islice(iterator, n - 1), maxlen=n)
    for x in iterator:
        window.append(x)
        yield tuple(window)


def _positive_int(name, v, upper=None):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if upper is not None and v >= upper:
        raise ValueError(f"{name}={v} must be smaller than {upper}")


def _to_rows(series):
    arr = np.asarray(series, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise ValueError(f"series must be 1-D or 2-D, not {arr.ndim}-D")
    if np.isnan(arr).any() or np.isinf(arr).any():
        raise ValueError("series contains NaN/inf")
    return arr.reshape(arr.shape[0], -1)


def _check_col(target_col, n_features):
    if isinstance(target_col, bool) or not isinstance(target_col, numbers.Integral):
        raise ValueError(f"target_col must be an integer, got {target_col!r}")
    if target_col < 0 or target_col >= n_features:
        raise ValueError(f"target_col={target_col} is not a column index (0..{n_features - 1})")


def make_windows(series, window_size, target_col=0):
    rows = _to_rows(series)
    _positive_int("window_size", window_size, upper=len(rows))
    _check_col(target_col, rows.shape[1])
    chunks = list(sliding_window(rows, window_size + 1))          # each: w + 1 rows
    X = np.array([chunk[:-1] for chunk in chunks], dtype=np.float32)
    y = np.array([[chunk[-1][target_col]] for chunk in chunks], dtype=np.float32)
    return torch.from_numpy(X), torch.from_numpy(y)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length ({len(X)} != {len(y)})")
    if isinstance(train_frac, bool) or not isinstance(train_frac, numbers.Real):
        raise ValueError(f"train_frac must be a real number, got {train_frac!r}")
    if not (0.0 < train_frac < 1.0):
        raise ValueError(f"train_frac must be in the open interval (0, 1), got {train_frac}")
    n_train = int(len(X) * train_frac)
    if n_train < 1:
        raise ValueError("no training rows with this train_frac")
    if n_train > len(X) - 1:
        raise ValueError("no validation rows with this train_frac")
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if len(X.shape) != 3 or X.shape[1] < 1:
        raise ValueError(f"X must be 3-D (batch, seq_len, features), got {tuple(X.shape)}")
    _check_col(target_col, X.shape[2])
    last = X[:, -1, :]                                              # (batch, features)
    return last[:, target_col].view(-1, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length ({len(X)} != {len(y)})")
    yhat = naive_forecast(X, target_col)
    y = torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
    return float(nn.MSELoss(reduction="mean")(yhat, y).detach().cpu().numpy())


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super(LSTMForecaster, self).__init__()
        self.lstm = nn.LSTM(input_size=input_size, hidden_size=hidden_size, batch_first=True)
        self.fc = nn.Linear(in_features=hidden_size, out_features=1)

    def forward(self, x):
        lstm_out, (h_n, c_n) = self.lstm(x)
        last = lstm_out[:, -1, :]
        return self.fc(last)


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super(GRUForecaster, self).__init__()
        self.gru = nn.GRU(input_size=input_size, hidden_size=hidden_size, batch_first=True)
        self.fc = nn.Linear(in_features=hidden_size, out_features=1)

    def forward(self, x):
        gru_out, h_n = self.gru(x)
        return self.fc(gru_out[:, -1, :])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y differ in length")
    device = next(model.parameters()).device
    model = model.to(device)
    X_train, y_train = X_train.to(device), y_train.to(device)
    X_val, y_val = X_val.to(device), y_val.to(device)
    criterion = nn.MSELoss(reduction="mean")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        output = model(X_train)
        loss = criterion(output, y_train)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_norm)
        optimizer.step()
        train_mse = loss.detach().cpu().item()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_mse = criterion(model(X_val), y_val).detach().cpu().item()
            history.append({"epoch": epoch, "train_mse": train_mse, "val_mse": val_mse})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={train_mse:.4f} val_mse={val_mse:.4f}")
    model.eval()
    return history


def predict(model, X):
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32).to(device)).cpu()


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    mses = collections.OrderedDict()
    for window_size in sizes:
        X, y = make_windows(series, window_size)
        X_train, X_val, y_train, y_val = time_split(X, y, train_frac=0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[-1])
        history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        mses[window_size] = history[-1]["val_mse"]
    return dict(mses)


def two_feature_series(n=220, seed=42):
    t = np.arange(n, dtype=np.float64)
    return np.vstack([make_series(n, seed), np.cos(0.12 * t)]).T.astype(np.float32)


def rolling_forecast(model, window, steps):
    _positive_int("steps", steps)
    device = next(model.parameters()).device
    current = torch.as_tensor(np.asarray(window, dtype=np.float32)).clone().view(1, -1, 1).to(device)
    predictions = torch.zeros(steps)
    model.eval()
    with torch.no_grad():
        for step in range(steps):
            next_value = model(current)[0, 0]
            predictions[step] = next_value.cpu()
            current[:, :-1, :] = current[:, 1:, :].clone()           # slide left by one
            current[:, -1, 0] = next_value
    return predictions


class Standardizer:
    def fit(self, values):
        rows = _to_rows(values).astype(np.float64)
        self.mean_ = rows.mean(axis=0)
        self.std_ = rows.std(axis=0)
        self.std_[self.std_ == 0] = 1.0
        return self

    def _rows_and_shape(self, values):
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        arr = np.asarray(values, dtype=np.float32)
        return _to_rows(arr), arr.shape

    def transform(self, values):
        rows, shape = self._rows_and_shape(values)
        return ((rows - self.mean_) / self.std_).astype(np.float32).reshape(shape)

    def inverse_transform(self, values):
        rows, shape = self._rows_and_shape(values)
        return (rows * self.std_ + self.mean_).astype(np.float32).reshape(shape)


def prepare_data(series, window_size, train_frac=0.8):
    rows = _to_rows(series)
    _positive_int("window_size", window_size, upper=len(rows))
    arr = np.asarray(series, dtype=np.float32)
    n_train_windows = int((len(rows) - window_size) * train_frac)
    scaler = Standardizer().fit(arr[: n_train_windows + window_size])
    X, y = make_windows(scaler.transform(arr), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 32
WHY_WINDOW_SIZE = "32 had the lowest validation loss in my comparison."
LOWER_VAL_MSE = "GRU"
WHY_GRU_VS_LSTM = "Essentially tied."
STABLE_WITHOUT_CLIPPING = True
WHY_CLIPPING = "Same numbers with and without clipping."
PLOT_SHOWS = "none"
WHY_PLOT = "A close match to the truth."
