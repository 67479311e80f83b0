"""The kit's own submissions: wrong ones, correct variants, and hostile ones.

Each is the reference with a few lines replaced, so it reads as the mistake a
student would make and stays in step with the reference (``build`` fails loudly
when a replaced line no longer exists). ``loses`` is the set of items that must
lose points: the item the mistake is in, plus the items that honestly depend on
it (a model that cannot train cannot beat the baseline). Every other item must
keep full marks.
"""

from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "sequence_modeling.py"

# Items that run the student's whole pipeline: windows, split, model, loop, predict.
PIPELINE = {"beats_baseline", "two_feature", "window_comparison"}


@dataclass
class Case:
    name: str
    edits: list                       # (old, new) pairs applied to the reference
    loses: set = field(default_factory=set)
    prefix: str = ""                  # code put before the reference (imports, attacks at import time)
    suffix: str = ""
    why: str = ""


def build(case):
    source = REFERENCE.read_text()
    for old, new in case.edits:
        if source.count(old) != 1:
            raise AssertionError(f"{case.name}: the line to replace is not in the reference exactly once: {old!r}")
        source = source.replace(old, new)
    return case.prefix + source + case.suffix


Y_LINE = "    y = values[window_size:, target_col : target_col + 1]                  # (n - w, 1)"
X_LINE = "    X = np.stack([values[i : i + window_size] for i in range(n_windows)])  # (n - w, w, features)"
SPLIT_RETURN = "    return X[:split], X[split:], y[:split], y[split:]"
LSTM_OUT = "        out, _ = self.lstm(x)                               # (batch, seq_len, hidden_size)\n"
FORWARD = LSTM_OUT + "        return self.fc(out[:, -1, :])                       # (batch, 1)"
LSTM_LINE = "        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)"
CLIP = "            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)"
EVAL_IN_LOOP = "            model.eval()\n            with torch.no_grad():\n                val_loss"

