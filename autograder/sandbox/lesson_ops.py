"""The lesson's operations: what the worker does with student code, one op per request.

Each op looks up the student's functions in the imported submission, calls
them on inputs the grader chose (reseeded first, so every request starts from
the same random state) and returns plain data for the codec. Verdicts are never
computed here: this code runs beside student code, which can rewrite it.

Imports only the standard library (numpy and torch lazily) and its siblings.
"""

import builtins
import functools
import importlib.abc
import importlib.util
import os
import sys
import traceback
import types

from .codec import decode, decode_live, encode
from .probes import load_params, probe_models
from .protocol import KIT_PACKAGES, SUBMISSION_FILE, progress_message
from .standins import Installed

MAX_TRACEBACK_LINES = 12
# This package's folder: its frames are the grader's, never shown in a student's traceback.
_HERE = os.path.dirname(os.path.abspath(__file__))


class ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses the reference and the grader's packages: copying the key earns nothing."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in KIT_PACKAGES:     # the reference and the grader
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
    """The error as plain data, with only the student's frames and the error line: none of this
    package's (the op that called the student, the wrappers that watch the student's functions,
    the probe models' forward)."""
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if os.path.dirname(os.path.abspath(frame.filename)) != _HERE])
    text = "".join(summary.format()).splitlines()
    student = [line for line in text if "_grading_worker" not in line]
    where = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(SUBMISSION_FILE):
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


