"""The worker: the only process that runs student code.

The grader copies this file outside the kit, starts it with ``python -I -S``
(no site hooks, no user paths), hands it two pipes, and asks it to run student
functions on inputs the grader chose. Every answer goes back as one JSON line
of plain data: numbers, strings, and arrays as raw little-endian bytes with a
dtype and a shape. Nothing is pickled in either direction, so nothing the
student returns can run code in the grader. Verdicts are never computed here.

This file imports only the standard library, numpy and torch, so it runs
without the kit on ``sys.path``. The grader imports its codec and probe models
too, which keeps both sides of the protocol in one place.
"""

import base64
import builtins
import functools
import importlib.abc
import importlib.util
import io
import json
import os
import sys
import traceback
import types

# Packages a submission must not import: the reference and the grader.
BLOCKED_PACKAGES = ("solutions", "autograder", "lessons", "tests", "bench")
SAFE_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
               "uint8", "uint16", "uint32", "uint64", "bool"}
ARRAY_KINDS = ("tensor", "ndarray", "scalar")
MAX_TRACEBACK_LINES = 12


# --- the codec (used by both processes) ------------------------------------

def encode(value, depth=0):
    """Plain-data form of a student's return value, JSON-serialisable.

    numpy scalars are tested before Python numbers: ``np.float64`` is a subclass
    of ``float`` and numpy 2 spells its repr ``np.float64(0.5)``, so the order
    matters. A numpy scalar travels as a 0-d array of kind "scalar" and keeps its
    dtype; a Python float travels as its shortest repr (exact, nan and inf too).
    """
    import numpy as np

    if depth > 20:
        return {"__repr__": "too deeply nested"}
    if isinstance(value, np.generic):
        if value.dtype.name in SAFE_DTYPES:
            return _encode_array("scalar", value.dtype.name, np.asarray(value))
        if isinstance(value, (np.str_, np.bytes_)):
            return str(value)
        return {"__repr__": type(value).__name__}
    if value is None or isinstance(value, (bool, int, str)):
        base = next(t for t in (type(None), bool, int, str) if isinstance(value, t))
        return value if base is type(None) else base(value)       # an int or str subclass travels as its base
    if isinstance(value, float):
        return {"__float__": float.__repr__(value)}        # keeps nan and inf exact
    if isinstance(value, np.dtype):
        return {"__dtype__": value.name}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.dtype):
        return {"__dtype__": str(value)}
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).replace("torch.", "")
        if dtype not in SAFE_DTYPES:             # bfloat16 and friends: send float64, report the real dtype
            tensor = tensor.double()
        return _encode_array("tensor", dtype, tensor.contiguous().numpy())
    if isinstance(value, np.ndarray):
        array = value if value.dtype.name in SAFE_DTYPES else value.astype(np.float64)
        return _encode_array("ndarray", value.dtype.name, np.asarray(array, order="C"))
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return {"__repr__": type(value).__name__}


def _encode_array(kind, dtype, array):
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"__array__": kind, "dtype": dtype, "data_dtype": array.dtype.name,
            "shape": list(array.shape), "data": base64.b64encode(data).decode("ascii")}


class Array:
    """A decoded array: ``kind`` is "tensor", "ndarray" or "scalar" (a numpy scalar, 0-d);
    ``dtype`` is what the student used."""

    __slots__ = ("kind", "dtype", "array")

    def __init__(self, kind, dtype, array):
        self.kind, self.dtype, self.array = kind, dtype, array

    @property
    def shape(self):
        return tuple(self.array.shape)

    def __repr__(self):
        return f"{self.kind}(dtype={self.dtype}, shape={self.shape})"


def decode(value):
    """Inverse of ``encode``; arrays come back as ``Array``. Never runs code."""
    import numpy as np

    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__dtype__" in value:
        return DType(str(value["__dtype__"]))
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["__dict__"]}
    if "__array__" in value:
        data_dtype = value["data_dtype"]
        if data_dtype not in SAFE_DTYPES or value["__array__"] not in ARRAY_KINDS:
            raise ValueError(f"unexpected array dtype {data_dtype!r}")
        shape = tuple(int(s) for s in value["shape"])
        raw = base64.b64decode(value["data"])
        dtype = np.dtype(data_dtype).newbyteorder("<")
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(raw):
            raise ValueError("array data does not match its shape")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        return Array(value["__array__"], str(value["dtype"]), array)
    if "__repr__" in value:
        return Unencodable(str(value["__repr__"]))
    return {str(k): decode(v) for k, v in value.items()}