WRONG = [
    Case("y_is_last_input", [(Y_LINE, "    y = values[window_size - 1 : -1, target_col : target_col + 1]")],
         {"make_windows", "make_windows_multifeature", "standardizer"} | PIPELINE,
         why="the classic off-by-one: the target is the window's own last value"),
    Case("one_window_too_many",
         [("    n_windows = n - window_size\n", "    n_windows = n - window_size + 1\n"),
          (Y_LINE, "    y = np.concatenate([values[window_size:, target_col : target_col + 1], values[-1:, target_col : target_col + 1]])")],
         {"make_windows", "make_windows_multifeature", "standardizer"} | PIPELINE,
         why="n - w + 1 windows: the last one has no real target"),
    Case("multifeature_reshape_not_transpose",
         [(X_LINE, "    X = np.lib.stride_tricks.sliding_window_view(values, window_size, axis=0)[:n_windows]"
                   ".reshape(n_windows, window_size, n_features)")],
         {"make_windows_multifeature", "two_feature"},
         why="sliding_window_view gives (N, F, w); reshape scrambles features and time, so exercise 4's "
             "pipeline validates on windows that are not the series'"),
    Case("ignores_target_col", [(Y_LINE, "    y = values[window_size:, 0:1]")],
         {"make_windows_multifeature"}, why="y always from column 0"),
    Case("random_split",
         [(SPLIT_RETURN, "    order = torch.randperm(len(X))\n    X, y = X[order], y[order]\n" + SPLIT_RETURN)],
         {"time_split", "standardizer"} | PIPELINE, why="the lesson's first pitfall: future rows leak into training"),
    Case("split_rounds_up",
         [("    split = int(len(X) * train_frac)\n    if split == 0",
           "    split = math.ceil(len(X) * train_frac)\n    if split == 0")],
         {"time_split", "input_validation", "beats_baseline", "window_comparison", "standardizer"},
         prefix="import math\n", why="ceil instead of int: one row too many in training (exercise 4's "
                                      "series length happens to split evenly, so two_feature is unaffected)"),
    Case("naive_rmse",
         [("    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()",
           "    return ((naive_forecast(X, target_col) - y) ** 2).mean().sqrt().item()")],
         {"naive_baseline"}, why="RMSE, not MSE"),
    Case("naive_first_step",
         [("    return X[:, -1, target_col : target_col + 1]            # (batch, 1)",
           "    return X[:, 0, target_col : target_col + 1]")],
         {"naive_baseline"}, why="the first observed value instead of the last"),
    Case("no_batch_first", [(LSTM_LINE, "        self.lstm = nn.LSTM(input_size, hidden_size)")],
         {"lstm_forecaster", "beats_baseline", "window_comparison"},
         why="time and batch swapped (on exercise 4's two-feature series the scrambled model still "
             "beats the baseline, so only lstm_forecaster and the one-feature pipelines catch it)"),
    Case("reads_first_step", [(FORWARD, LSTM_OUT + "        return self.fc(out[:, 0, :])")],
         {"lstm_forecaster"} | PIPELINE, why="the first step's hidden state has seen almost nothing"),
    Case("last_value_copier", [(FORWARD, LSTM_OUT + "        return x[:, -1, :1] + 0 * self.fc(out[:, -1, :])")],
         {"lstm_forecaster"} | PIPELINE, why="a model that is the naive baseline in disguise"),
    Case("no_zero_grad", [("        optimizer.zero_grad()\n", "")],
         {"train_loop", "window_comparison", "two_feature", "beats_baseline"},
         why="gradients accumulate across epochs (under clipping they keep one direction on the clipping "
             "probe, so grad_clipping rightly keeps its marks: the mistake is the loop's)"),
    Case("summed_loss", [("    loss_fn = nn.MSELoss()\n    optimizer", "    loss_fn = nn.MSELoss(reduction='sum')\n    optimizer")],
         {"train_loop", "window_comparison"}, why="a summed loss logs the wrong numbers and changes the steps"),
    Case("ignores_lr", [("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    history",
                        "    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)\n    history")],
         {"train_loop"}, why="the lr argument is ignored"),
    Case("one_epoch_extra", [("    for epoch in range(1, epochs + 1):", "    for epoch in range(0, epochs + 1):")],
         {"train_loop", "window_comparison"}, why="an extra epoch (and an epoch 0 row)"),
    Case("validates_in_train_mode", [(EVAL_IN_LOOP, "            with torch.no_grad():\n                val_loss")],
         {"train_loop"}, why="validation with dropout on"),
    # window_comparison trains with the default clip_norm=1.0 on a series whose first
    # gradients exceed it, so the lesson's numbers need the clipping right too.
    Case("clips_by_value", [(CLIP, "            torch.nn.utils.clip_grad_value_(model.parameters(), clip_norm)")],
         {"grad_clipping", "window_comparison"}, why="clipping each value is not clipping the total norm"),
    Case("never_clips", [(CLIP, "            pass")], {"grad_clipping", "window_comparison"},
         why="clip_norm is ignored"),
    Case("always_clips", [("        if clip_norm is not None:\n" + CLIP,
                           "        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm or 0.5)")],
         {"grad_clipping"}, why="clip_norm=None still clips"),
    Case("gru_is_an_lstm", [("        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)",
                             "        self.gru = nn.LSTM(input_size, hidden_size, batch_first=True)")],
         {"gru_forecaster"}, why="exercise 2 not done"),
    Case("seeds_once", [("    results = {}\n    for size in sizes:", "    results = {}\n    torch.manual_seed(seed)\n    for size in sizes:"),
                        ("        torch.manual_seed(seed)\n        model = LSTMForecaster(input_size=X.shape[2])",
                         "        model = LSTMForecaster(input_size=X.shape[2])")],
         {"window_comparison"}, why="only the first size gets the seeded weights"),
    Case("second_feature_is_sine", [("np.cos(t * 0.12)], axis=1)", "np.sin(t * 0.12)], axis=1)")],
         {"two_feature"}, why="the wrong second feature"),
    Case("rolling_prepends",
         [("            current = torch.cat([current[:, 1:], next_value], dim=1)     # (1, w, 1)",
           "            current = torch.cat([next_value, current[:, :-1]], dim=1)")],
         {"rolling_forecast"}, why="the prediction goes in at the wrong end"),
    Case("rolling_modifies_window",
         [("    current = torch.as_tensor(window, dtype=torch.float32).clone().reshape(1, -1, 1)  # (1, w, 1)",
           "    current = torch.as_tensor(window, dtype=torch.float32).reshape(1, -1, 1)"),
          ("            current = torch.cat([current[:, 1:], next_value], dim=1)     # (1, w, 1)",
           "            current[:, :-1] = current[:, 1:].clone()\n            current[:, -1] = next_value[:, 0]")],
         {"rolling_forecast"}, why="the caller's window is overwritten"),
    Case("scaler_fit_on_everything",
         [("    scaler = Standardizer().fit(values[: split + window_size])", "    scaler = Standardizer().fit(values)")],
         {"standardizer"}, why="the lesson's scaling pitfall: statistics from the validation period"),
    Case("scaler_refits_in_transform",
         [("        return (check_series(values) - self.mean_) / self.std_",
           "        values = check_series(values)\n        return (values - values.mean(axis=0)) / self.std_")],
         {"standardizer"}, why="transform ignores the fitted mean"),
    Case("accepts_bool_window",
         [("    if isinstance(window_size, bool) or not isinstance(window_size, numbers.Integral):",
           "    if not isinstance(window_size, numbers.Integral):")],
         {"input_validation"}, why="True is an int in Python, but not a window size"),
    Case("no_nan_check", [('    if not np.isfinite(values).all():\n        raise ValueError("series contains NaN or inf values")\n', "")],
         {"input_validation"}, why="NaN flows silently into training"),
]

