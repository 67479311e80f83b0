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

from autograder.items import registry
from autograder.rubric import ITEM_IDS

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "sequence_modeling.py"

# The spec's table "Which code each item grades" (../shared/spec/lesson-api.md), as the items declare it
# (@item(functions=...)): a mistake in one function may cost only these items. input_validation grades
# every function's ValueErrors.
def _items_of_function():
    found = {}
    for spec in registry.specs().values():
        for function in spec.functions:
            found.setdefault(function, set()).add(spec.id)
    return found


ITEMS_OF_FUNCTION = _items_of_function()
# A case that edits several answers at once (spec, "Answers to the exercises' questions"): each name
# costs its own item only.
ITEMS_OF_FUNCTION["the answers"] = {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"}

# The claims whose measurement a function's code feeds. A wrong case keeps the reference's claims,
# which its broken numbers may then decisively contradict: that is the claim judged against the
# student's own measurement, as the spec says, so such a case may lose these too (never must).
CLAIMS_FED_BY = {
    "make_windows": {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"},
    "time_split": {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"},
    "LSTMForecaster": {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"},
    "train_model": {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"},
    "predict": {"answer_plot"},
    "GRUForecaster": {"answer_gru_vs_lstm"},
    "compare_window_sizes": {"answer_window_size"},
}


def items_of(function):
    """The items a mistake in ``function`` may cost: its own, and input_validation."""
    return ITEMS_OF_FUNCTION[function] | {"input_validation"}


@dataclass
class Case:
    name: str
    edits: list                       # (old, new) pairs applied to the reference
    loses: set = field(default_factory=set)
    prefix: str = ""                  # code put before the reference (imports, attacks at import time)
    suffix: str = ""
    why: str = ""
    function: str = ""                # the one student function a wrong case's mistake is in
    claims: bool = False              # the fast tier grades the answer items too (six trainings: only where needed)
    honest: list = None               # hostile cases: the same mistake without the attack, if any
    partial: set = field(default_factory=set)   # hostile cases: lost items that may keep some points
    says: dict = field(default_factory=dict)        # item -> text its feedback must hold (the named cause)
    never_says: dict = field(default_factory=dict)  # item -> text its feedback must not hold (a wrong cause)
    report: set = field(default_factory=set)        # findings the HTML report's diagnosis must name


def build(case, reference=None):
    """The case's source: each ``old`` found once in the reference (``reference``: its text, else
    solutions/sequence_modeling.py) with comments and alignment ignored, replaced by ``new``.

    Matching is on code alone (per line: the trailing ``# ...`` comment dropped, runs of
    spaces collapsed, indentation kept), so realigning or rewording the teaching code's
    comments never breaks a case; the replacement is made in the original text, and an
    ``old`` that ends a line takes that line's comment with it.
    """
    source = REFERENCE.read_text() if reference is None else reference
    for old, new in case.edits:
        code, where = normalised(source)
        wanted = normalised(old)[0]
        found = _occurrences(code, wanted)
        if len(found) != 1:
            raise AssertionError(f"{case.name}: the code to replace is in the reference {len(found)} times, "
                                 f"not once (comments and alignment ignored): {old!r}")
        start, end = found[0], found[0] + len(wanted)
        begin = where[start]
        if end >= len(code) or (code[end] == "\n" and not wanted.endswith("\n")):
            finish = where[end]               # to the end of the original line: its comment goes too
        else:
            finish = where[end - 1] + 1
        source = source[:begin] + new + source[finish:]
    return case.prefix + source + case.suffix


def _occurrences(text, part):
    found, start = [], text.find(part)
    while part and start != -1:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def normalised(text):
    """(code, where): ``text`` with each line's trailing comment dropped, runs of spaces inside the
    line collapsed to one and trailing spaces removed, indentation kept; ``where[i]`` is the
    offset in ``text`` of ``code[i]``, and ``where[len(code)]`` is ``len(text)``."""
    code, where = [], []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        indent = len(body) - len(body.lstrip(" \t"))
        end = _comment_start(body)
        kept = body[:end].rstrip(" \t")
        for i in range(indent):
            code.append(kept[i] if i < len(kept) else "")
            where.append(offset + i)
        i = indent
        while i < len(kept):
            if kept[i] in " \t":
                code.append(" ")
                where.append(offset + i)
                while i < len(kept) and kept[i] in " \t":
                    i += 1
                continue
            code.append(kept[i])
            where.append(offset + i)
            i += 1
        if len(body) < len(line):                 # the newline
            code.append("\n")
            where.append(offset + len(body))
        offset += len(line)
    pairs = [(c, w) for c, w in zip(code, where) if c]
    return "".join(c for c, _ in pairs), [w for _, w in pairs] + [len(text)]


def _comment_start(line):
    """Where ``line``'s comment begins (outside string quotes), or its length."""
    quote = None
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, i) else char
            i += len(quote) - 1
        elif char == "#":
            return i
        i += 1
    return len(line)


Y_LINE = "    y = values[window_size:, target_col : target_col + 1]"
X_LINE = "    X = np.stack([values[i : i + window_size] for i in range(n_windows)])"
SPLIT_RETURN = "    return X[:split], X[split:], y[:split], y[split:]"
LSTM_OUT = "        out, _ = self.lstm(x)\n"
FORWARD = LSTM_OUT + "        return self.fc(out[:, -1, :])"
LSTM_LINE = "        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)"
CLIP = "            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)"
EVAL_IN_LOOP = "            model.eval()\n            with torch.no_grad():\n                val_loss"

WRONG = [
    Case("y_is_last_input", [(Y_LINE, "    y = values[window_size - 1 : -1, target_col : target_col + 1]")],
         {"make_windows", "make_windows_multifeature"}, function="make_windows",
         why="the classic off-by-one: the target is the window's own last value (the pipeline items use the "
             "grader's windows, and prepare_data and compare_window_sizes are judged against the student's own "
             "make_windows, so nothing else loses); the report reads the lag off the student's own windows",
         report={"lag built into the windows"}),
    Case("one_window_too_many",
         [("    n_windows = n - window_size\n", "    n_windows = n - window_size + 1\n"),
          (Y_LINE, "    y = np.concatenate([values[window_size:, target_col : target_col + 1], values[-1:, target_col : target_col + 1]])")],
         {"make_windows", "make_windows_multifeature"}, function="make_windows",
         why="n - w + 1 windows: the last one has no real target"),
    Case("multifeature_reshape_not_transpose",
         [(X_LINE, "    X = np.lib.stride_tricks.sliding_window_view(values, window_size, axis=0)[:n_windows]"
                   ".reshape(n_windows, window_size, n_features)")],
         {"make_windows_multifeature"}, function="make_windows",
         why="sliding_window_view gives (N, F, w); reshape scrambles features and time"),
    Case("ignores_target_col", [(Y_LINE, "    y = values[window_size:, 0:1]")],
         {"make_windows_multifeature"}, function="make_windows", why="y always from column 0"),
    Case("target_from_raw_series",
         [(Y_LINE, "    y = np.asarray(series, dtype=np.float32)[window_size:, target_col : target_col + 1]")],
         {"make_windows", "input_validation"}, function="make_windows",
         why="the target read from the raw series raises IndexError on a 1-D one: inside compare_window_sizes and "
             "prepare_data the reference's make_windows stands in, so window_comparison and standardizer keep "
             "their marks (and input_validation counts make_windows' bad inputs as missed)"),
    Case("time_split_wants_numpy",
         [("    split = int(len(X) * train_frac)\n    if split == 0",
           "    X, y = torch.from_numpy(X), torch.from_numpy(y)\n    split = int(len(X) * train_frac)\n    if split == 0")],
         {"time_split", "input_validation"}, function="time_split",
         why="torch.from_numpy on the tensors make_windows returns raises TypeError: the reference's split stands "
             "in inside compare_window_sizes and prepare_data"),
    Case("random_split",
         [(SPLIT_RETURN, "    order = torch.randperm(len(X))\n    X, y = X[order], y[order]\n" + SPLIT_RETURN)],
         {"time_split"}, function="time_split",
         why="the lesson's first pitfall: future rows leak into training (prepare_data's scaler is fitted "
             "correctly, so standardizer keeps its marks)", report={"random split"}),
    Case("split_rounds_up",
         [("    split = int(len(X) * train_frac)\n    if split == 0",
           "    split = math.ceil(len(X) * train_frac)\n    if split == 0")],
         {"time_split", "input_validation"}, function="time_split",
         prefix="import math\n", why="ceil instead of int: one row too many in training, and a split that "
                                      "should leave validation empty no longer raises"),
    Case("naive_rmse",
         [("    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()",
           "    return ((naive_forecast(X, target_col) - y) ** 2).mean().sqrt().item()")],
         {"naive_baseline"}, function="naive_mse", why="RMSE, not MSE"),
    Case("naive_mse_returns_a_tensor",
         [("    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()",
           "    return ((naive_forecast(X, target_col) - y) ** 2).mean()")],
         {"naive_baseline"}, function="naive_mse", why="the spec promises a float; the lab's round() needs one"),
    Case("naive_first_step",
         [("    return X[:, -1, target_col : target_col + 1]",
           "    return X[:, 0, target_col : target_col + 1]")],
         {"naive_baseline"}, function="naive_forecast", why="the first observed value instead of the last"),
    Case("no_batch_first", [(LSTM_LINE, "        self.lstm = nn.LSTM(input_size, hidden_size)")],
         {"lstm_forecaster", "beats_baseline", "two_feature"}, function="LSTMForecaster",
         never_says={"two_feature": "stacks"},
         why="time and batch swapped"),
    Case("reads_first_step", [(FORWARD, LSTM_OUT + "        return self.fc(out[:, 0, :])")],
         {"lstm_forecaster", "beats_baseline", "two_feature"}, function="LSTMForecaster",
         why="the first step's hidden state has seen almost nothing (the report says it is worse than the "
             "baseline, and tells to fix the model rather than tune the window)",
         report={"worse than the baseline"}),
    Case("last_value_copier", [(FORWARD, LSTM_OUT + "        return x[:, -1, :1] + 0 * self.fc(out[:, -1, :])")],
         {"lstm_forecaster", "beats_baseline", "two_feature"}, function="LSTMForecaster",
         why="a model that is the naive baseline in disguise"),
    Case("no_zero_grad", [("        optimizer.zero_grad()\n", "")],
         {"train_loop", "beats_baseline"}, function="train_model",
         says={"train_loop": "gradients accumulate across epochs"},
         never_says={"train_loop": "the optimizer ran with lr", "grad_clipping": "fixed"},
         why="gradients accumulate across epochs: the model overshoots and loses to the baseline (grad_clipping "
             "judges the gradients Adam consumed, so it keeps its marks)"),
    Case("summed_loss", [("    loss_fn = nn.MSELoss()\n    optimizer", "    loss_fn = nn.MSELoss(reduction='sum')\n    optimizer")],
         {"train_loop"}, function="train_model", why="a summed loss logs the wrong numbers and changes the steps"),
    Case("ignores_lr", [("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    history",
                        "    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)\n    history")],
         {"train_loop"}, function="train_model", why="the lr argument is ignored",
         says={"train_loop": "optimizer ran with lr=0.01: create it with torch.optim.Adam(model.parameters(), lr=lr)"}),
    Case("adam_default_lr", [("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    history",
                              "    optimizer = torch.optim.Adam(model.parameters())\n    history")],
         {"train_loop", "beats_baseline"}, function="train_model",
         why="lr not passed on: Adam's default 0.001 trains too slowly to beat the baseline, and clipping "
             "(judged at the lr the loop really used) keeps its marks",
         says={"train_loop": "the optimizer ran with lr=0.001, Adam's default"},
         never_says={"train_loop": "zero_grad"}),
    Case("one_epoch_extra", [("    for epoch in range(1, epochs + 1):", "    for epoch in range(0, epochs + 1):")],
         {"train_loop"}, function="train_model", why="an extra epoch (and an epoch 0 row)"),
    Case("caps_epochs_at_10", [("    for epoch in range(1, epochs + 1):", "    for epoch in range(1, min(epochs, 10) + 1):")],
         {"train_loop", "beats_baseline"}, function="train_model",
         why="a fixed 7-epoch probe never saw the cap; 10 epochs cannot beat the baseline either"),
    Case("mini_batches",
         [("        model.train()\n        loss = loss_fn(model(X_train), y_train)\n        optimizer.zero_grad()\n"
           "        loss.backward()\n        if clip_norm is not None:\n" + CLIP + "\n        optimizer.step()\n",
           "        model.train()\n        for start in range(0, len(X_train), 8):\n"
           "            loss = loss_fn(model(X_train[start:start + 8]), y_train[start:start + 8])\n"
           "            optimizer.zero_grad()\n            loss.backward()\n            if clip_norm is not None:\n"
           "    " + CLIP + "\n            optimizer.step()\n")],
         {"train_loop"}, function="train_model",
         why="batches of 8 rows: the lesson trains full-batch, one step per epoch (the model still learns, and "
             "each clipped batch step is still clipping done right)"),
    Case("validates_in_train_mode", [(EVAL_IN_LOOP, "            with torch.no_grad():\n                val_loss")],
         {"train_loop"}, function="train_model", why="validation with dropout on"),
    Case("clips_by_value", [(CLIP, "            torch.nn.utils.clip_grad_value_(model.parameters(), clip_norm)")],
         {"grad_clipping"}, function="train_model", why="clipping each value is not clipping the total norm"),
    Case("never_clips", [(CLIP, "            pass")], {"grad_clipping"}, function="train_model",
         why="clip_norm is ignored", never_says={"grad_clipping": "a fixed"}),
    Case("fixed_clip", [(CLIP, "            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)")],
         {"train_loop", "grad_clipping"}, function="train_model",
         why="clips to 0.1 whatever clip_norm is: train_loop's runs (clip_norm above every gradient) move too",
         says={"grad_clipping": "the gradients are clipped to a fixed 0.1, not to clip_norm",
               "train_loop": "so the loop clips to a fixed number; clip to clip_norm"},
         never_says={"train_loop": "zero_grad"}),
    Case("always_clips", [("        if clip_norm is not None:\n" + CLIP,
                           "        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm or 0.5)")],
         {"grad_clipping"}, function="train_model", why="clip_norm=None still clips"),
    Case("predict_in_train_mode", [("    model.eval()\n    with torch.no_grad():\n        return model(",
                                    "    with torch.no_grad():\n        return model(")],
         {"train_loop"}, function="predict",
         why="dropout stays on in predict (the lesson's LSTM has no dropout, so the pipeline is unharmed)"),
    Case("two_layer_lstm", [(LSTM_LINE, "        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=2, batch_first=True)")],
         {"lstm_forecaster", "two_feature"}, function="LSTMForecaster",
         why="a stacked LSTM: other weights than the lesson's model (it still trains well enough to beat the baseline)",
         says={"two_feature": "stacks recurrent layers (num_layers=2)",
               "lstm_forecaster": "stacks recurrent layers (num_layers=2)"},
         never_says={"two_feature": "pass the constructor's input_size"}),
    Case("ignores_input_size", [(LSTM_LINE, "        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)")],
         {"lstm_forecaster", "two_feature"}, function="LSTMForecaster",
         why="input_size never reaches the LSTM: one feature works, two do not",
         says={"two_feature": "must be equal to input_size. Expected 1, got 2"}, never_says={"two_feature": "stacks"}),
    Case("gru_is_an_lstm", [("        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)",
                             "        self.gru = nn.LSTM(input_size, hidden_size, batch_first=True)")],
         {"gru_forecaster"}, function="GRUForecaster", why="exercise 2 not done"),
    Case("seeds_once", [("    results = {}\n    for size in sizes:", "    results = {}\n    torch.manual_seed(seed)\n    for size in sizes:"),
                        ("        torch.manual_seed(seed)\n        model = LSTMForecaster(input_size=X.shape[2])",
                         "        model = LSTMForecaster(input_size=X.shape[2])")],
         {"window_comparison"}, function="compare_window_sizes", why="only the first size gets the seeded weights"),
    Case("compare_asks_for_column_1", [("        X, y = make_windows(series, size)",
                                        "        X, y = make_windows(series, size, target_col=1)")],
         {"window_comparison"}, function="compare_window_sizes",
         why="a raise that is the composition's own: the reference's make_windows, standing in, refuses it too"),
    Case("second_feature_is_sine", [("np.cos(t * 0.12)], axis=1)", "np.sin(t * 0.12)], axis=1)")],
         {"two_feature"}, function="two_feature_series", why="the wrong second feature"),
    Case("rolling_prepends",
         [("            current = torch.cat([current[:, 1:], next_value], dim=1)",
           "            current = torch.cat([next_value, current[:, :-1]], dim=1)")],
         {"rolling_forecast"}, function="rolling_forecast", why="the prediction goes in at the wrong end"),
    Case("rolling_modifies_window",
         [("    current = torch.as_tensor(window, dtype=torch.float32).clone().reshape(1, -1, 1)",
           "    current = torch.as_tensor(window, dtype=torch.float32).reshape(1, -1, 1)"),
          ("            current = torch.cat([current[:, 1:], next_value], dim=1)",
           "            current[:, :-1] = current[:, 1:].clone()\n            current[:, -1] = next_value[:, 0]")],
         {"rolling_forecast"}, function="rolling_forecast", why="the caller's window is overwritten"),
    Case("rolling_appends_to_a_list_in_place",
         [("    current = torch.as_tensor(window, dtype=torch.float32).clone().reshape(1, -1, 1)",
           "    history = window if isinstance(window, list) else list(np.asarray(window).reshape(-1))\n"
           "    current = torch.as_tensor(np.asarray(history, dtype=np.float32)).reshape(1, -1, 1)"),
          ("            current = torch.cat([current[:, 1:], next_value], dim=1)",
           "            history.append([float(next_value)] if isinstance(history[0], list) else float(next_value))\n"
           "            current = torch.as_tensor(np.asarray(history[-current.shape[1]:], dtype=np.float32)).reshape(1, -1, 1)")],
         {"rolling_forecast"}, function="rolling_forecast",
         why="right on arrays and tensors, but a list window grows in the caller's hands"),
    Case("scaler_fit_on_everything",
         [("    scaler = Standardizer().fit(values[: split + window_size])", "    scaler = Standardizer().fit(values)")],
         {"standardizer"}, function="prepare_data",
         why="the lesson's scaling pitfall: statistics from the validation period"),
    Case("scaler_refits_in_transform",
         [("        return (validate_series(values) - self.mean_) / self.std_",
           "        values = validate_series(values)\n        return (values - values.mean(axis=0)) / self.std_")],
         {"standardizer"}, function="Standardizer", why="transform ignores the fitted mean"),
    Case("accepts_bool_window",
         [("    if isinstance(window_size, bool) or not isinstance(window_size, numbers.Integral):",
           "    if not isinstance(window_size, numbers.Integral):")],
         {"input_validation"}, function="validate_window_size", why="True is an int in Python, but not a window size"),
    Case("no_nan_check", [('    if not np.isfinite(values).all():\n        raise ValueError("series contains NaN or inf values")\n', "")],
         {"input_validation"}, function="validate_series", why="NaN flows silently into training"),
    # The answers: the reference's code, so its own numbers are the reference's (window 32 lowest,
    # 16 8.2% above it; the run without clipping identical to the clipped one; no pattern in the plot).
    Case("claims_window_16", [("BEST_WINDOW_SIZE = 32", "BEST_WINDOW_SIZE = 16")], {"answer_window_size"},
         function="BEST_WINDOW_SIZE", claims=True, why="16 is 8% worse than 32 in the student's own comparison"),
    Case("claims_unstable_and_lag", [("STABLE_WITHOUT_CLIPPING = True", "STABLE_WITHOUT_CLIPPING = False"),
                                     ('PLOT_SHOWS = "none"', 'PLOT_SHOWS = "lag"')],
         {"answer_clipping", "answer_plot"}, function="the answers", claims=True,
         why="two claims the student's own runs contradict: the unclipped run is as good, and nothing lags"),
    Case("claims_blank", [("BEST_WINDOW_SIZE = 32", "BEST_WINDOW_SIZE = None"),
                          ('LOWER_VAL_MSE = "GRU"', 'LOWER_VAL_MSE = "gru"'),
                          ("STABLE_WITHOUT_CLIPPING = True", 'STABLE_WITHOUT_CLIPPING = "yes"'),
                          ('PLOT_SHOWS = "none"\n', "")],
         {"answer_window_size", "answer_gru_vs_lstm", "answer_clipping", "answer_plot"}, function="the answers",
         claims=True, why="unanswered, misspelt, the wrong type and missing: each costs its own answer only"),
    Case("compare_window_sizes_scaled_claim_follows_it",
         [("        results[size] = history[-1][\"val_mse\"]", "        results[size] = history[-1][\"val_mse\"] * size"),
          ("BEST_WINDOW_SIZE = 32", "BEST_WINDOW_SIZE = 8")],
         {"window_comparison"}, function="compare_window_sizes", claims=True,
         why="a wrong exercise 1 (each MSE times its size, so 8 is lowest by far) and a claim that reports what "
             "it measured: the claim keeps its points"),
    Case("compare_window_sizes_stub_claim_stands",
         [("        results[size] = history[-1][\"val_mse\"]", "        raise NotImplementedError(\"later\")")],
         {"window_comparison"}, function="compare_window_sizes", claims=True,
         why="exercise 1 not done: its claim cannot be checked against it, so it is accepted"),
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
    Case("lists_not_tuples",
         [("    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)",
           "    return [torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)]"),
          (SPLIT_RETURN, "    return [X[:split], X[split:], y[:split], y[split:]]")],
         why="make_windows and time_split return lists: they unpack as the tuples do"),
    Case("closure_step",
         [("        loss = loss_fn(model(X_train), y_train)\n        optimizer.zero_grad()\n        loss.backward()\n"
           "        if clip_norm is not None:\n            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)\n"
           "        optimizer.step()",
           "        def closure():\n            optimizer.zero_grad()\n            loss = loss_fn(model(X_train), y_train)\n"
           "            loss.backward()\n            if clip_norm is not None:\n"
           "                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)\n            return loss\n\n"
           "        loss = optimizer.step(closure)")],
         why="optimizer.step(closure): the gradients are made, and clipped, inside the step"),
]


def hostile_case(name, loses, prefix="", edits=(), why="", honest=None, partial=()):
    """``honest``: the edits of the same mistake without the attack, when there is one: the attack
    must then score exactly what that honest mistake scores, item by item. Every other lost item
    must score 0, but those in ``partial``, which grade other functions too."""
    case = Case(name, list(edits), set(loses), prefix=prefix, why=why)
    case.honest, case.partial = honest, set(partial)
    return case


def honest_version(case):
    """The same code without the attack: what the attack must not improve on."""
    if case.honest is not None:
        return Case(case.name + "_honest", list(case.honest), case.loses)
    return Case(case.name + "_unpatched", case.edits, case.loses)


ALL_ITEMS = set(ITEM_IDS)              # every item declared with @item (autograder/items/registry.py)
# Items whose checks run the student's make_windows in the worker, directly or through the
# student's own prepare_data and compare_window_sizes (the pipeline items use the grader's windows).
USES_MAKE_WINDOWS = {"make_windows", "make_windows_multifeature", "input_validation", "standardizer",
                     "window_comparison"}
# Items whose checks call LSTMForecaster in the worker (a segfault there crashes these).
USES_LSTM = {"lstm_forecaster", "beats_baseline", "two_feature", "window_comparison"}

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
                 edits=[("    X = validate_windows(X)\n    validate_target_col(target_col, X.shape[2])",
                         "    hog = [bytearray(2**28) for _ in range(64)]  # 16 GiB\n    X = validate_windows(X)\n"
                         "    validate_target_col(target_col, X.shape[2])")],
                 why="naive_forecast eats memory: a MemoryError or a killed worker, as the cap meets it first; "
                     "input_validation keeps the marks of the other functions' bad inputs either way",
                 partial={"input_validation"}),
    hostile_case("prints_200_mb", set(), prefix="import sys\nsys.stdout.write('spam ' * 40_000_000)\n"),
    hostile_case("segfault_in_forward", USES_LSTM,
                 prefix="import ctypes\n",
                 edits=[(LSTM_OUT,
                         "        ctypes.string_at(0)\n")]),
    # Wrong code that patches every comparison it can reach: the grader compares in its own
    # process, so it must score exactly what the same code scores without the patches.
    # Its wrong windows and forward also measure numbers that decisively contradict the reference's
    # claims it kept (32 is 26% above 8; the plot is flat): those two answers are lost as well.
    hostile_case("patched_comparisons",
                 {"make_windows", "make_windows_multifeature", "naive_baseline", "lstm_forecaster",
                  "beats_baseline", "two_feature", "answer_window_size", "answer_plot"},
                 prefix=("import numpy, numpy.testing, torch\n"
                         "numpy.allclose = numpy.array_equal = numpy.isclose = lambda *a, **k: True\n"
                         "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                         "torch.allclose = torch.equal = lambda *a, **k: True\n"),
                 edits=[(Y_LINE, "    y = values[window_size - 1 : -1, target_col : target_col + 1]"),
                        ("    return ((naive_forecast(X, target_col) - y) ** 2).mean().item()",
                         "    return ((naive_forecast(X, target_col) - y) ** 2).mean().sqrt().item()"),
                        (FORWARD, LSTM_OUT + "        return self.fc(out[:, 0, :])")]),
    hostile_case("forges_worker_answers", ALL_ITEMS - {"reasoning"},      # 0 points: it has nothing to lose
                 prefix=("import sys\n"
                         "_w = next(c for m in list(sys.modules.values()) for c in list(getattr(m, '__dict__', {}).values())\n"
                         "          if isinstance(c, type) and hasattr(c, 'op_import'))\n"
                         "_w.handle = lambda self, req: {'ok': False, 'error': {'type': 'ValueError', "
                         "'message': 'forged', 'is_value_error': True}}\n")),
    hostile_case("imports_the_solution", ALL_ITEMS, prefix="from solutions.sequence_modeling import *\n"),
    hostile_case("imports_the_solution_obfuscated", ALL_ITEMS,
                 prefix="import importlib\n_m = importlib.import_module('sol' + 'utions.sequence_modeling')\n"
                        "globals().update(vars(_m))\n"),
    # Single-flag forgeries: each once won its item. The verdicts now rest on what the grader
    # recomputes, so each must score 0 on the item it aims at and cost nothing else.
    hostile_case("forges_value_error", {"input_validation"},
                 prefix="import builtins\nbuiltins.ValueError = Exception\n",
                 why="every exception would count as a ValueError if the grader trusted isinstance in the worker"),
    hostile_case("forges_probe_call_records", {"train_loop"},
                 edits=[(EVAL_IN_LOOP, "            model.eval()\n            if True:\n                val_loss"),
                        ("    model.eval()\n    return history",
                         "    for record in getattr(model, 'calls', []):\n        record['grad'] = False\n"
                         "    model.eval()\n    return history")],
                 why="validation with gradients on, then the probe's call records rewritten to hide it",
                 honest=[(EVAL_IN_LOOP, "            model.eval()\n            if True:\n                val_loss")]),
    hostile_case("replays_the_step_hook", {"grad_clipping"},
                 prefix="from torch.optim.optimizer import _global_optimizer_pre_hooks\n",
                 edits=[("        optimizer.step()\n", "        if clip_norm is None:\n            optimizer.step()\n"),
                        (CLIP, "            saved = [p.grad.clone() for p in model.parameters()]\n"
                               "            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)\n"
                               "            hooks = dict(_global_optimizer_pre_hooks)\n"
                               "            for hook in hooks.values():\n"
                               "                hook(optimizer, (), {})\n"
                               "            for p, g in zip(model.parameters(), saved):\n"
                               "                p.grad = g\n"
                               "            _global_optimizer_pre_hooks.clear()\n"
                               "            optimizer.step()\n"
                               "            _global_optimizer_pre_hooks.update(hooks)")],
                 why="the hook is shown clipped gradients, the step uses the unclipped ones",
                 honest=[(CLIP, "            pass")]),
    hostile_case("replays_the_post_step_hook", {"grad_clipping"},
                 prefix="from torch.optim.optimizer import _global_optimizer_post_hooks\n",
                 edits=[("        optimizer.step()\n", "        if clip_norm is None:\n            optimizer.step()\n"),
                        (CLIP, "            saved = [p.grad.clone() for p in model.parameters()]\n"
                               "            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)\n"
                               "            clipped = [p.grad.clone() for p in model.parameters()]\n"
                               "            for p, g in zip(model.parameters(), saved):\n"
                               "                p.grad = g\n"
                               "            hooks = dict(_global_optimizer_post_hooks)\n"
                               "            _global_optimizer_post_hooks.clear()\n"
                               "            optimizer.step()\n"
                               "            _global_optimizer_post_hooks.update(hooks)\n"
                               "            for p, g in zip(model.parameters(), clipped):\n"
                               "                p.grad = g\n"
                               "            for hook in hooks.values():\n"
                               "                hook(optimizer, (), {})")],
                 why="the step uses the unclipped gradients, then the hook after it is shown clipped ones",
                 honest=[(CLIP, "            pass")]),
]