def _hashable(key):
    return key if isinstance(key, (int, float, str, bool, type(None))) else repr(key)


class DType(str):
    """A dtype the student returned (``np.dtype`` or ``torch.dtype``), by name: "float32", "torch.float32"."""


class Unencodable:
    """Stands for a returned object that is not plain data (a module, a function...)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def encode_input(array, kind="ndarray"):
    """An input the grader sends: a numpy array to arrive as ``kind`` (ndarray, tensor, list)."""
    import numpy as np

    array = np.asarray(array, order="C")          # (ascontiguousarray would make a 0-d array 1-d)
    encoded = _encode_array("ndarray", array.dtype.name, array)
    encoded["as"] = kind
    return encoded


def decode_input(value):
    """Worker side: turn an input back into the kind the grader asked for."""
    import torch

    if isinstance(value, dict) and "__array__" in value:
        array = decode(value).array.copy()
        kind = value.get("as", "ndarray")
        if kind == "tensor":
            return torch.from_numpy(array)
        if kind == "list":
            return array.tolist()
        return array
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(decode_input(v) for v in value["__tuple__"])
    if isinstance(value, list):
        return [decode_input(v) for v in value]
    if isinstance(value, dict):
        return {k: decode_input(v) for k, v in value.items()}
    return value


# --- probe models (used by both processes) ---------------------------------

# What a probe adds to its output when it runs in training mode (StubForecaster) or, in eval
# mode, with gradients on (both probes): large enough that no tolerance hides it.
GRADIENT_MARK, TRAINING_MARK = 0.5, 1000.0


def _torch_modules():
    import torch
    from torch import nn

    class ProbeNet(nn.Module):
        """A small forecaster for checking ``train_model``: dropout makes train and
        eval mode give different outputs. ``calls`` (a list kept by the caller, not
        reachable from the model's attributes) receives one record per forward call."""

        def __init__(self, input_size=1, hidden_size=6, dropout=0.25, calls=None):
            super().__init__()
            self.lstm = nn.LSTM(input_size=input_size, hidden_size=hidden_size, num_layers=1, batch_first=True)
            self.fc = nn.Linear(in_features=hidden_size, out_features=1)
            # Dropout masks come from the model's own counter, not the global generator: a loop that
            # draws random numbers of its own (a DataLoader does, even unshuffled) stays comparable.
            # The counter is a buffer, so it is part of the model's state like its weights.
            self.dropout = dropout
            self.register_buffer("mask_draws", torch.zeros((), dtype=torch.int64))
            record = calls.append if calls is not None else (lambda _: None)
            self._record = lambda x: record({"training": self.training, "grad": torch.is_grad_enabled(),
                                             "rows": int(x.shape[0])})

        def forward(self, x):
            self._record(x)
            out, _ = self.lstm(x)                             # (batch, seq_len, hidden)
            last = out[:, -1, :]                              # (batch, hidden)
            if self.training and self.dropout > 0:
                masks = torch.Generator().manual_seed(6_4_4_000 + int(self.mask_draws))
                self.mask_draws += 1
                keep = torch.rand(last.shape, generator=masks) >= self.dropout
                last = last * keep / (1 - self.dropout)
            out = self.fc(last)                               # (batch, 1)
            if not self.training and torch.is_grad_enabled():
                # Evaluating with gradients on shows in the numbers the grader compares, so the
                # verdict never rests on call records a submission can reach and rewrite.
                out = out + GRADIENT_MARK
            return out

    class StubForecaster(nn.Module):
        """A model with a closed-form rule, for checking rolling forecasts.

        rule "last_plus": next = last + step; "first": next = the window's first
        value; "mean": next = the window's mean. ``calls`` (kept by the caller)
        receives every input it sees.
        """

        def __init__(self, rule, step=1.0, calls=None):
            super().__init__()
            self.rule, self.step = rule, step
            self.anchor = nn.Parameter(torch.zeros(1))
            record = calls.append if calls is not None else (lambda _: None)
            self._record = lambda x: record({"training": self.training, "grad": torch.is_grad_enabled(),
                                             "shape": list(x.shape),
                                             "input": x.detach().clone().reshape(-1).tolist()})

        def forward(self, x):
            self._record(x)
            if self.rule == "last_plus":
                out = x[:, -1, :1] + self.step
            elif self.rule == "first":
                out = x[:, 0, :1]
            else:
                out = x[:, :, :1].mean(dim=1)
            # Training mode or gradients move the forecast itself (see GRADIENT_MARK).
            out = out + TRAINING_MARK * self.training + GRADIENT_MARK * torch.is_grad_enabled()
            return out + 0 * self.anchor                      # (batch, 1)

    return ProbeNet, StubForecaster


def probe_models():
    """(ProbeNet, StubForecaster), defined lazily so importing this file needs no torch."""
    global _PROBES
    if _PROBES is None:
        _PROBES = _torch_modules()
    return _PROBES


_PROBES = None


def load_params(model, arrays):
    """Copy numpy arrays into a model's parameters, in registration order."""
    import torch

    with torch.no_grad():
        for param, array in zip(model.parameters(), arrays):
            param.copy_(torch.from_numpy(array))


# --- running student code ----------------------------------------------------

class ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses the reference and the grader's packages: copying the key earns nothing."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"the autograder does not allow importing {fullname!r} from a submission")
        return None


# Captured when this file loads, before any student code: a submission that rebinds
# builtins.ValueError (to Exception, say) cannot make every error count as one.
_VALUE_ERROR, _NOT_IMPLEMENTED = builtins.ValueError, builtins.NotImplementedError


def _is_builtin(exc, cls):
    """``exc`` is an instance of the real built-in ``cls`` (by identity and by name)."""
    return isinstance(exc, cls) and any(c.__module__ == "builtins" and c.__qualname__ == cls.__name__
                                        for c in type(exc).__mro__)


class StudentError(Exception):
    """Student code raised; carries a plain description."""

    def __init__(self, exc):
        super().__init__(str(exc))
        self.info = describe_exception(exc)


def describe_exception(exc):
    # Keep only the student's frames and the error line: none of this file's (the op that
    # called the student, the wrappers that watch the student's functions).
    summary = traceback.TracebackException.from_exception(exc)
    here = os.path.abspath(__file__)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if os.path.abspath(frame.filename) != here])
    text = "".join(summary.format()).splitlines()
    student = [line for line in text if "_grading_worker" not in line]
    where = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith("submission.py"):
            where = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
    return {
        "where": where,
        "type": type(exc).__name__,
        "message": str(exc)[:500],
        "is_value_error": _is_builtin(exc, _VALUE_ERROR),
        "not_implemented": _is_builtin(exc, _NOT_IMPLEMENTED),
        "mro": [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__][:12],
        "traceback": "\n".join(student[-MAX_TRACEBACK_LINES:]),
    }