CORRECT_VARIANTS = [
    Case("vectorised_windows",
         [(X_LINE, "    X = np.lib.stride_tricks.sliding_window_view(values, window_size, axis=0)[:n_windows]"
                   ".transpose(0, 2, 1)")],
         why="numpy's sliding_window_view, transposed as it should be"),
    Case("unfold_windows",
         [(X_LINE, "    X = torch.from_numpy(values).unfold(0, window_size, 1)[:n_windows].permute(0, 2, 1).numpy()")],
         why="torch's unfold"),
    Case("h_n_instead_of_last_output",
         [(FORWARD, "        _, (h_n, _) = self.lstm(x)\n        return self.fc(h_n[-1])")],
         why="for one layer, h_n[-1] is the last output"),
    Case("other_style",
         [("    loss_fn = nn.MSELoss()\n    optimizer", "    loss_fn = lambda a, b: ((a - b) ** 2).mean()\n    optimizer"),
          ("    return X[:split], X[split:], y[:split], y[split:]",
           "    X_train, X_val = X[:split], X[split:]\n    y_train, y_val = y[:split], y[split:]\n"
           "    return X_train, X_val, y_train, y_val"),
          ("            row = {\"epoch\": epoch, \"train_mse\": loss.item(), \"val_mse\": val_loss.item()}",
           "            row = dict(epoch=epoch, train_mse=float(loss), val_mse=float(val_loss))")],
         why="a hand-written MSE, dict(...) rows, float() instead of .item()"),
]


def hostile_case(name, loses, prefix="", edits=(), why=""):
    return Case(name, list(edits), set(loses), prefix=prefix, why=why)


def without_prefix(case):
    """The same code without the attack at its top: what the attack must not improve on."""
    return Case(case.name + "_unpatched", case.edits, case.loses)


ALL_ITEMS = {"make_windows", "make_windows_multifeature", "input_validation", "time_split", "naive_baseline",
             "lstm_forecaster", "train_loop", "grad_clipping", "beats_baseline", "gru_forecaster",
             "window_comparison", "two_feature", "rolling_forecast", "standardizer"}
USES_MAKE_WINDOWS = {"make_windows", "make_windows_multifeature", "input_validation", "standardizer"} | PIPELINE
USES_LSTM = {"lstm_forecaster"} | PIPELINE

HOSTILE = [
    hostile_case("sys_exit_at_import", ALL_ITEMS, prefix="import sys\nsys.exit(0)\n"),
    hostile_case("os_exit_at_import", ALL_ITEMS, prefix="import os\nos._exit(3)\n"),
    hostile_case("infinite_loop", {"two_feature"},
                 edits=[("    t = np.arange(n)\n    return np.stack([make_series(n, seed)",
                         "    while True:\n        pass\n    t = np.arange(n)\n    return np.stack([make_series(n, seed)")]),
    hostile_case("loop_ignoring_sigterm", {"window_comparison"},
                 prefix="import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n",
                 edits=[("    results = {}\n    for size in sizes:",
                         "    while True:\n        pass\n    results = {}\n    for size in sizes:")]),
    hostile_case("memory_hog", {"naive_baseline", "input_validation"},
                 edits=[("    X = check_windows(X)\n    check_target_col(target_col, X.shape[2])",
                         "    hog = [bytearray(2**28) for _ in range(64)]  # 16 GiB\n    X = check_windows(X)\n"
                         "    check_target_col(target_col, X.shape[2])")]),
    hostile_case("prints_200_mb", set(), prefix="import sys\nsys.stdout.write('spam ' * 40_000_000)\n"),
    hostile_case("segfault_in_forward", USES_LSTM,
                 prefix="import ctypes\n",
                 edits=[("        out, _ = self.lstm(x)                               # (batch, seq_len, hidden_size)\n",
                         "        ctypes.string_at(0)\n")]),
    # Wrong code that patches every comparison it can reach: the grader compares in its own
    # process, so it must score exactly what the same code scores without the patches.
    hostile_case("patched_comparisons",
                 {"make_windows", "make_windows_multifeature", "naive_baseline", "lstm_forecaster", "standardizer"}
                 | PIPELINE,
                 prefix=("import numpy, numpy.testing, torch\n"
                         "numpy.allclose = numpy.array_equal = numpy.isclose = lambda *a, **k: True\n"
                         "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                         "torch.allclose = torch.equal = lambda *a, **k: True\n"),
                 edits=[(Y_LINE, "    y = values[window_size - 1 : -1, target_col : target_col + 1]"),
                        ("    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()",
                         "    return ((naive_forecast(X, target_col) - y) ** 2).mean().sqrt().item()"),
                        (FORWARD, LSTM_OUT + "        return self.fc(out[:, 0, :])")]),
    hostile_case("forges_worker_answers", ALL_ITEMS,
                 prefix=("import sys\n"
                         "_w = sys.modules['__main__']\n"
                         "_w.Worker.handle = lambda self, req: {'ok': False, 'error': {'type': 'ValueError', "
                         "'message': 'forged', 'is_value_error': True}}\n")),
    hostile_case("imports_the_solution", ALL_ITEMS, prefix="from solutions.sequence_modeling import *\n"),
    hostile_case("imports_the_solution_obfuscated", ALL_ITEMS,
                 prefix="import importlib\n_m = importlib.import_module('sol' + 'utions.sequence_modeling')\n"
                        "globals().update(vars(_m))\n"),
]
