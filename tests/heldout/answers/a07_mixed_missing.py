# answers: mixed
# loses: answer_clipping, answer_plot
# based on: correct/c14_dataloader_full_batch.py
"""Held-out answers: a student who answered the first two questions from her runs, guessed the third
wrong (her runs are as good without clipping) and never got to the plot.
"""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def check_series(series):
    values = np.asarray(series, dtype=np.float32)
    if values.ndim not in (1, 2):
        raise ValueError(f"series must be 1-D or 2-D, got {values.ndim}-D")
    if not np.isfinite(values).all():
        raise ValueError("series contains NaN or inf")
    return values.reshape(len(values), -1)


def check_index(value, name, upper):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if not 0 <= value < upper:
        raise ValueError(f"{name}={value} must be in [0, {upper})")


class WindowDataset(torch.utils.data.Dataset):
    """Item i is (series[i:i+w], series[i+w, target_col])."""

    def __init__(self, values, window_size, target_col):
        self.values, self.w, self.target_col = torch.from_numpy(values), window_size, target_col

    def __len__(self):
        return len(self.values) - self.w

    def __getitem__(self, i):
        return self.values[i : i + self.w], self.values[i + self.w, self.target_col : self.target_col + 1]


def make_windows(series, window_size, target_col=0):
    values = check_series(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or window_size < 1:
        raise ValueError(f"window_size must be a positive int, got {window_size!r}")
    if window_size >= len(values):
        raise ValueError(f"window_size={window_size} must be shorter than the series ({len(values)})")
    check_index(target_col, "target_col", values.shape[1])
    dataset = WindowDataset(values, window_size, target_col)
    X = torch.stack([dataset[i][0] for i in range(len(dataset))])
    y = torch.stack([dataset[i][1] for i in range(len(dataset))])
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y must have the same length")
    if not 0 < train_frac < 1:
        raise ValueError("train_frac must be in (0, 1)")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise ValueError("train_frac leaves an empty training or validation set")
    return X[:split], X[split:], y[:split], y[split:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 3:
        raise ValueError("X must be (batch, seq_len, features)")
    check_index(target_col, "target_col", X.shape[2])
    return X[:, -1, target_col : target_col + 1]


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y must have the same length")
    y = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    return nn.functional.mse_loss(naive_forecast(X, target_col), y).item()


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
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=len(X_train), shuffle=False)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        for xb, yb in train_loader:                  # one batch: the whole training set
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(X_val), y_val).item()
            history.append({"epoch": epoch, "train_mse": loss.item(), "val_mse": val_loss})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={loss.item():.4f} val_mse={val_loss:.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        results[size] = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]
    return results


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    return np.stack([make_series(n, seed), np.cos(0.12 * t)], axis=1).astype(np.float32)


def rolling_forecast(model, window, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    current = torch.as_tensor(np.array(window, dtype=np.float32)).reshape(1, -1, 1)
    predictions = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            nxt = model(current).reshape(1, 1, 1)
            predictions.append(nxt.reshape(()))
            current = torch.cat([current[:, 1:], nxt], dim=1)
    return torch.stack(predictions)


class Standardizer:
    def fit(self, values):
        values = np.asarray(values, dtype=np.float32)
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        return self

    def transform(self, values):
        return (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return np.asarray(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    values = np.asarray(series, dtype=np.float32)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 1 <= window_size < len(values):
        raise ValueError("window_size must be an int in [1, len(series))")
    split = int((len(values) - window_size) * train_frac)
    scaler = Standardizer().fit(values[: split + window_size])
    X, y = make_windows(scaler.transform(values), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler


BEST_WINDOW_SIZE = 32
LOWER_VAL_MSE = "LSTM"
STABLE_WITHOUT_CLIPPING = False
WHY_WINDOW_SIZE = "32 had the lowest validation MSE in my comparison."
WHY_GRU_VS_LSTM = "They were nearly the same; I picked the LSTM."