class KnownHang(BaseException):
    """A student function the grader already saw hang was about to run again.

    A BaseException, so a submission's ``except Exception`` cannot swallow it.
    """

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class Worker:
    """Runs the ops; reports which student function it enters (``progress``) and
    refuses, at once, the ones the grader names in a request's ``refuse`` list."""

    def __init__(self, report=None):
        self.module = None
        self.fitted = None              # the model op_fit trained, for op_predict_next
        self.report = report            # callable(dict): writes one line on the response pipe
        self.current = None             # the name of the student object the op looked up last
        self.entered = []               # student functions running now, innermost last
        self.reported = None
        self.refused = frozenset()
        self.request_id = None

    def enter(self, name):
        """Student code named ``name`` starts: refuse a known hang, else tell the grader."""
        if name in self.refused:
            raise KnownHang(name)
        self.entered.append(name)
        self._report_progress()

    def leave(self):
        if self.entered:                # a student's own threads may have unbalanced it
            self.entered.pop()
        self._report_progress()

    def _report_progress(self):
        name = self.entered[-1] if self.entered else None
        if name is not None and name != self.reported and self.report is not None:
            self.reported = name
            self.report({"progress": name, "id": self.request_id})

    def watch(self, module):
        """Wrap the submission's own functions so that calls between them are seen and refused too
        (a ``prepare_data`` calling a hung ``make_windows`` must not hang again)."""
        for name, value in list(vars(module).items()):
            if not name.startswith("_") and isinstance(value, types.FunctionType) \
                    and value.__module__ == module.__name__:
                setattr(module, name, self._watched(name, value))

    def _watched(self, name, fn):
        @functools.wraps(fn)
        def watched(*args, **kwargs):
            self.enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave()
        return watched

    def reseed(self, seed):
        """Every request starts from the same random state, whatever ran before."""
        import random

        import numpy as np
        import torch

        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def student(self, name):
        if name in self.refused:
            raise KnownHang(name)
        try:
            value = getattr(self.module, name)
        except AttributeError:
            raise StudentError(AttributeError(f"the submission does not define {name!r}")) from None
        self.current = name
        return value

    def run(self, fn, *args, **kwargs):
        """Call student code; ``fn`` belongs to the student object looked up last (a function,
        or a class and its instances' methods)."""
        self.enter(self.current or getattr(fn, "__name__", "student code"))
        try:
            return fn(*args, **kwargs)
        except Exception as exc:          # noqa: BLE001  (any student error is reported, not raised)
            raise StudentError(exc) from None
        finally:
            self.leave()

    # -- ops ------------------------------------------------------------------

    def op_import(self, req):
        spec = importlib.util.spec_from_file_location("submission", req["path"])
        module = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = module
        self.reseed(req.get("seed", 0))
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:      # noqa: BLE001  (SystemExit at import is a failure, not an exit)
            raise StudentError(exc) from None
        self.module = module
        self.watch(module)
        return {"names": sorted(n for n in vars(module) if not n.startswith("_"))}

    def op_call(self, req):
        fn = self.student(req["fn"])
        args = decode_input(req.get("args", []))
        kwargs = decode_input(req.get("kwargs", {}))
        self.reseed(req.get("seed", 0))
        return self.run(fn, *args, **kwargs)

    def op_model(self, req):
        """Build a student model under a seed; report its layers, parameters and outputs."""
        import torch

        cls = self.student(req["cls"])
        self.reseed(req.get("seed", 0))
        model = self.run(cls, **req.get("init", {}))
        layers = []
        for name, module in self.run(model.named_modules):
            layer = {"name": name, "type": type(module).__name__, "torch": type(module).__module__.startswith("torch.nn")}
            for attr in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional", "in_features", "out_features"):
                if hasattr(module, attr) and isinstance(getattr(module, attr), (int, bool)):
                    layer[attr] = getattr(module, attr)
            layers.append(layer)
        params = [[name, p.detach().clone()] for name, p in self.run(model.named_parameters)]
        outputs = []
        self.run(model.eval)
        with torch.no_grad():
            for x in decode_input(req.get("inputs", [])):
                outputs.append(self.run(model, torch.as_tensor(x)))
        return {"layers": layers, "params": params, "outputs": outputs}

    def op_train(self, req):
        """Run the student's train_model on a probe model the grader initialised."""
        import torch
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        ProbeNet, _ = probe_models()
        calls = []
        model = ProbeNet(**req["probe"], calls=calls)
        load_params(model, [decode(p).array for p in req["params"]])
        data = [torch.as_tensor(decode_input(d)) for d in req["data"]]   # X_train, y_train, X_val, y_val
        kwargs = decode_input(req.get("kwargs", {}))
        logs, norms, steps = [], [], []
        if kwargs.pop("capture_log", False):
            kwargs["log"] = lambda line: logs.append(str(line)[:200])
        record_steps = kwargs.pop("record_steps", False)

        def record_norm(optimizer, args, kw):
            grads = [p.grad.detach().reshape(-1) for p in model.parameters() if p.grad is not None]
            norms.append(float(torch.cat(grads).norm()) if grads else 0.0)
            if record_steps and len(steps) < 50:        # what Adam is about to consume, and from where
                steps.append({"params": [p.detach().clone() for p in model.parameters()],
                              "grads": [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                                        for p in model.parameters()]})

        handle = register_optimizer_step_pre_hook(record_norm)
        self.reseed(req.get("seed", 0))
        try:
            history = self.run(self.student("train_model"), model, *data, **kwargs)
        finally:
            handle.remove()
        return {"history": history, "logs": logs, "norms": norms, "steps": steps, "training_after": model.training,
                "calls": calls[:2000], "params": [p.detach().clone() for p in model.parameters()]}

    def op_predict(self, req):
        """Run the student's predict on a probe model left in training mode."""
        import torch

        ProbeNet, _ = probe_models()
        calls = []
        model = ProbeNet(**req["probe"], calls=calls)
        load_params(model, [decode(p).array for p in req["params"]])
        model.train()
        X = torch.as_tensor(decode_input(req["X"]))
        self.reseed(req.get("seed", 0))
        output = self.run(self.student("predict"), model, X)
        return {"output": output, "calls": calls[:100], "training_after": model.training}

    def op_prepare(self, req):
        """prepare_data, with the fitted scaler's statistics as plain arrays, and the same steps
        composed from the student's own make_windows and time_split on the series scaled with
        those statistics (so a mistake in those functions is not blamed on the scaler)."""
        import numpy as np

        series = decode_input(req["series"])
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("prepare_data"), series, req["window"], req["frac"])
        if not isinstance(result, tuple) or len(result) != 5:
            return {"shape_error": f"prepare_data returned {type(result).__name__}, expected a 5-tuple"}
        *arrays, scaler = result
        mean, std = getattr(scaler, "mean_", None), getattr(scaler, "std_", None)
        out = {"arrays": list(arrays), "mean": mean, "std": std, "composed": None}
        try:
            scaled = (np.asarray(series, dtype=np.float32) - np.asarray(mean, dtype=np.float32)) \
                / np.asarray(std, dtype=np.float32)
            self.reseed(req.get("seed", 0))      # the random state prepare_data itself started from
            X, y = self.student("make_windows")(scaled.astype(np.float32), req["window"])
            out["composed"] = list(self.student("time_split")(X, y, req["frac"]))
        except Exception:                 # noqa: BLE001  (no composition to compare with: fine)
            pass
        return out

    def op_rolling(self, req):
        """Run the student's rolling_forecast against a stub model with a known rule."""
        _, StubForecaster = probe_models()
        calls = []
        model = StubForecaster(**req["stub"], calls=calls)
        model.train()
        window = decode_input(req["window"])
        before = encode(window)                  # a snapshot, to see whether the student changed it
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("rolling_forecast"), model, window, req["steps"])
        unchanged = encode(window) == before
        return {"result": result, "window_unchanged": unchanged, "calls": calls[:400],
                "n_calls": len(calls), "training_after": model.training}

    def op_scaler(self, req):
        """Fit the student's Standardizer, then transform and invert what the grader sends."""
        scaler_cls = self.student("Standardizer")
        self.reseed(req.get("seed", 0))
        scaler = self.run(scaler_cls)
        fitted = self.run(scaler.fit, decode_input(req["fit"]))
        out = {"returns_self": fitted is scaler, "mean": getattr(scaler, "mean_", None),
               "std": getattr(scaler, "std_", None), "transform": [], "inverse": []}
        for values in decode_input(req.get("transform", [])):
            out["transform"].append(self.run(scaler.transform, values))
        for values in decode_input(req.get("inverse", [])):
            out["inverse"].append(self.run(scaler.inverse_transform, values))
        return out

    def op_fit(self, req):
        """The student's seeded model and training loop on windows the grader made.

        The trained model stays in this process for ``predict_next``; only its
        training history and validation predictions go back.
        """
        import torch

        data = [torch.as_tensor(decode_input(d)) for d in req["data"]]   # X_train, y_train, X_val, y_val
        self.reseed(req.get("seed", 0))
        torch.manual_seed(req["seed"])
        self.fitted = None
        model = self.run(self.student("LSTMForecaster"), **req.get("init", {}))
        history = self.run(self.student("train_model"), model, *data, log=None)
        self.fitted = model
        return {"history": history, "val_pred": self.run(self.student("predict"), model, data[2])}

    def op_predict_next(self, req):
        """predict on one held-out window; the next is sent only after this answer."""
        import torch

        if self.fitted is None:
            raise StudentError(RuntimeError("no trained model: training failed"))
        X = torch.as_tensor(decode_input(req["X"]))
        self.reseed(req.get("seed", 0))
        return self.run(self.student("predict"), self.fitted, X)

    def op_roll(self, req):
        """rolling_forecast from the trained model, for the report's plot only."""
        if self.fitted is None:
            raise StudentError(RuntimeError("no trained model: training failed"))
        self.reseed(req.get("seed", 0))
        return self.run(self.student("rolling_forecast"), self.fitted, decode_input(req["window"]), req["steps"])

    def op_compose_windows(self, req):
        """Exercise 1 as the spec composes it, from the student's own parts: for each size,
        make_windows, time_split(0.8), torch.manual_seed(seed), a fresh LSTMForecaster,
        train_model(..., log=None), and the last row's val_mse."""
        import torch

        series = decode_input(req["series"])
        self.reseed(req.get("seed", 0))
        out = {}
        for size in req["sizes"]:
            X, y = self.run(self.student("make_windows"), series, size)
            X_train, X_val, y_train, y_val = self.run(self.student("time_split"), X, y, 0.8)
            torch.manual_seed(req["model_seed"])
            input_size = int(X.shape[-1]) if getattr(X, "ndim", 0) == 3 else 1
            model = self.run(self.student("LSTMForecaster"), input_size=input_size)
            history = self.run(self.student("train_model"), model, X_train, y_train, X_val, y_val,
                               epochs=req["epochs"], log=None)
            out[size] = history[-1]["val_mse"]
        return out

    def op_ping(self, req):
        return "pong"

    def handle(self, req):
        op = getattr(self, "op_" + str(req.get("op")), None)
        if op is None:
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {req.get('op')!r}"}}
        self.request_id, self.current, self.entered, self.reported = req.get("id"), None, [], None
        self.refused = frozenset(str(name) for name in req.get("refuse", ()))
        try:
            return {"ok": True, "value": encode(op(req))}
        except KnownHang as hang:
            return {"ok": False, "known_hang": hang.name}
        except StudentError as err:
            return {"ok": False, "error": err.info}
        except Exception as exc:          # noqa: BLE001  (anything else is still the submission's doing)
            return {"ok": False, "error": describe_exception(exc)}


