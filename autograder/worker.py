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
SAFE_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
MAX_TRACEBACK_LINES = 12


# --- the codec (used by both processes) ------------------------------------

def encode(value, depth=0):
    """Plain-data form of a student's return value, JSON-serialisable."""
    import numpy as np

    if depth > 20:
        return {"__repr__": "too deeply nested"}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"__float__": repr(value)}        # keeps nan and inf exact
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).replace("torch.", "")
        if dtype not in SAFE_DTYPES:             # bfloat16 and friends: send float64, report the real dtype
            tensor = tensor.double()
        return _encode_array("tensor", dtype, tensor.contiguous().numpy())
    if isinstance(value, np.ndarray):
        array = value if value.dtype.name in SAFE_DTYPES else value.astype(np.float64)
        return _encode_array("ndarray", value.dtype.name, np.ascontiguousarray(array))
    if isinstance(value, np.generic):
        return encode(value.item(), depth + 1)
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
    """A decoded array: ``kind`` is "tensor" or "ndarray", ``dtype`` what the student used."""

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
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["__dict__"]}
    if "__array__" in value:
        data_dtype = value["data_dtype"]
        if data_dtype not in SAFE_DTYPES or value["__array__"] not in ("tensor", "ndarray"):
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


class Unencodable:
    """Stands for a returned object that is not plain data (a module, a function...)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def encode_input(array, kind="ndarray"):
    """An input the grader sends: a numpy array to arrive as ``kind`` (ndarray, tensor, list)."""
    import numpy as np

    array = np.ascontiguousarray(array)
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

def _torch_modules():
    import torch
    from torch import nn

    class ProbeNet(nn.Module):
        """A small forecaster for checking ``train_model``: dropout makes train and
        eval mode give different outputs, and every forward call is recorded."""

        def __init__(self, input_size=1, hidden_size=6, dropout=0.25):
            super().__init__()
            self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
            self.drop = nn.Dropout(dropout)
            self.fc = nn.Linear(hidden_size, 1)
            self.calls = []

        def forward(self, x):
            self.calls.append({"training": self.training, "grad": torch.is_grad_enabled(),
                               "rows": int(x.shape[0])})
            out, _ = self.lstm(x)                             # (batch, seq_len, hidden)
            return self.fc(self.drop(out[:, -1, :]))          # (batch, 1)

    class StubForecaster(nn.Module):
        """A model with a closed-form rule, for checking rolling forecasts.

        rule "last_plus": next = last + step; "first": next = the window's first
        value; "mean": next = the window's mean. Records every input it sees.
        """

        def __init__(self, rule, step=1.0):
            super().__init__()
            self.rule, self.step = rule, step
            self.anchor = nn.Parameter(torch.zeros(1))
            self.calls = []

        def forward(self, x):
            self.calls.append({"training": self.training, "grad": torch.is_grad_enabled(),
                               "shape": list(x.shape), "input": x.detach().clone().reshape(-1).tolist()})
            if self.rule == "last_plus":
                out = x[:, -1, :1] + self.step
            elif self.rule == "first":
                out = x[:, 0, :1]
            else:
                out = x[:, :, :1].mean(dim=1)
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
        "is_value_error": isinstance(exc, builtins.ValueError),
        "not_implemented": isinstance(exc, builtins.NotImplementedError),
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
        model = ProbeNet(**req["probe"])
        load_params(model, [decode(p).array for p in req["params"]])
        data = [torch.as_tensor(decode_input(d)) for d in req["data"]]   # X_train, y_train, X_val, y_val
        kwargs = decode_input(req.get("kwargs", {}))
        logs, norms = [], []
        if kwargs.pop("capture_log", False):
            kwargs["log"] = lambda line: logs.append(str(line)[:200])

        def record_norm(optimizer, args, kw):
            grads = [p.grad.detach().reshape(-1) for p in model.parameters() if p.grad is not None]
            norms.append(float(torch.cat(grads).norm()) if grads else 0.0)

        handle = register_optimizer_step_pre_hook(record_norm)
        self.reseed(req.get("seed", 0))
        try:
            history = self.run(self.student("train_model"), model, *data, **kwargs)
        finally:
            handle.remove()
        return {"history": history, "logs": logs, "norms": norms, "training_after": model.training,
                "calls": model.calls, "params": [p.detach().clone() for p in model.parameters()]}

    def op_predict(self, req):
        """Run the student's predict on a probe model left in training mode."""
        import torch

        ProbeNet, _ = probe_models()
        model = ProbeNet(**req["probe"])
        load_params(model, [decode(p).array for p in req["params"]])
        model.train()
        X = torch.as_tensor(decode_input(req["X"]))
        self.reseed(req.get("seed", 0))
        output = self.run(self.student("predict"), model, X)
        return {"output": output, "calls": model.calls, "training_after": model.training}

    def op_prepare(self, req):
        """prepare_data, with the fitted scaler's statistics as plain arrays."""
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("prepare_data"), decode_input(req["series"]), req["window"], req["frac"])
        if not isinstance(result, tuple) or len(result) != 5:
            return {"shape_error": f"prepare_data returned {type(result).__name__}, expected a 5-tuple"}
        *arrays, scaler = result
        return {"arrays": list(arrays), "mean": getattr(scaler, "mean_", None), "std": getattr(scaler, "std_", None)}

    def op_rolling(self, req):
        """Run the student's rolling_forecast against a stub model with a known rule."""
        _, StubForecaster = probe_models()
        model = StubForecaster(**req["stub"])
        model.train()
        window = decode_input(req["window"])
        before = encode(window)                  # a snapshot, to see whether the student changed it
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("rolling_forecast"), model, window, req["steps"])
        unchanged = encode(window) == before
        return {"result": result, "window_unchanged": unchanged, "calls": model.calls[:400],
                "n_calls": len(model.calls), "training_after": model.training}

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

    def op_pipeline(self, req):
        """The student's whole workflow on a series: windows, split, seeded model, training."""
        import torch

        series = decode_input(req["series"])
        self.reseed(req.get("seed", 0))
        X, y = self.run(self.student("make_windows"), series, req["window"])
        X_train, X_val, y_train, y_val = self.run(self.student("time_split"), X, y, req["frac"])
        torch.manual_seed(req["seed"])
        model = self.run(self.student(req.get("cls", "LSTMForecaster")), **req.get("init", {}))
        history = self.run(self.student("train_model"), model, X_train, y_train, X_val, y_val, log=None)
        val_pred = self.run(self.student("predict"), model, X_val)
        out = {"history": history, "val_pred": val_pred, "X_val": X_val, "y_val": y_val}
        if req.get("rolling_steps"):
            try:
                window = torch.as_tensor(X_val)[0, :, 0].clone()
                out["rolling"] = self.run(self.student("rolling_forecast"), model, window, req["rolling_steps"])
            except StudentError:
                out["rolling"] = None
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


