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

def validate_series(series):
    """Return ``series`` as a float32 array of shape (n,) or (n, features)."""
    raise NotImplementedError(
        'Turn whatever array-like arrives into a float32 numpy array. Anything that is '
        'not 1-D or 2-D, or that holds NaN or inf, is a ValueError saying what is '
        'wrong: one bad value would poison every loss computed later.'
    )


def validate_window_size(window_size, n):
    """A window must be a positive int shorter than the series (bools are not ints)."""
    raise NotImplementedError(
        'A window size must be a whole number of steps: an int, but not True or False '
        "(bool is a kind of int in Python), at least 1, and shorter than the series' n "
        'values, or the last window has no value after it to predict. Anything else is '
        'a ValueError naming the value.'
    )


def validate_target_col(target_col, n_features):
    """The target column must index one of the ``n_features`` columns."""
    raise NotImplementedError(
        'The target column must be an int (again, not a bool) that names one of the '
        'n_features columns; any other value is a ValueError.'
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
        'Validate with the three checks above before anything else. Treat a 1-D series '
        'as a series with one feature, so both shapes follow the same path. Window i is '
        'the w consecutive rows starting at row i, and its target is the target column '
        'one step after the window ends. That gives n - w windows, not n - w + 1: the '
        'last possible window has nothing after it. Return float32 tensors, X (n - w, '
        "w, features) and y (n - w, 1). Classic mistake: taking the window's own last "
        'value as its target.'
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
        'Refuse with ValueError: X and y of different lengths, a train_frac that is not '
        'a number strictly between 0 and 1, and a fraction that would leave either side '
        'without rows. Training is the first int(len(X) * train_frac) rows, validation '
        'all the rows after them, both in their original order. Never shuffle: a '
        'shuffled split trains on the future it is then validated on.'
    )


# ---------------------------------------------------------------------------
# Step 3: the naive baseline every model must beat
# ---------------------------------------------------------------------------

def validate_windows(X):
    """Return ``X`` as a float32 tensor of shape (batch, seq_len, features)."""
    raise NotImplementedError(
        'Accept any array-like and return a float32 tensor; it must be 3-D, (batch, '
        'seq_len, features), with at least one time step, or it is a ValueError.'
    )


def naive_forecast(X, target_col=0):
    """Predict that the next value equals the last observed value of the target.

    X: (batch, seq_len, features). Returns (batch, 1).
    """
    raise NotImplementedError(
        'Validate X and target_col with the checks above. The naive guess for each row '
        'is the most recent value of the target feature that the window holds, that is '
        'its final time step. Keep a column axis, so the result is (batch, 1) and lines '
        'up with y.'
    )


def naive_mse(X, y, target_col=0):
    """Mean squared error of the naive forecast against ``y``, as a float."""
    raise NotImplementedError(
        'Different lengths are a ValueError. The result is the average of the squared '
        'differences between the naive forecast and y, over every row, as a plain '
        'Python float. Give y the same (batch, 1) shape as the forecast first: a '
        '(batch,) y broadcasts silently into a (batch, batch) table. Squared error, not '
        'its square root.'
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
            "Two layers, created in this order so that the lesson's seed gives the "
            "lesson's weights: an LSTM from input_size to hidden_size that reads its "
            'input batch first (inputs are [batch, seq_len, input_size]), then a linear '
            'layer from hidden_size to one output.'
        )

    def forward(self, x):
        # x: (batch, seq_len, input_size) -> (batch, 1)
        raise NotImplementedError(
            'The LSTM returns an output for every time step, (batch, seq_len, '
            'hidden_size), and its final states. Only the output at the final time step '
            'has read the whole window: send that (batch, hidden_size) slice through '
            'the linear layer to get (batch, 1). Pitfall: position 0 along time is the '
            'first step, which has seen almost nothing.'
        )


class GRUForecaster(nn.Module):
    """Exercise 2: the same forecaster with a GRU, which has no cell state."""

    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        raise NotImplementedError(
            'The same two layers as LSTMForecaster, in the same order and again batch '
            'first, with a GRU as the recurrent layer.'
        )

    def forward(self, x):
        # x: (batch, seq_len, input_size) -> (batch, 1)
        raise NotImplementedError(
            'As in LSTMForecaster: a GRU returns an output for every time step and one '
            'final hidden state (it has no cell state). The linear layer reads the '
            "final time step's output, giving (batch, 1)."
        )


# Exercise 2's question: trained with train_model's defaults on the lab's data (window 16, a 0.8
# split, torch.manual_seed(42) before each model), which forecaster ends with the lower validation
# MSE? Does the GRU train faster or differently?
# Your answer: replace each None (the comment says what is allowed).
LOWER_VAL_MSE = None                        # "LSTM" or "GRU"
WHY_GRU_VS_LSTM = None                      # a sentence or two, in your own words


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
        "Use a mean squared error loss and an Adam optimizer over the model's "
        'parameters with the given lr. Each epoch is one full-batch step: training '
        'mode, a forward pass on all of X_train, the loss, clearing the previous '
        'gradients (without that they pile up across epochs), backpropagation, clipping '
        'the total gradient norm to clip_norm (torch has a utility for the norm of all '
        'gradients together; skip it when clip_norm is None), then the optimizer step. '
        'At epoch 1, every log_every-th epoch and the last epoch, measure the '
        'validation loss in evaluation mode with gradient tracking off, record the row '
        'and hand its formatted line to log unless log is None. Leave the model in '
        'evaluation mode at the end.'
    )


