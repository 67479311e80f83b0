# answers: consistent
# loses: 
# based on: correct/c01_lesson_loops.py
"""Held-out answers: a student who ran each exercise, read the numbers off the printout and typed them in.
"""
import numpy as np
import torch
from torch import nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def make_windows(series, window_size, target_col=0):
    data = np.array(series, dtype=np.float32)
    if data.ndim == 1:
        data = data.reshape(-1, 1)
    elif data.ndim != 2:
        raise ValueError("series must be 1-D or 2-D")
    if not np.all(np.isfinite(data)):
        raise ValueError("series has NaN or inf in it")
    if type(window_size) is not int or window_size < 1:
        raise ValueError("window_size must be a positive integer")
    if window_size >= len(data):
        raise ValueError("window_size must be smaller than the length of the series")
    if type(target_col) is not int or target_col < 0 or target_col >= data.shape[1]:
        raise ValueError("target_col is out of range")

    X, y = [], []
    for i in range(len(data) - window_size):
        X.append(data[i : i + window_size])
        y.append(data[i + window_size, target_col])
    X = torch.tensor(np.array(X), dtype=torch.float32)
    y = torch.tensor(np.array(y), dtype=torch.float32).unsqueeze(-1)
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y have different lengths")
    if not (0 < train_frac < 1):
        raise ValueError("train_frac must be between 0 and 1")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise ValueError("this train_frac leaves the train or validation set empty")
    X_train, X_val = X[:split], X[split:]
    y_train, y_val = y[:split], y[split:]
    return X_train, X_val, y_train, y_val


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X must be (batch, seq_len, features)")
    if target_col < 0 or target_col >= X.shape[2]:
        raise ValueError("target_col is out of range")
    return X[:, -1, target_col].unsqueeze(-1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y have different lengths")
    pred = naive_forecast(X, target_col)
    y = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return ((pred - y) ** 2).mean().item()


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1, :])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        pred = model(X_train)
        loss = loss_fn(pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()

        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(X_val), y_val)
            history.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val_loss.item()})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={loss.item():.4f} val_mse={val_loss.item():.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(X)


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for w in sizes:
        X, y = make_windows(series, w)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)
        results[w] = history[-1]["val_mse"]
    return results


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    first = make_series(n, seed)
    second = np.cos(t * 0.12)
    return np.stack([first, second], axis=1).astype(np.float32)


def rolling_forecast(model, window, steps):
    if type(steps) is not int or steps < 1:
        raise ValueError("steps must be at least 1")
    values = [float(v) for v in np.array(window, dtype=np.float32).reshape(-1)]
    predictions = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(values, dtype=torch.float32).reshape(1, -1, 1)
            nxt = model(x).item()
            predictions.append(nxt)
            values = values[1:] + [nxt]
    return torch.tensor(predictions, dtype=torch.float32)


class Standardizer:
    def fit(self, values):
        values = np.array(values, dtype=np.float32)
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.std_ = np.where(std == 0, 1.0, std).astype(np.float32)
        return self

    def transform(self, values):
        return (np.array(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return np.array(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    values = np.array(series, dtype=np.float32)
    n_windows = len(values) - window_size
    split = int(n_windows * train_frac)
    scaler = Standardizer().fit(values[: split + window_size])
    X, y = make_windows(scaler.transform(values), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


if __name__ == "__main__":
    series = make_series()
    X, y = make_windows(series, 16)
    X_train, X_val, y_train, y_val = time_split(X, y)
    print("naive_val_mse:", round(naive_mse(X_val, y_val), 4))
    torch.manual_seed(42)
    model = LSTMForecaster()
    train_model(model, X_train, y_train, X_val, y_val)


# Answers to the exercises' questions
BEST_WINDOW_SIZE = 32
LOWER_VAL_MSE = "GRU"
STABLE_WITHOUT_CLIPPING = True
PLOT_SHOWS = "none"
WHY_WINDOW_SIZE = "32 came out lowest of the three, though 8 was close behind it."
WHY_GRU_VS_LSTM = "The GRU ended a hair lower, by less than one percent, so I would not bet on it."
WHY_CLIPPING = "Without clipping the run ended at the same validation MSE, no loss blew up."
WHY_PLOT = "The predictions sit on the validation curve; I could not see a lag or a flat line."