def confine(config, keep_fds):
    """Limits the submission cannot lift: applied before any student code runs.

    Address space and file size are capped; core dumps are off. As root, the
    worker moves into its own mount and PID namespaces: the kit's folders (the
    reference, the grader) lie under an empty read-only tmpfs, the root file
    system is read-only except the worker's own folder, /proc shows only the
    worker's processes, and when the worker (PID 1 there) dies, everything it
    started dies with it. Then the uid drops, where configured. None of it can
    be undone from inside. Returns what was applied.
    """
    import resource

    applied = []
    resource.setrlimit(resource.RLIMIT_AS, (config["memory_bytes"], config["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_bytes"], config["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    applied.append("rlimits")
    if os.geteuid() == 0 and config.get("namespaces", True):
        applied += _enter_namespaces(config, keep_fds)
    if os.geteuid() == 0 and config.get("run_as"):
        uid, gid = config["run_as"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        applied.append(f"uid:{uid}")
    return applied


def _enter_namespaces(config, keep_fds):
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
    MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x20, 0x1000, 0x4000, 0x40000
    if libc.unshare(CLONE_NEWNS | CLONE_NEWPID) != 0:
        return []                                   # not permitted here: rlimits only
    applied = ["namespaces"]
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    workdir = os.getcwd().encode()
    libc.mount(workdir, workdir, None, MS_BIND, None)        # stays writable below
    for folder in config.get("hide", []):
        if libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_RDONLY, b"size=4k") == 0:
            applied.append("hidden:" + folder)
    if libc.mount(b"none", b"/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) == 0:
        applied.append("read-only root")

    child = os.fork()                               # the child is PID 1 of the new namespace
    if child:
        for fd in keep_fds:
            os.close(fd)
        _, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status):                  # die the same way, so the grader can say why
            sig = os.WTERMSIG(status)
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
    die_with_parent()                               # reset by fork: PID 1 here dies with its parent
    libc.mount(b"proc", b"/proc", b"proc", 0, None)
    return applied


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
