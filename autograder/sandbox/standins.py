"""Stand-ins: the reference's answer for one step of a composition, put in place of a student part that raised.

When a student's ``make_windows`` raises inside ``compare_window_sizes`` or
``prepare_data``, the composition is graded again with a stand-in for that step,
so the mistake costs ``make_windows``' items alone. A stand-in holds no
reference code: the grader sends what the reference did to an index series
(which rows go into window i, which rows go to training), recorded like every
other reference answer, and the stand-in applies those indices to whatever
values the student's code passes it. That is exactly the reference's result,
for any values, without shipping how it is computed.

Worker side: the standard library, numpy and torch (lazily) only.
"""


class StandInMiss(LookupError):
    """The student's code called a stand-in with a shape the grader recorded no answer for."""


def _values(data):
    """A float32 numpy array of an array-like (numpy array, tensor, list)."""
    import numpy as np

    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    return np.asarray(data, dtype=np.float32)


def _make_windows(maps):
    """make_windows from the reference's index maps: {(n, w): (X rows (m, w), y rows (m,))}."""
    import torch

    def make_windows(series, window_size, target_col=0):
        values = _values(series)
        if values.ndim == 1:
            values = values[:, None]                       # (n, 1)
        rows = maps.get((len(values), int(window_size)))
        if rows is None:
            raise StandInMiss(f"the grader holds the reference's windows for {sorted(maps)} (length, window), "
                              f"not for length {len(values)} and window {window_size}")
        X_rows, y_rows = rows
        if not 0 <= int(target_col) < values.shape[1]:      # as the reference refuses it
            raise ValueError(f"target_col={target_col} is out of range for {values.shape[1]} feature(s)")
        X = values[X_rows]                                  # (m, w, features)
        y = values[y_rows, int(target_col)][:, None]        # (m, 1)
        return torch.tensor(X), torch.tensor(y)
    return make_windows


def _time_split(maps):
    """time_split from the reference's index maps: {(m, frac): (train rows, val rows)}."""
    import torch

    def time_split(X, y, train_frac=0.8):
        key = (len(X), round(float(train_frac), 6))
        rows = maps.get(key)
        if rows is None:
            raise StandInMiss(f"the grader holds the reference's split for {sorted(maps)} (rows, train_frac), "
                              f"not for {key}")
        train, val = (torch.as_tensor(r, dtype=torch.long) for r in rows)
        X, y = torch.as_tensor(_values(X)), torch.as_tensor(_values(y))
        return X[train], X[val], y[train], y[val]
    return time_split


def _rows(value):
    import numpy as np

    return np.asarray(value, dtype=np.int64)


def build(spec):
    """{name: function} from a request's ``stand_ins``: {"make_windows": [[n, w, X_rows, y_rows], ...],
    "time_split": [[m, frac, train_rows, val_rows], ...]} (rows as nested lists of ints)."""
    built = {}
    if "make_windows" in spec:
        built["make_windows"] = _make_windows({(int(n), int(w)): (_rows(X), _rows(y))
                                               for n, w, X, y in spec["make_windows"]})
    if "time_split" in spec:
        built["time_split"] = _time_split({(int(m), round(float(f), 6)): (_rows(a), _rows(b))
                                           for m, f, a, b in spec["time_split"]})
    return built


class Installed:
    """``with Installed(module, spec):`` the submission's functions named in ``spec`` are the stand-ins
    for the block, then the student's own again."""

    def __init__(self, module, spec):
        self.module, self.stand_ins, self.saved = module, build(spec or {}), {}

    def __enter__(self):
        for name, fn in self.stand_ins.items():
            self.saved[name] = getattr(self.module, name, None)
            setattr(self.module, name, fn)
        return self

    def __exit__(self, *exc):
        for name, fn in self.saved.items():
            if fn is None:
                delattr(self.module, name)
            else:
                setattr(self.module, name, fn)
        return False
