# answers: blank
# loses: answer_window_size, answer_gru_vs_lstm, answer_clipping, answer_plot
# based on: correct/c06_d2l_style.py
"""Held-out answers: a student who wrote all the code but left the answer cell as handed out: every
name set to None, the reasons empty.
"""
import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def _check(series):
    x = torch.tensor(np.asarray(series), dtype=torch.float32)
    if x.dim() not in (1, 2):
        raise ValueError("series must be 1-D or 2-D")
    if torch.isnan(x).any() or torch.isinf(x).any():
        raise ValueError("series must be finite")
    return x if x.dim() == 2 else x.reshape(-1, 1)


def make_windows(series, window_size, target_col=0):
    x = _check(series)
    T, num_inputs = x.shape
    if type(window_size) is bool or not isinstance(window_size, int) or window_size <= 0:
        raise ValueError("window_size (tau) must be a positive int")
    if window_size >= T:
        raise ValueError("window_size (tau) must be smaller than the number of time steps")
    if type(target_col) is bool or not isinstance(target_col, int) or not 0 <= target_col < num_inputs:
        raise ValueError("target_col must index a feature")
    tau = window_size
    features = torch.stack([x[i : i + tau] for i in range(T - tau)])       # (T - tau, tau, num_inputs)
    labels = x[tau:, target_col].reshape((-1, 1))
    return features, labels


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("features and labels differ in length")
    if not 0 < train_frac < 1:
        raise ValueError("train_frac must be in (0, 1)")
    n_train = int(len(X) * train_frac)
    if not 0 < n_train < len(X):
        raise ValueError("train_frac leaves no training or no validation data")
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X must have shape (batch, num_steps, num_inputs)")
    if not 0 <= target_col < X.shape[-1]:
        raise ValueError("target_col out of range")
    return X[:, -1, target_col].reshape(-1, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y differ in length")
    loss = nn.MSELoss()
    return loss(naive_forecast(X, target_col), torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)).item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.num_hiddens = hidden_size
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, X, state=None):
        Y, state = self.rnn(X, state)
        return self.linear(Y[:, -1, :])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.num_hiddens = hidden_size
        self.rnn = nn.GRU(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, X, state=None):
        Y, state = self.rnn(X, state)
        return self.linear(Y[:, -1, :])


def evaluate_loss(net, X, y, loss):
    net.eval()
    with torch.no_grad():
        return loss(net(X), y).item()


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    net, num_epochs = model, epochs
    loss = nn.MSELoss()
    trainer = torch.optim.Adam(net.parameters(), lr)
    animator = []
    for epoch in range(num_epochs):
        net.train()
        trainer.zero_grad()
        l = loss(net(X_train), y_train)
        l.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
        trainer.step()
        val_l = evaluate_loss(net, X_val, y_val, loss)
        if epoch == 0 or (epoch + 1) % log_every == 0 or epoch + 1 == num_epochs:
            animator.append({"epoch": epoch + 1, "train_mse": l.item(), "val_mse": val_l})
            if log is not None:
                log(f"epoch={epoch + 1:03d} train_mse={l.item():.4f} val_mse={val_l:.4f}")
    net.eval()
    return animator


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(X)


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for tau in sizes:
        features, labels = make_windows(series, tau)
        X_train, X_val, y_train, y_val = time_split(features, labels, 0.8)
        torch.manual_seed(seed)
        net = LSTMForecaster(input_size=features.shape[-1])
        results[tau] = train_model(net, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]
    return results


def two_feature_series(n=220, seed=42):
    time = np.arange(n)
    return np.c_[make_series(n, seed), np.cos(0.12 * time)].astype(np.float32)


def rolling_forecast(model, window, steps):
    if type(steps) is bool or not isinstance(steps, int) or steps < 1:
        raise ValueError("steps must be a positive int")
    inputs = torch.tensor(np.asarray(window, dtype=np.float32)).reshape(1, -1, 1)
    preds = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            yhat = model(inputs)                                   # (1, 1)
            preds.append(yhat.reshape(-1))
            inputs = torch.cat((inputs[:, 1:, :], yhat.reshape(1, 1, 1)), dim=1)
    return torch.cat(preds)


class Standardizer:
    def fit(self, values):
        v = _check(values).numpy()
        self._flat = np.ndim(values) == 1
        mean = v.mean(axis=0, keepdims=True)
        std = v.std(axis=0, keepdims=True)
        std[std == 0] = 1.0
        self.mean_, self.std_ = mean.reshape(-1), std.reshape(-1)
        return self

    def _apply(self, values, fn):
        v = np.asarray(values, dtype=np.float32)
        out = fn(v.reshape(len(v), -1))
        return out.reshape(v.shape)

    def transform(self, values):
        return self._apply(values, lambda v: (v - self.mean_) / self.std_)

    def inverse_transform(self, values):
        return self._apply(values, lambda v: v * self.std_ + self.mean_)


def prepare_data(series, window_size, train_frac=0.8):
    x = _check(series)
    if type(window_size) is bool or not isinstance(window_size, int) or not 0 < window_size < len(x):
        raise ValueError("window_size must be a positive int below the series length")
    n_train = int((len(x) - window_size) * train_frac)
    scaler = Standardizer().fit(np.asarray(series, dtype=np.float32)[: n_train + window_size])
    X, y = make_windows(scaler.transform(series), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = None        # one of 8, 16, 32
LOWER_VAL_MSE = None           # "LSTM" or "GRU"
STABLE_WITHOUT_CLIPPING = None  # True or False
PLOT_SHOWS = None              # "lag", "flatline", "missed peaks", "noisy" or "none"
WHY_WINDOW_SIZE = ""
WHY_GRU_VS_LSTM = ""
WHY_CLIPPING = ""
WHY_PLOT = ""
