"""Writes the held-out notebook submissions (correct/nb*.ipynb) with nbformat.

nb01 and nb02 are two students' notebooks; nb03 and nb04 are nb01 with one cell
more that Jupyter runs and plain Python does not (`display(...)`, `nn.LSTM?`).
nb05 and nb06 are nb01 with a stray exploration cell that fails, as Jupyter lets
a student leave one: a NameError (a name from a deleted cell), a syntax error (a
half-typed line). Each fails in its own cell only; the notebook is still correct.
answers/nb_a01 is nb02 with an answer cell, its held-out header on the cell's first lines.

The notebooks are committed; this script is how they were made, so a reviewer can
read their cells as plain text here and regenerate them: `python tests/heldout/make_notebooks.py`.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KAGGLE = [
    ("md", "# 6.4.4 Sequence Modeling in Practice\nMy solutions: windows, a time split, a naive baseline and an LSTM."),
    ("code", """%matplotlib inline
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt"""),
    ("code", """def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)"""),
    ("md", "## Sliding windows and the split\nEach window of `w` values predicts the value right after it."),
    ("code", """def make_windows(series, window_size, target_col=0):
    arr = np.asarray(series, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise ValueError("series must be 1-D or 2-D")
    if not np.isfinite(arr).all():
        raise ValueError("series has NaN or inf")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or not 1 <= window_size < len(arr):
        raise ValueError("window_size must be an int in [1, len(series))")
    if isinstance(target_col, bool) or not isinstance(target_col, int) or not 0 <= target_col < arr.shape[1]:
        raise ValueError("target_col out of range")
    X = np.array([arr[i:i + window_size] for i in range(len(arr) - window_size)])
    y = np.array([[arr[i + window_size, target_col]] for i in range(len(arr) - window_size)])
    return torch.from_numpy(X), torch.from_numpy(y)


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("X and y lengths differ")
    if not 0 < train_frac < 1:
        raise ValueError("train_frac must be in (0, 1)")
    split = int(len(X) * train_frac)
    if split == 0 or split == len(X):
        raise ValueError("empty train or validation split")
    return X[:split], X[split:], y[:split], y[split:]"""),
    ("code", """series = make_series()
X, y = make_windows(series, 16)
X_train, X_val, y_train, y_val = time_split(X, y)
print("X:", tuple(X.shape), "y:", tuple(y.shape))
plt.figure(figsize=(10, 3))
plt.plot(series)
plt.title("the lesson's series")
plt.show()"""),
    ("md", "## Naive baseline"),
    ("code", """def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise ValueError("X must be 3-D")
    if not 0 <= target_col < X.shape[2]:
        raise ValueError("target_col out of range")
    return X[:, -1, target_col:target_col + 1]


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("X and y lengths differ")
    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()


print("naive_val_mse:", round(naive_mse(X_val, y_val), 4))"""),
    ("md", "## Models"),
    ("code", """class LSTMForecaster(nn.Module):
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
        return self.fc(out[:, -1, :])"""),
    ("code", """def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
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
        return model(X)"""),
    ("code", """torch.manual_seed(42)
model = LSTMForecaster()
history = train_model(model, X_train, y_train, X_val, y_val)
val_pred = predict(model, X_val)
plt.figure(figsize=(10, 4))
plt.plot(y_val.squeeze(-1).numpy(), label="true")
plt.plot(val_pred.squeeze(-1).numpy(), label="pred")
plt.legend()
plt.grid(True, alpha=0.3)
plt.show()"""),
    ("md", "## Exercises"),
    ("code", """def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    results = {}
    for w in sizes:
        Xw, yw = make_windows(series, w)
        Xtr, Xva, ytr, yva = time_split(Xw, yw, 0.8)
        torch.manual_seed(seed)
        m = LSTMForecaster(input_size=Xw.shape[2])
        results[w] = train_model(m, Xtr, ytr, Xva, yva, epochs=epochs, log=None)[-1]["val_mse"]
    return results


def two_feature_series(n=220, seed=42):
    t = np.arange(n)
    return np.stack([make_series(n, seed), np.cos(t * 0.12)], axis=1).astype(np.float32)


def rolling_forecast(model, window, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError("steps must be >= 1")
    current = torch.tensor(np.array(window, dtype=np.float32)).reshape(1, -1, 1)
    preds = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            nxt = model(current)
            preds.append(nxt.item())
            current = torch.cat([current[:, 1:, :], nxt.reshape(1, 1, 1)], dim=1)
    return torch.tensor(preds, dtype=torch.float32)"""),
    ("md", "## Real project: scaling with training statistics"),
    ("code", """class Standardizer:
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
    scaler = Standardizer().fit(values[:split + window_size])
    Xs, ys = make_windows(scaler.transform(values), window_size)
    return (*time_split(Xs, ys, train_frac), scaler)"""),
]

COLAB = [
    ("md", "# Lab 6.4.4 (Colab)\nRun the first cell once to install the packages."),
    ("code", """!pip install -q torch numpy matplotlib
%matplotlib inline"""),
    ("code", """import numpy as np
import torch
from torch import nn
import matplotlib.pyplot as plt

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("using", device)"""),
    ("code", """def make_series(n=220, seed=42):
    t = np.arange(n)
    noise = np.random.RandomState(seed).randn(n)
    series = np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + noise * 0.04
    return series.astype(np.float32)"""),
    ("md", "### Data helpers"),
    ("code", """def check_series(series):
    s = np.asarray(series, dtype=np.float32)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2:
        raise ValueError(f"series must be 1-D or 2-D, got {s.ndim}-D")
    if np.isnan(s).any() or np.isinf(s).any():
        raise ValueError("series contains NaN or inf")
    return s


def make_windows(series, window_size, target_col=0):
    s = check_series(series)
    if type(window_size) is not int or window_size < 1 or window_size >= len(s):
        raise ValueError(f"bad window_size {window_size!r} for a series of {len(s)} values")
    if type(target_col) is not int or not 0 <= target_col < s.shape[1]:
        raise ValueError(f"bad target_col {target_col!r}")
    idx = np.arange(window_size) + np.arange(len(s) - window_size)[:, None]
    X = torch.tensor(s[idx], dtype=torch.float32)
    y = torch.tensor(s[window_size:, target_col], dtype=torch.float32).unsqueeze(1)
    return X, y


def time_split(X, y, train_frac=0.8):
    if len(X) != len(y):
        raise ValueError("len(X) != len(y)")
    if not 0 < train_frac < 1:
        raise ValueError("train_frac must be in (0, 1)")
    n_train = int(len(X) * train_frac)
    if n_train == 0 or n_train == len(X):
        raise ValueError("train_frac leaves an empty split")
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def naive_forecast(X, target_col=0):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 3:
        raise ValueError("X must be (batch, seq_len, features)")
    if type(target_col) is not int or not 0 <= target_col < X.shape[2]:
        raise ValueError("bad target_col")
    return X[:, -1, target_col].unsqueeze(1)


def naive_mse(X, y, target_col=0):
    if len(X) != len(y):
        raise ValueError("len(X) != len(y)")
    return torch.mean((naive_forecast(X, target_col) - torch.as_tensor(y).reshape(-1, 1)) ** 2).item()"""),
    ("md", "### Models and training"),
    ("code", """class LSTMForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        _, (h_n, c_n) = self.lstm(x)
        return self.fc(h_n[-1])


class GRUForecaster(nn.Module):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.fc(h_n[-1])


def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01,
                clip_norm=1.0, log_every=30, log=print):
    model = model.to(device)
    X_train, y_train = X_train.to(device), y_train.to(device)
    X_val, y_val = X_val.to(device), y_val.to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(X_train), y_train)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch == 0 or (epoch + 1) % log_every == 0 or epoch == epochs - 1:
            model.eval()
            with torch.no_grad():
                val_loss = criterion(model(X_val), y_val)
            history.append({"epoch": epoch + 1, "train_mse": loss.item(), "val_mse": val_loss.item()})
            if log is not None:
                log(f"epoch={epoch + 1:03d} train_mse={loss.item():.4f} val_mse={val_loss.item():.4f}")
    model.eval()
    return history


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32).to(device)).cpu()"""),
    ("code", """%%time
