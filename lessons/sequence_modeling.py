"""Lesson 6.4.4, Sequence Modeling in Practice: your implementation.

Fill in every function that raises ``NotImplementedError``; its message says
what to compute and with which shapes. Edit only those bodies: the names,
signatures and the given code (``make_series``, ``run_lab``) are what the
autograder calls.

Check your progress at any time:

    autograder check lessons/sequence_modeling.py

Run the lab once everything is filled in:

    python lessons/sequence_modeling.py
"""

import numbers

import numpy as np
import torch
from torch import nn


# ---------------------------------------------------------------------------
# Given: the lesson's synthetic series
# ---------------------------------------------------------------------------

def make_series(n=220, seed=42):
    """Two sine waves plus a little noise: the lesson's series, shape (n,), float32.

    It draws its noise from its own RandomState, so calling it never moves
    numpy's global random state.
    """
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)


# ---------------------------------------------------------------------------
# Input checks: each raises ValueError with a message naming the problem
# ---------------------------------------------------------------------------

def check_series(series):
    """Return ``series`` as a float32 array of shape (n,) or (n, features)."""
    raise NotImplementedError(
        'convert with np.asarray(series, dtype=np.float32); raise ValueError unless it '
        'is 1-D or 2-D and every value is finite (np.isfinite).'
    )


def check_window_size(window_size, n):
    """A window must be a positive int shorter than the series (bools are not ints)."""
    raise NotImplementedError(
        'raise ValueError if window_size is a bool, is not an int '
        '(isinstance(window_size, numbers.Integral)), is < 1, or is >= n.'
    )


def check_target_col(target_col, n_features):
    """The target column must index one of the ``n_features`` columns."""
    raise NotImplementedError(
        'raise ValueError unless target_col is an int (not a bool) with 0 <= target_col '
        '< n_features.'
    )


# ---------------------------------------------------------------------------
# Step 1: sliding windows
# ---------------------------------------------------------------------------

def make_windows(series, window_size, target_col=0):
    """Turn a series into supervised rows: each window of ``window_size`` values
    predicts the value right after it.

    series: (n,) or (n, features), a numpy array, tensor or list.
    Returns X: (n - window_size, window_size, features) and
            y: (n - window_size, 1), both float32 tensors, where
    X[i] = series[i : i + window_size] and y[i, 0] = series[i + window_size, target_col].
    """
    raise NotImplementedError(
        'validate with check_series, check_window_size and check_target_col; a 1-D '
        'series is one feature, so reshape it to (n, 1) first. X[i] = series[i : i + w] '
        'for i in range(n - w), stacked to (n - w, w, features); y[i, 0] = series[i + '
        'w, target_col], shape (n - w, 1). Return float32 tensors.'
    )


# ---------------------------------------------------------------------------
# Step 2: a time-ordered split
# ---------------------------------------------------------------------------

def time_split(X, y, train_frac=0.8):
    """Split in time order: the first ``int(len(X) * train_frac)`` rows train,
    the rest validate. Nothing is shuffled, so no future value leaks into training.

    Returns (X_train, X_val, y_train, y_val).
    """
    raise NotImplementedError(
        'raise ValueError if len(X) != len(y), if train_frac is not a number strictly '
        'between 0 and 1, or if either side of the split would be empty. split = '
        'int(len(X) * train_frac); train is [:split], validation is [split:].'
    )


# ---------------------------------------------------------------------------
# Step 3: the naive baseline every model must beat
# ---------------------------------------------------------------------------

def check_windows(X):
    """Return ``X`` as a float32 tensor of shape (batch, seq_len, features)."""
    raise NotImplementedError(
        'convert with torch.as_tensor(X, dtype=torch.float32); raise ValueError unless '
        'it is 3-D (batch, seq_len, features) with at least one time step.'
    )


def naive_forecast(X, target_col=0):
    """Predict that the next value equals the last observed value of the target.

    X: (batch, seq_len, features). Returns (batch, 1).
    """
    raise NotImplementedError(
        'validate with check_windows and check_target_col, then take the last time step '
        'of the target feature: X[:, -1, target_col], shaped (batch, 1).'
    )


def naive_mse(X, y, target_col=0):
    """Mean squared error of the naive forecast against ``y``, as a float."""
    raise NotImplementedError(
        'raise ValueError if len(X) != len(y); then the mean of (naive_forecast(X, '
        'target_col) - y) ** 2 as a Python float (MSE, not RMSE).'
    )


# ---------------------------------------------------------------------------
# Step 4: the forecasters
# ---------------------------------------------------------------------------

class LSTMForecaster(nn.Module):
    """An LSTM reads the window; a linear layer turns its last hidden state into
    one predicted value."""

    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        raise NotImplementedError(
            'create self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True) '
            'first, then self.fc = nn.Linear(hidden_size, 1).'
        )

    def forward(self, x):
        # x: (batch, seq_len, input_size) -> (batch, 1)
        raise NotImplementedError(
            'out, _ = self.lstm(x) gives (batch, seq_len, hidden_size); feed the last '
            'time step out[:, -1, :] through self.fc.'
        )


class GRUForecaster(nn.Module):
    """Exercise 2: the same forecaster with a GRU, which has no cell state."""

    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        raise NotImplementedError(
            'as LSTMForecaster, with self.gru = nn.GRU(input_size, hidden_size, '
            'batch_first=True).'
        )

    def forward(self, x):
        # x: (batch, seq_len, input_size) -> (batch, 1)
        raise NotImplementedError(
            'out, _ = self.gru(x); return self.fc(out[:, -1, :]).'
        )