class LessonOps:
    """The lesson's operations on an imported submission: ``handle(request)`` runs one and
    returns its answer. Reports which student function it enters (``progress``) and
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
        # Bound now, before any submission is imported: one that rewrites this class's ops (it can
        # find the class through sys.modules) changes nothing this instance runs.
        self.ops = {name[len("op_"):]: getattr(self, name) for name in dir(type(self)) if name.startswith("op_")}

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
            self.report(progress_message(name, self.request_id))

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
        # The CPU generator, all torch.manual_seed sets in the CPU build, without also queueing seeds
        # for absent CUDA, XPU and MTIA devices: that formats the whole call stack three times, and
        # every request reseeds (a tenth of a grade's CPU time).
        torch.default_generator.manual_seed(seed)

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
        args = decode_live(req.get("args", []))
        kwargs = decode_live(req.get("kwargs", {}))
        self.reseed(req.get("seed", 0))
        return self.run(fn, *args, **kwargs)

    def layers(self, model):
        """What each of a student model's modules is: type, whether torch's own, and its sizes."""
        layers = []
        for name, module in self.run(model.named_modules):
            layer = {"name": name, "type": type(module).__name__, "torch": type(module).__module__.startswith("torch.nn")}
            for attr in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional", "in_features", "out_features"):
                if hasattr(module, attr) and isinstance(getattr(module, attr), (int, bool)):
                    layer[attr] = getattr(module, attr)
            layers.append(layer)
        return layers

    def op_model(self, req):
        """Build a student model under a seed; report its layers and parameters, then its outputs with
        the weights the grader sent in ``load`` (registration order) when they fit its parameters'
        shapes, else with its own."""
        import torch

        cls = self.student(req["cls"])
        self.reseed(req.get("seed", 0))
        model = self.run(cls, **req.get("init", {}))
        layers = self.layers(model)
        params = [[name, p.detach().clone()] for name, p in self.run(model.named_parameters)]
        load = [decode(p).array for p in req.get("load", [])]
        own = [p for _, p in self.run(model.named_parameters)]
        if load and len(load) == len(own) and all(tuple(p.shape) == a.shape for p, a in zip(own, load)):
            with torch.no_grad():
                for param, array in zip(own, load):
                    param.copy_(torch.from_numpy(array.copy()))
        outputs = []
        self.run(model.eval)
        with torch.no_grad():
            for x in decode_live(req.get("inputs", [])):
                outputs.append(self.run(model, torch.as_tensor(x)))
        return {"layers": layers, "params": params, "outputs": outputs}

    def op_train(self, req):
        """Run the student's train_model on a probe model the grader initialised."""
        import torch
        from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

        ProbeNet, _ = probe_models()
        calls = []
        model = ProbeNet(**req["probe"], calls=calls)
        load_params(model, [decode(p).array for p in req["params"]])
        data = [torch.as_tensor(decode_live(d)) for d in req["data"]]   # X_train, y_train, X_val, y_val
        kwargs = decode_live(req.get("kwargs", {}))
        logs, norms, steps = [], [], []
        if kwargs.pop("capture_log", False):
            kwargs["log"] = lambda line: logs.append(str(line)[:200])
        record_steps = kwargs.pop("record_steps", False)
        started_from = []           # the parameters the step under way started from

        # A step's parameters are read before it, its gradients after it: ``optimizer.step(closure)``
        # computes them inside the step. Adam reads .grad and leaves it, so after the step it holds
        # what the step consumed, clipped or not.
        def before_step(optimizer, args, kw):
            started_from[:] = [[p.detach().clone() for p in model.parameters()]]

        def after_step(optimizer, args, kw):
            grads = [p.grad.detach().reshape(-1) for p in model.parameters() if p.grad is not None]
            norms.append(float(torch.cat(grads).norm()) if grads else 0.0)
            if record_steps and len(steps) < 50 and started_from:
                steps.append({"params": started_from.pop(),
                              "grads": [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                                        for p in model.parameters()]})

        handles = [register_optimizer_step_pre_hook(before_step), register_optimizer_step_post_hook(after_step)]
        self.reseed(req.get("seed", 0))
        try:
            history = self.run(self.student("train_model"), model, *data, **kwargs)
        finally:
            for handle in handles:
                handle.remove()
        calls = calls[:2000]
        with torch.no_grad():            # in the mode train_model left: the grader tells eval from dropout
            after = self.run(model, data[2])     # (n_val, 1); a submission may have replaced its forward
        return {"history": history, "logs": logs, "norms": norms, "steps": steps, "after": after,
                "calls": calls, "params": [p.detach().clone() for p in model.parameters()]}

    def op_predict(self, req):
        """Run the student's predict on a probe model left in training mode."""
        import torch

        ProbeNet, _ = probe_models()
        calls = []
        model = ProbeNet(**req["probe"], calls=calls)
        load_params(model, [decode(p).array for p in req["params"]])
        model.train()
        X = torch.as_tensor(decode_live(req["X"]))
        self.reseed(req.get("seed", 0))
        output = self.run(self.student("predict"), model, X)
        return {"output": output, "calls": calls[:100]}

    def op_prepare(self, req):
        """prepare_data, with the fitted scaler's statistics as plain arrays, and the same steps
        composed from the student's own make_windows and time_split on the series scaled with
        those statistics (so a mistake in those functions is not blamed on the scaler)."""
        import numpy as np

        series = decode_live(req["series"])
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("prepare_data"), series, req["window"], req["frac"])
        if not isinstance(result, (tuple, list)) or len(result) != 5:        # a list of five unpacks alike
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
        window = decode_live(req["window"])
        before = encode(window)                  # a snapshot, to see whether the student changed it
        self.reseed(req.get("seed", 0))
        result = self.run(self.student("rolling_forecast"), model, window, req["steps"])
        unchanged = encode(window) == before
        return {"result": result, "window_unchanged": unchanged, "calls": calls[:400], "n_calls": len(calls)}

    def op_scaler(self, req):
        """Fit the student's Standardizer, then transform and invert what the grader sends.

        With ``chain``, through the object ``fit`` returned, as ``Standardizer().fit(v).transform(w)``
        does: a ``fit`` that does not return the scaler leaves no values (``fit_returned`` says what
        it returned instead), so no flag here says "returns self" for a submission to rewrite."""
        scaler_cls = self.student("Standardizer")
        self.reseed(req.get("seed", 0))
        scaler = self.run(scaler_cls)
        fitted = self.run(scaler.fit, decode_live(req["fit"]))
        out = {"mean": getattr(scaler, "mean_", None), "std": getattr(scaler, "std_", None),
               "transform": [], "inverse": []}
        user = fitted if req.get("chain") else scaler
        if not (callable(getattr(user, "transform", None)) and callable(getattr(user, "inverse_transform", None))):
            return dict(out, transform=None, inverse=None, fit_returned=type(fitted).__name__)
        for values in decode_live(req.get("transform", [])):
            out["transform"].append(self.run(user.transform, values))
        for values in decode_live(req.get("inverse", [])):
            out["inverse"].append(self.run(user.inverse_transform, values))
        return out

    def op_fit(self, req):
        """The student's seeded model and training loop on windows the grader made.

        The trained model stays in this process for ``predict_next``; only its
        training history and validation predictions go back.
        """
        import torch

        data = [torch.as_tensor(decode_live(d)) for d in req["data"]]   # X_train, y_train, X_val, y_val
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
        X = torch.as_tensor(decode_live(req["X"]))
        self.reseed(req.get("seed", 0))
        return self.run(self.student("predict"), self.fitted, X)

    def op_roll(self, req):
        """rolling_forecast from the trained model, for the report's plot only."""
        if self.fitted is None:
            raise StudentError(RuntimeError("no trained model: training failed"))
        self.reseed(req.get("seed", 0))
        return self.run(self.student("rolling_forecast"), self.fitted, decode_live(req["window"]), req["steps"])

    def op_compose_windows(self, req):
        """Exercise 1 as the spec composes it, from the student's own parts: for each size,
        make_windows, time_split(0.8), torch.manual_seed(seed), a fresh LSTMForecaster,
        train_model(..., log=None), and the last row's val_mse; with each size's model's layers."""
        import torch

        series = decode_live(req["series"])
        self.reseed(req.get("seed", 0))
        out, layers = {}, {}
        for size in req["sizes"]:
            X, y = self.run(self.student("make_windows"), series, size)
            X_train, X_val, y_train, y_val = self.run(self.student("time_split"), X, y, 0.8)
            torch.manual_seed(req["model_seed"])
            input_size = int(X.shape[-1]) if getattr(X, "ndim", 0) == 3 else 1
            model = self.run(self.student("LSTMForecaster"), input_size=input_size)
            history = self.run(self.student("train_model"), model, X_train, y_train, X_val, y_val,
                               epochs=req["epochs"], log=None)
            out[size] = history[-1]["val_mse"]
            layers[size] = self.layers(model)
        return {"val_mse": out, "layers": layers}

    def op_answers(self, req):
        """The submission's answers to the exercises' questions: for each name, its value when it is
        None, a bool, an int, a float or a str (a str cut to ``max_chars``, with its full length),
        else only its type's name. Read from the module's namespace: no student code runs."""
        import numpy as np

        out = {}
        namespace = vars(self.module)
        for name in req["names"]:
            if name not in namespace:
                out[name] = {"defined": False}
                continue
            value = namespace[name]
            if type(value) in (np.bool_, np.int64, np.int32):       # numpy's own scalars: plain data
                value = value.item()
            if type(value) is str:
                out[name] = {"defined": True, "value": value[: req["max_chars"]], "length": len(value)}
            elif value is None or type(value) in (bool, int, float):
                out[name] = {"defined": True, "value": value}
            else:
                out[name] = {"defined": True, "type": type(value).__name__[:60]}
        return out

    def op_answer_run(self, req):
        """One training run a question is about, from the student's own parts: make_windows on the
        series sent, time_split(0.8), torch.manual_seed(model_seed), a fresh ``cls``, train_model
        with its defaults (``clip_norm=None`` when ``clip`` is false), predict on the validation
        windows. Returns the history, the predictions and the validation targets."""
        import torch

        series = decode_live(req["series"])
        self.reseed(req.get("seed", 0))
        X, y = self.run(self.student("make_windows"), series, req["window"])
        X_train, X_val, y_train, y_val = self.run(self.student("time_split"), X, y, 0.8)
        torch.manual_seed(req["model_seed"])
        model = self.run(self.student(req["cls"]))
        kwargs = {"log": None} if req["clip"] else {"log": None, "clip_norm": None}
        history = self.run(self.student("train_model"), model, X_train, y_train, X_val, y_val, **kwargs)
        val_pred = self.run(self.student("predict"), model, X_val)
        return {"history": history, "val_pred": val_pred, "y_val": y_val}

    def op_ping(self, req):
        return "pong"

    def handle(self, req):
        op = self.ops.get(str(req.get("op")))
        if op is None:
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {req.get('op')!r}"}}
        self.request_id, self.current, self.entered, self.reported = req.get("id"), None, [], None
        self.refused = frozenset(str(name) for name in req.get("refuse", ()))
        try:
            if req.get("stand_ins") and self.module is not None:
                with Installed(self.module, req["stand_ins"]):     # the reference's step for a part that raised
                    return {"ok": True, "value": encode(op(req))}
            return {"ok": True, "value": encode(op(req))}
        except KnownHang as hang:
            return {"ok": False, "known_hang": hang.name}
        except StudentError as err:
            return {"ok": False, "error": err.info}
        except Exception as exc:          # noqa: BLE001  (anything else is still the submission's doing)
            return {"ok": False, "error": describe_exception(exc)}