series = make_series()
X, y = make_windows(series, 16)
X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
torch.manual_seed(42)
model = LSTMForecaster()
history = train_model(model, X_train, y_train, X_val, y_val, epochs=20, log_every=10)
print("naive:", naive_mse(X_val, y_val), "lstm:", history[-1]["val_mse"])"""),
    ("md", "### Exercises 1, 4, 5 and the scaler"),
    ("code", """def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    scores = {}
    for size in sizes:
        X, y = make_windows(series, size)
        X_train, X_val, y_train, y_val = time_split(X, y, 0.8)
        torch.manual_seed(seed)
        model = LSTMForecaster(input_size=X.shape[-1])
        scores[size] = train_model(model, X_train, y_train, X_val, y_val, epochs=epochs, log=None)[-1]["val_mse"]
    return scores


def two_feature_series(n=220, seed=42):
    return np.column_stack((make_series(n, seed), np.cos(0.12 * np.arange(n)))).astype(np.float32)


def rolling_forecast(model, window, steps):
    if type(steps) is not int or steps < 1:
        raise ValueError("steps must be a positive int")
    window = list(np.asarray(window, dtype=np.float32).reshape(-1))
    out = []
    model.eval()
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(np.array(window[-len(window):], dtype=np.float32)).view(1, -1, 1).to(device)
            value = model(x).item()
            out.append(value)
            window = window[1:] + [value]
    return torch.tensor(out, dtype=torch.float32)