# ---------------------------------------------------------------------------
# Step 5: training with validation, and prediction
# ---------------------------------------------------------------------------

def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    """Full-batch Adam on the mean squared error, as in the lesson.

    Each epoch: one gradient step on the whole training set, the total gradient
    norm clipped to ``clip_norm`` (``None`` turns clipping off). At epoch 1,
    every ``log_every``-th epoch and the last epoch, the model is evaluated on
    the validation set (eval mode, no gradient) and a row
    ``{"epoch", "train_mse", "val_mse"}`` is recorded and passed to ``log`` as
    ``epoch=001 train_mse=0.5168 val_mse=0.4633``. Returns the rows; the model
    is left in eval mode.
    """
    raise NotImplementedError(
        'loss_fn = nn.MSELoss(); optimizer = torch.optim.Adam(model.parameters(), '
        'lr=lr). each epoch: model.train(), predict X_train, loss, '
        'optimizer.zero_grad(), loss.backward(), clip with '
        'torch.nn.utils.clip_grad_norm_ unless clip_norm is None, optimizer.step(). At '
        'epoch 1, every log_every-th and the last epoch: model.eval(), the validation '
        'loss under torch.no_grad(), append the row and call log (unless None).'
    )


def predict(model, X):
    """The model's predictions for ``X``, (batch, 1), in eval mode without gradients."""
    raise NotImplementedError(
        'model.eval(), then model(X) under torch.no_grad().'
    )


# ---------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------

def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    """Exercise 1: the validation MSE of a fresh LSTM for each window size.

    For each size: windows, a 0.8 time split, ``torch.manual_seed(seed)``, a new
    ``LSTMForecaster``, ``train_model(..., log=None)``. Returns {size: val_mse}.
    """
    raise NotImplementedError(
        'for each size: make_windows, time_split(..., 0.8), torch.manual_seed(seed), '
        'LSTMForecaster(input_size=X.shape[2]), train_model(..., epochs=epochs, '
        'log=None); the value is the last history row\'s "val_mse".'
    )


def two_feature_series(n=220, seed=42):
    """Exercise 4: the lesson's series with cos(0.12 t) as a second feature, (n, 2)."""
    raise NotImplementedError(
        'column 0 is make_series(n, seed), column 1 is np.cos(0.12 * np.arange(n)); '
        'stack them to shape (n, 2), float32.'
    )


def rolling_forecast(model, window, steps):
    """Exercise 5: forecast ``steps`` values ahead, feeding each prediction back.

    window: the last w observed values, (w,) or (w, 1); it is not modified.
    Returns (steps,): predict one step, drop the oldest value, append the
    prediction, repeat.
    """
    raise NotImplementedError(
        'raise ValueError if steps < 1. Copy the window to a (1, w, 1) float32 tensor; '
        'in eval mode under torch.no_grad(), repeat: next = model(current), keep it, '
        'current = torch.cat([current[:, 1:], next.reshape(1, 1, 1)], dim=1).'
    )


# ---------------------------------------------------------------------------
# The real-project path: scale with training statistics only
# ---------------------------------------------------------------------------

class Standardizer:
    """Per-column standardisation with statistics fitted once, on training data."""

    def fit(self, values):
        """Store the per-column mean and standard deviation of ``values``."""
        raise NotImplementedError(
            'values = check_series(values); mean_ = values.mean(axis=0), std_ = '
            'values.std(axis=0) with 1.0 wherever it is 0 (a constant column). Return '
            'self.'
        )

    def transform(self, values):
        """(values - mean_) / std_, with the fitted statistics."""
        raise NotImplementedError(
            'return (check_series(values) - self.mean_) / self.std_.'
        )

    def inverse_transform(self, values):
        """values * std_ + mean_: undoes ``transform``."""
        raise NotImplementedError(
            'return check_series(values) * self.std_ + self.mean_.'
        )


def prepare_data(series, window_size, train_frac=0.8):
    """Scale, window and split a series without looking at the validation future.

    The scaler is fitted on ``series[:split + window_size]``, the values the
    training windows and targets see, then applied to the whole series.
    Returns (X_train, X_val, y_train, y_val, scaler).
    """
    raise NotImplementedError(
        'values = check_series(series); check window_size; split = int((n - w) * '
        'train_frac); fit a Standardizer on values[:split + w] only, transform all of '
        'values, then make_windows and time_split(..., train_frac).'
    )


# ---------------------------------------------------------------------------
# The lesson's lab, end to end
# ---------------------------------------------------------------------------

def run_lab(window_size=16, epochs=120, log=print):
    """Run the lesson's lab and print what the lesson prints. Returns its results."""
    series = make_series(220, 42)
    X, y = make_windows(series, window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
    log("window_lab")
    log(f"X: {tuple(X.shape)} y: {tuple(y.shape)}")
    log(f"train: {tuple(X_train.shape)} val: {tuple(X_val.shape)}")
    log(f"naive_val_mse: {round(naive_mse(X_val, y_val), 4)}")

    torch.manual_seed(42)
    model = LSTMForecaster()
    history = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=log)
    val_pred = predict(model, X_val)
    log(f"first_5_pred: {[round(v, 3) for v in val_pred[:5, 0].tolist()]}")
    log(f"first_5_true: {[round(v, 3) for v in y_val[:5, 0].tolist()]}")
    return {"series": series, "model": model, "history": history, "val_pred": val_pred,
            "X_train": X_train, "X_val": X_val, "y_train": y_train, "y_val": y_val}


if __name__ == "__main__":
    run_lab()
