"""Held-out correct submission: a port of the well-known Keras tutorial's
`create_dataset(dataset, look_back)` loop (without its famous `- 1`), adapted to
the lesson's API.

naive_mse is computed with numpy in float64 (a numpy float64 is a Python float),
and prepare_data fits the scaler on the first int(n * train_frac) values: fewer
than the training windows see, which the spec allows ("or less").
"""
import numpy as np
import torch
import torch.nn as nn


def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


def create_dataset(dataset, look_back=1, target_col=0):
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back):
        a = dataset[i:(i + look_back), :]
        dataX.append(a)
        dataY.append(dataset[i + look_back, target_col])
    return np.array(dataX), np.array(dataY)


def validate_dataset(dataset):
    dataset = np.array(dataset, dtype="float32")
    if dataset.ndim == 1:
        dataset = dataset.reshape(-1, 1)
    if dataset.ndim != 2:
        raise ValueError("dataset must be 1-D or 2-D")
    if np.isnan(dataset).any():
        raise ValueError("dataset contains NaN")
    if np.isinf(dataset).any():
        raise ValueError("dataset contains inf")
    return dataset


def make_windows(series, window_size, target_col=0):
    dataset = validate_dataset(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int):
        raise ValueError("look_back (window_size) must be an int")
    if window_size <= 0 or window_size >= len(dataset):
        raise ValueError("look_back (window_size) must be in [1, len(series) - 1]")
    if isinstance(target_col, bool) or not isinstance(target_col, int):
        raise ValueError("target_col must be an int")
    if target_col < 0 or target_col >= dataset.shape[1]:
        raise ValueError("target_col is not a column of the series")
    trainX, trainY = create_dataset(dataset, window_size, target_col)
    return torch.Tensor(trainX), torch.Tensor(trainY).view(-1, 1)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y lengths differ")
    if not 0 < train_frac < 1:
        raise ValueError("train_frac must be in (0, 1)")
    train_size = int(len(X) * train_frac)
    test_size = len(X) - train_size
    if train_size == 0 or test_size == 0:
        raise ValueError("empty train or validation set")
    return X[0:train_size], X[train_size:len(X)], y[0:train_size], y[train_size:len(y)]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise ValueError("X must be 3-D")
    if target_col < 0 or target_col >= X.shape[2]:
        raise ValueError("target_col out of range")
    return X[:, -1, target_col].view(-1, 1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y lengths differ")
    pred = naive_forecast(X, target_col).numpy().astype(np.float64).ravel()
    true = np.asarray(y, dtype=np.float64).ravel()
    return np.mean((pred - true) ** 2)            # numpy.float64, a subclass of float


class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super(LSTMForecaster, self).__init__()
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x):
        lstm_out, (h, c) = self.lstm(x)
        return self.linear(lstm_out[:, -1, :])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super(GRUForecaster, self).__init__()
        self.hidden_size = hidden_size
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x):
        gru_out, h = self.gru(x)
        return self.linear(gru_out[:, -1, :])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    loss_function = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for i in range(epochs):
        epoch = i + 1
        model.train()
        optimizer.zero_grad()
        y_pred = model(X_train)
        single_loss = loss_function(y_pred, y_train)
        single_loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                val_loss = loss_function(model(X_val), y_val)
            history.append({"epoch": epoch, "train_mse": single_loss.item(), "val_mse": val_loss.item()})
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={single_loss.item():.4f} val_mse={val_loss.item():.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    result = {}
    for look_back in sizes:
        X, y = make_windows(series, look_back)
        trainX, testX, trainY, testY = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[2])
        history = train_model(model, trainX, trainY, testX, testY, epochs=epochs, log=None)
        result[look_back] = history[-1]["val_mse"]
    return result


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    return np.vstack([make_series(n, seed), np.cos(0.12 * t)]).T.astype(np.float32)


def rolling_forecast(model, window, steps):
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError("steps must be >= 1")
    history = np.array(window, dtype=np.float32).flatten()
    look_back = len(history)
    predictions = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x_input = torch.Tensor(history[-look_back:]).reshape((1, look_back, 1))
            yhat = model(x_input).item()
            predictions.append(yhat)
            history = np.append(history, yhat)
    return torch.Tensor(predictions)


class Standardizer:
    def fit(self, values):
        values = validate_dataset(values) if np.ndim(values) != 1 else validate_dataset(values)[:, 0]
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.std_ = np.where(std == 0, np.float32(1.0), std).astype(np.float32)
        return self

    def transform(self, values):
        return (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return np.asarray(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    dataset = validate_dataset(series)[:, 0] if np.ndim(series) == 1 else validate_dataset(series)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 0 < window_size < len(dataset):
        raise ValueError("window_size must be in [1, len(series) - 1]")
    train_size = int(len(dataset) * train_frac)      # at most split + window_size values: no leak
    scaler = Standardizer().fit(dataset[:train_size])
    X, y = make_windows(scaler.transform(dataset), window_size)
    trainX, testX, trainY, testY = time_split(X, y, train_frac)
    return trainX, testX, trainY, testY, scaler