class Standardizer:
    def fit(self, values):
        v = check_series(values)
        self.mean_ = v.mean(axis=0)
        std = v.std(axis=0)
        self.std_ = np.where(std == 0, 1.0, std).astype(np.float32)
        if np.ndim(values) == 1:
            self.mean_, self.std_ = self.mean_[0], self.std_[0]
        return self

    def transform(self, values):
        return (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_

    def inverse_transform(self, values):
        return np.asarray(values, dtype=np.float32) * self.std_ + self.mean_


def prepare_data(series, window_size, train_frac=0.8):
    s = np.asarray(series, dtype=np.float32)
    if type(window_size) is not int or not 1 <= window_size < len(s):
        raise ValueError("bad window_size")
    split = int((len(s) - window_size) * train_frac)
    scaler = Standardizer().fit(s[:split + window_size])
    X, y = make_windows(scaler.transform(s), window_size)
    X_train, X_val, y_train, y_val = time_split(X, y, train_frac)
    return X_train, X_val, y_train, y_val, scaler"""),
    ("code", """sc = Standardizer().fit(series[:150])
plt.plot(sc.transform(series))
plt.show()"""),
]


# Jupyter runs these two; plain Python does not know display() or the `?` help syntax.
WITH_DISPLAY = KAGGLE[:6] + [("code", 'display({"X": tuple(X.shape), "y": tuple(y.shape)})')] + KAGGLE[6:]
WITH_HELP = KAGGLE[:9] + [("md", "What does nn.LSTM take?"), ("code", "nn.LSTM?")] + KAGGLE[9:]

# A stray cell after the windows cell: it plots a name a deleted cell defined (NameError), or was
# left half typed (SyntaxError). Jupyter runs the cells around it; so must grading.
SERIES_CELL = next(i for i, (_, src) in enumerate(KAGGLE) if src.startswith("series = make_series()"))
STRAY_NAME_ERROR = KAGGLE[:SERIES_CELL + 1] + [("code", "plt.plot(preview[:3].T)\nplt.show()")] + \
    KAGGLE[SERIES_CELL + 1:]
STRAY_SYNTAX_ERROR = KAGGLE[:SERIES_CELL + 1] + [("code", 'print("first window:", X[0].squeeze(-1)')] + \
    KAGGLE[SERIES_CELL + 1:]

NOTEBOOKS = {
    "nb01_kaggle_style.ipynb": KAGGLE,
    "nb02_colab_style.ipynb": COLAB,
    "nb03_display_call.ipynb": WITH_DISPLAY,
    "nb04_help_syntax.ipynb": WITH_HELP,
    "nb05_stray_name_error.ipynb": STRAY_NAME_ERROR,
    "nb06_stray_syntax_error.ipynb": STRAY_SYNTAX_ERROR,
}

# answers/: a notebook with an answer cell, as the spec lets a notebook answer. The cell opens with the
# held-out answers header (tests/verdicts.py reads it there); the student's plot answer is a guess her
# own lab run contradicts (its predictions are not flat), the other three agree with her runs.
ANSWER_CELL = '''# answers: mixed
# loses: answer_plot
# based on: correct/nb02_colab_style.ipynb
BEST_WINDOW_SIZE = 32
LOWER_VAL_MSE = "GRU"
STABLE_WITHOUT_CLIPPING = True
PLOT_SHOWS = "flatline"
WHY_WINDOW_SIZE = "32 gave the smallest validation error of the three windows I tried."
WHY_GRU_VS_LSTM = "The GRU finished very slightly lower; the two are basically tied."
WHY_CLIPPING = "Turning clipping off changed nothing in my run, so it was stable."
WHY_PLOT = "The red line looked smoother than the data to me, so I said flat."'''
ANSWER_NOTEBOOKS = {
    "nb_a01_answer_cell.ipynb": COLAB + [("md", "## Answers to the exercises"), ("code", ANSWER_CELL)],
}


def build(cells):
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number:02d}"              # fixed ids: regenerating changes nothing
    return notebook


if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells), HERE / "correct" / name)
        print("wrote", name)
    for name, cells in ANSWER_NOTEBOOKS.items():
        nbformat.write(build(cells), HERE / "answers" / name)
        print("wrote", name)