def confinement():
    """The confinement module (autograder/confinement.py), loaded by path: a fresh worker runs
    without the kit on sys.path, from a copy named ``_grading_worker.py`` beside ``_grading_confinement.py``."""
    import importlib.util

    for name in ("autograder.confinement", "_grading_confinement"):
        if name in sys.modules:
            return sys.modules[name]
    here = os.path.dirname(os.path.abspath(__file__))
    for file in ("confinement.py", "_grading_confinement.py"):
        path = os.path.join(here, file)
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("_grading_confinement", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules["_grading_confinement"] = module
            return module
    raise ImportError("the worker's confinement module is missing")


def confine(config, keep_fds):
    """Every limit the submission cannot lift, applied before any student code runs (see
    confinement.py). Returns what was applied, or None after telling the grader why
    confinement failed: student code must then not run at all."""
    try:
        return confinement().confine(config, keep_fds)
    except Exception as exc:          # noqa: BLE001  (any failure here means: refuse, never run unconfined)
        message = f"{type(exc).__name__}: {exc}"
        os.write(keep_fds[1], json.dumps({"ok": False, "refused": message}).encode() + b"\n")
        os._exit(70)


def die_with_parent():
    """If the grader dies (a killed batch server), take this process down too."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def preload():
    """Load what every worker needs before any student code runs."""
    import numpy  # noqa: F401  (import before student code so a broken import is ours to report)
    import torch

    # Building any optimizer imports torch._dynamo (about a second): pay it now, not in
    # the middle of an item's time limit.
    import torch._dynamo  # noqa: F401

    # One thread: CPU kernels then give the same numbers on every machine and every run.
    torch.set_num_threads(1)


def serve(request_fd, response_fd, applied):
    """Answer the grader's requests until it closes the pipe, then exit at once."""
    sys.meta_path.insert(0, ImportBlocker())
    os.environ.setdefault("MPLBACKEND", "Agg")
    requests = io.open(request_fd, "rb", buffering=0)
    responses = io.open(response_fd, "wb", buffering=0)
    worker = Worker(report=lambda message: responses.write(json.dumps(message).encode() + b"\n"))
    responses.write(json.dumps({"ok": True, "value": "ready", "confined": applied}).encode() + b"\n")
    for line in iter(requests.readline, b""):
        try:
            req = json.loads(line)
        except ValueError:
            break
        try:
            answer = json.dumps(dict(worker.handle(req), id=req.get("id")), allow_nan=True)
        except Exception as exc:          # noqa: BLE001  (an answer that cannot be encoded)
            answer = json.dumps({"ok": False, "id": req.get("id"), "error": describe_exception(exc)})
        sys.stdout.flush()
        responses.write(answer.encode("utf-8") + b"\n")
    sys.stdout.flush()
    os._exit(0)                       # the grader closed the pipe: no slow interpreter teardown


def main():
    """A worker started on its own: ``worker.py REQUEST_FD RESPONSE_FD SITE_DIRS CONFINE``."""
    die_with_parent()
    request_fd, response_fd = int(sys.argv[1]), int(sys.argv[2])
    sys.path[:0] = json.loads(sys.argv[3])
    applied = confine(json.loads(sys.argv[4]), (request_fd, response_fd))
    preload()
    serve(request_fd, response_fd, applied)


# --- the zygote: a warm process that forks workers --------------------------------

def zygote_main():
    """``worker.py zygote CONTROL_FD SITE_DIRS``: load torch once, then fork a worker per request.

    A batch grades hundreds of submissions; starting Python and torch for each
    costs two seconds of CPU. The zygote is a clean process (it never sees the
    reference or the grader's data): each worker it forks starts with torch
    loaded and then confines itself exactly as a freshly started one does.
    Requests on the control socket: {"op": "spawn"} with three fds (requests,
    responses, output), answered {"pid"}; {"op": "reap", "pid"}, answered with
    the worker's wait status once it has ended.
    """
    import socket

    control = socket.socket(fileno=int(sys.argv[2]))
    sys.path[:0] = json.loads(sys.argv[3])
    zygote_loop(control)


def zygote_loop(control):
    """Serve spawn and reap requests on ``control`` until the grader closes it."""
    import socket

    die_with_parent()
    try:                                  # orphans of a worker come back here, to be killed
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)        # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass
    preload()
    confinement()                         # loaded once here, while the kit is still visible
    live = set()
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        if not message:
            os._exit(0)                   # the grader went away
        req = json.loads(message)
        if req["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                control.close()
                _forked_worker(fds, req)  # never returns
            for fd in fds:
                os.close(fd)
            live.add(pid)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif req["op"] == "reap":
            _, status = os.waitpid(req["pid"], 0)
            live.discard(req["pid"])
            reap_orphans(keep=live)
            control.sendall(json.dumps({"status": status}).encode())


def _forked_worker(fds, req):
    """In a child of the zygote: become a worker exactly like one started on its own."""
    import signal

    request_fd, response_fd, output_fd = fds
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(req["workdir"])
    os.environ.clear()
    os.environ.update(req["env"])
    die_with_parent()
    applied = confine(req["confine"], (request_fd, response_fd))
    serve(request_fd, response_fd, applied)


def _children_of(pid):
    """PIDs whose parent is ``pid``, read from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces; the fields after the last ')' are fixed.
        if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
            children.append(int(entry))
    return children


def reap_orphans(keep=()):
    """Kill and reap every child of this process not in ``keep``; returns how many.

    Used by the grader (a child subreaper) and by the zygote after each worker:
    killing a stray re-parents its own children here, so repeat until none is left.
    """
    import signal
    import time

    killed = 0
    for _ in range(50):
        strays = [pid for pid in _children_of(os.getpid()) if pid not in keep]
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.02)
    return killed


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "zygote":
        zygote_main()
    else:
        main()