# Exercise 3's question: does training stay stable without gradient clipping (clip_norm=None)?
# Stable means every logged loss is finite and the final validation MSE is at most twice the
# clipped run's.
# Your answer: replace each None (the comment says what is allowed).
STABLE_WITHOUT_CLIPPING = None              # True or False
WHY_CLIPPING = None                         # a sentence or two, in your own words


def predict(model, X):
    """The model's predictions for ``X``, (batch, 1), in eval mode without gradients."""
    raise NotImplementedError(
        'Put the model in evaluation mode (dropout off, so the same input always gives '
        'the same output) and run it on X with gradient tracking off: predictions need '
        'no graph, and building one only costs memory.'
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
        'For each size, use your own functions: windows of that size and a 0.8 time '
        'split, then reseed torch with seed right before creating a fresh '
        'LSTMForecaster sized for the number of features, and train it for the given '
        'epochs without logging. The value for the size is the validation MSE of the '
        'last recorded row. Reseeding for every size gives every model the same start, '
        'which is what makes the sizes comparable and the result repeatable.'
    )


# Exercise 1's question: which window size gives the lowest validation MSE in
# compare_window_sizes(make_series())? Answer with what your own run measured.
# Your answer: replace each None (the comment says what is allowed).
BEST_WINDOW_SIZE = None                     # one of 8, 16, 32
WHY_WINDOW_SIZE = None                      # a sentence or two, in your own words


def two_feature_series(n=220, seed=42):
    """Exercise 4: the lesson's series with cos(0.12 t) as a second feature, (n, 2)."""
    raise NotImplementedError(
        "Column 0 is the lesson's series for the same n and seed; column 1 is a cosine "
        "with the frequency of the series' main sine (0.12 per step) over the time "
        'steps 0 to n - 1. Side by side they make (n, 2), float32.'
    )


def rolling_forecast(model, window, steps):
    """Exercise 5: forecast ``steps`` values ahead, feeding each prediction back.

    window: the last w observed values, (w,) or (w, 1); it is not modified.
    Returns (steps,): predict one step, drop the oldest value, append the
    prediction, repeat.
    """
    raise NotImplementedError(
        'steps below 1 is a ValueError. Work on a float32 copy of the window shaped as '
        "a batch of one sequence, (1, w, 1), so the caller's window is never changed. "
        'With the model in evaluation mode and gradient tracking off, repeat steps '
        'times: predict the next value, keep it, and slide the window forward one step. '
        'The oldest value falls off the front and the prediction joins at the end, so '
        'the window stays w long. Return the predictions as a 1-D tensor of length '
        'steps.'
    )


# ---------------------------------------------------------------------------
# The real-project path: scale with training statistics only
# ---------------------------------------------------------------------------

class Standardizer:
    """Per-column standardisation with statistics fitted once, on training data."""

    def fit(self, values):
        """Store the per-column mean and standard deviation of ``values``."""
        raise NotImplementedError(
            'Validate with validate_series, then store the mean and the standard '
            'deviation of each column (one value per feature) as mean_ and std_. A '
            'constant column has a standard deviation of 0: store 1 for it instead, so '
            'that transform never divides by zero. Return the scaler itself, so that '
            'calls can be chained.'
        )

    def transform(self, values):
        """(values - mean_) / std_, with the fitted statistics."""
        raise NotImplementedError(
            'Validate the values, then centre and scale them with the statistics fit '
            'stored. Never recompute them from the values given here: validation data '
            'must be scaled with the training statistics.'
        )

    def inverse_transform(self, values):
        """values * std_ + mean_: undoes ``transform``."""
        raise NotImplementedError(
            'Validate the values and undo transform with the same stored statistics: '
            'scale back up, then shift back.'
        )


def prepare_data(series, window_size, train_frac=0.8):
    """Scale, window and split a series without looking at the validation future.

    The scaler is fitted on ``series[:split + window_size]``, the values the
    training windows and targets see, then applied to the whole series.
    Returns (X_train, X_val, y_train, y_val, scaler).
    """
    raise NotImplementedError(
        'Validate the series and the window size. The time split will train on the '
        'first int((n - w) * train_frac) windows, and those windows and their targets '
        'only ever read the series up to that count plus w. Fit a Standardizer on '
        'exactly those values, transform the whole series with it, then window and '
        'split the scaled series with your own functions. Fitting on the whole series '
        "would leak the validation period's mean and spread into training."
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


# The plot's question: what do the lab run's validation predictions show against the truth?
# Your answer: replace each None (the comment says what is allowed).
PLOT_SHOWS = None                           # one of "lag", "flatline", "missed peaks", "noisy", "none"
WHY_PLOT = None                             # a sentence or two, in your own words


if __name__ == "__main__":
    run_lab()
