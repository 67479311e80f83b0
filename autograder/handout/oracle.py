"""The reference as checks see it: the live module, or its answers recorded at release time.

Checks ask ``ctx.reference.<fn>(...)`` for the reference's results. In the
full kit that is ``solutions.sequence_modeling`` itself. The student hand-out
(``autograder release``) ships no reference: there ``ctx.reference`` is a
``ReplayOracle`` with the same attribute names, answering from a table that a
``RecordingOracle`` filled by running every check-mode item against the
reference on public data. Nothing here knows which checks exist, so a check
that makes a new ``ctx.reference.<fn>(arrays, numbers, Modules, kwargs)`` call
needs no change here, only a new release.

A call's key is a hash of the function name and a canonical form of its
arguments: arrays and tensors by kind, dtype, shape and bytes; ``nn.Module``
arguments by structure (``repr``), training flags and state_dict; callables by
position only; and torch's RNG state at call time, but only when the
recording saw the answer depend on it. Besides the return value, a recorded
call keeps what it did to the grader's world, which a replay repeats in order:
calls made to callable arguments (a ``log``), optimizer steps on a Module
argument's parameters (so global optimizer step hooks fire and see the same
gradients), the final state of every Module argument, and the RNG state after.

Grader-side work on the reference's classes (the lesson's forecaster, trained or
not) goes through ``derived(ctx.reference, "module:function", ...)``: the
function runs on the live reference, and its plain-data answer is recorded and
replayed like a reference call, so the hand-out ships the numbers, not a model.

A replay that finds no answer raises ``OracleMiss``: the item then reads
"GRADER ERROR: the self-check has no recorded answer for ...", never a verdict.
"""

import base64
import gzip
import hashlib
import json
from pathlib import Path

from autograder.sandbox import codec

ANSWERS_FILE = Path(__file__).parents[1] / "check_answers.json.gz"
FORMAT = 2                # 2: the values in codec.py's forms (1 had a codec of its own)
_PERTURBED_SEEDS = (0x5EED_0ACE, 0x0DD_5EED)      # incoming RNG states that reveal an RNG-dependent answer


class OracleError(Exception):
    """A reference call that cannot be recorded or replayed (a grader bug, named plainly)."""


class OracleMiss(OracleError):
    """The self-check has no recorded answer for this call."""


def is_release():
    """True inside the student hand-out: answers are shipped, the reference is not."""
    return ANSWERS_FILE.is_file()


def load_reference(mode):
    """What ``ctx.reference`` is for a grading run in ``mode`` ("grade" or "check")."""
    if is_release():
        if mode != "check":
            raise OracleError("this is the student self-check: it can only run `autograder check`")
        return ReplayOracle.load(ANSWERS_FILE)
    import solutions.sequence_modeling as reference

    return reference


# --- plain-data forms (autograder/sandbox/codec.py, by its exact rule) ----------------------

def encode(value, where="value"):
    """Plain JSON data for ``value``, exact (floats by repr, arrays by bytes); OracleError for
    what the self-check cannot ship."""
    try:
        return codec.encode(value, exact=True, where=where)
    except codec.CodecError as exc:
        raise OracleError(f"{exc}: the self-check records answers as data, so build models and "
                          "other objects with behaviour grader-side") from None


def decode(form):
    """Inverse of ``encode``: numpy arrays, tensors, numpy scalars, ``codec.RecordedObject``."""
    return codec.decode_live(form)


def _is_module(value):
    import torch

    return isinstance(value, torch.nn.Module)


def _module_form(module):
    return {"module": type(module).__name__, "repr": repr(module),
            "training": [m.training for m in module.modules()],
            "state": [[name, encode(t, f"{type(module).__name__}.{name}")]
                      for name, t in module.state_dict().items()]}


# --- keys ------------------------------------------------------------------------------------

def _slots(args, kwargs):
    """(slot, value) for every argument: ("a", i) positional, ("k", name) keyword."""
    return [(("a", i), v) for i, v in enumerate(args)] + [(("k", k), v) for k, v in sorted(kwargs.items())]


def _slot_name(slot):
    return f"{slot[0]}:{slot[1]}"


def _key_form(value, where):
    if _is_module(value):
        return _module_form(value)
    if callable(value) and not isinstance(value, type):
        return {"callable": True}
    return encode(value, where)


def call_key(name, args, kwargs, rng_state=None):
    """The canonical hash of one reference call (and the RNG state, when the answer depends on it)."""
    form = [name, [[_slot_name(s), _key_form(v, f"{name} argument {_slot_name(s)}")] for s, v in _slots(args, kwargs)]]
    digest = hashlib.sha256(json.dumps(form, sort_keys=True, separators=(",", ":")).encode())
    if rng_state is not None:
        digest.update(b"rng:" + rng_state.numpy().tobytes())
    return digest.hexdigest()


def describe_call(name, args, kwargs):
    """A short human form of a call for error messages."""
    import numpy as np
    import torch

    def short(v):
        if isinstance(v, torch.Tensor):
            return f"tensor{tuple(v.shape)}"
        if isinstance(v, np.ndarray):
            return f"array{v.shape}"
        if _is_module(v):
            return type(v).__name__
        if callable(v):
            return "<function>"
        text = repr(v)
        return text if len(text) <= 30 else text[:27] + "..."

    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# --- what a call does besides returning -------------------------------------------------------

def _module_slots(args, kwargs):
    return [(s, v) for s, v in _slots(args, kwargs) if _is_module(v)]


def _snapshot(modules):
    """The restorable state of Module arguments: state_dict copies and training flags."""
    return [(m, {k: t.detach().clone() for k, t in m.state_dict().items()}, [x.training for x in m.modules()])
            for _, m in modules]


def _restore(snapshot):
    import torch

    with torch.no_grad():
        for module, state, flags in snapshot:
            module.load_state_dict(state)
            for sub, flag in zip(module.modules(), flags):
                sub.training = flag


class _Suppressed:
    """Within ``with``: the grader's global optimizer hooks do not fire (runs it must not see)."""

    def __enter__(self):
        from torch.optim import optimizer

        self.saved = [(hooks, dict(hooks)) for hooks in
                      (optimizer._global_optimizer_pre_hooks, optimizer._global_optimizer_post_hooks)]
        for hooks, _ in self.saved:
            hooks.clear()

    def __exit__(self, *exc):
        for hooks, saved in self.saved:
            hooks.clear()
            hooks.update(saved)


def _execute(fn, name, args, kwargs, live):
    """Call ``fn``; return (result form, events, module states after, RNG state after, exception).

    An exception the reference raises is an answer too: its form names its type
    and message, and the exception itself comes back last (else None).

    ``live``: the grader's callables and optimizer hooks see this run (the one
    run whose effects the grader keeps); otherwise they are kept out of it.
    """
    import contextlib

    import torch
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    events = []
    modules = _module_slots(args, kwargs)
    module_params = {id(p) for _, m in modules for p in m.parameters()}

    def wrap(slot, target):
        def recorder(*a, **k):
            events.append({"call": _slot_name(slot), "args": encode(list(a), "a logged value"),
                           "kwargs": encode(k, "a logged value")})
            return target(*a, **k) if live else None
        return recorder

    call_args, call_kwargs = list(args), dict(kwargs)
    for slot, value in _slots(args, kwargs):
        if callable(value) and not _is_module(value) and not isinstance(value, type):
            if slot[0] == "a":
                call_args[slot[1]] = wrap(slot, value)
            else:
                call_kwargs[slot[1]] = wrap(slot, value)

    def record_step(optimizer, a, k):
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if not modules or not any(id(p) in module_params for p in params):
            return
        hyper = {key: encode(v) for key, v in optimizer.param_groups[0].items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)}      # lr, eps, weight_decay...
        events.append({"step": {_slot_name(slot): {
            "grads": [None if p.grad is None else encode(p.grad, "a gradient") for p in m.parameters()],
            "params": [encode(p, "a parameter") for p in m.parameters()]} for slot, m in modules}, "hyper": hyper})

    guard = contextlib.nullcontext() if live else _Suppressed()
    raised = None
    with guard:
        handle = register_optimizer_step_pre_hook(record_step)
        try:
            result = fn(*call_args, **call_kwargs)
        except Exception as exc:          # noqa: BLE001  (recorded, then raised again to the caller)
            raised = exc
        finally:
            handle.remove()
    form = {"raises": [type(raised).__name__, str(raised)]} if raised else encode(result, f"the result of {name}")
    after = {_slot_name(slot): _module_form(m) for slot, m in modules}
    return form, events, after, torch.get_rng_state(), raised


class RecordingOracle:
    """The live reference, recording every answer (and its effects) into ``table``.

    ``variants`` maps a function name to (keyword, values): the answer is also
    recorded with that keyword set to each value, for calls whose arguments a
    submission decides (grad_clipping reruns the reference for as many epochs
    as the student's loop took steps).
    """

    def __init__(self, reference, variants=None):
        self._reference = reference
        self._variants = variants or {}
        self.table = {"format": FORMAT, "calls": {}, "attrs": {}}

    def __getattr__(self, name):
        value = getattr(self._reference, name)
        if isinstance(value, type):
            raise OracleError(f"ctx.reference.{name} is a class: use it in a function called through "
                              "oracle.derived, the self-check cannot ship the reference's classes")
        if not callable(value):
            self.table["attrs"][name] = encode(value, f"reference.{name}")
            return value

        def recorded(*args, **kwargs):
            return self._record(name, value, args, kwargs)
        return recorded

    def _record(self, name, fn, args, kwargs):
        import numpy as np
        import torch

        np_state = np.random.get_state()[1].copy()
        rng0 = torch.get_rng_state()
        before = _snapshot(_module_slots(args, kwargs))
        key, raised = self._record_one(name, fn, args, kwargs, rng0, before, live=True)
        after_live = (_snapshot(_module_slots(args, kwargs)), torch.get_rng_state())
        option = self._variants.get(name)
        if option and option[0] in kwargs:
            keyword, values = option
            for value in values:
                if value != kwargs[keyword]:
                    _restore(before)
                    self._record_one(name, fn, args, dict(kwargs, **{keyword: value}), rng0, before, live=False)
            _restore(after_live[0])
            torch.set_rng_state(after_live[1])
        if not np.array_equal(np_state, np.random.get_state()[1]):
            raise OracleError(f"reference.{name} uses numpy's global random state: its answers cannot be recorded")
        if raised is not None:
            raise raised
        # The grader gets the answer as a replay would give it, so recording and replay grade alike.
        return decode(self.table["calls"][key]["result"])

    def _record_one(self, name, fn, args, kwargs, rng0, before, live):
        import torch

        keys = {False: call_key(name, args, kwargs), True: call_key(name, args, kwargs, rng0)}   # before any run
        # First a run from another RNG state, kept from the grader; then the run that counts.
        torch.manual_seed(_PERTURBED_SEEDS[0])
        if torch.equal(torch.get_rng_state(), rng0):
            torch.manual_seed(_PERTURBED_SEEDS[1])
        probe_rng = torch.get_rng_state()
        probe = _execute(fn, name, args, kwargs, live=False)
        _restore(before)
        torch.set_rng_state(rng0)
        real = _execute(fn, name, args, kwargs, live=live)
        untouched = torch.equal(real[3], rng0) and torch.equal(probe[3], probe_rng)
        independent = probe[:3] == real[:3] and (untouched or torch.equal(probe[3], real[3]))
        key = keys[not independent]
        self.table["calls"][key] = {
            "call": describe_call(name, args, kwargs), "result": real[0], "events": real[1], "modules": real[2],
            "rng_after": None if untouched else base64.b64encode(real[3].numpy().tobytes()).decode("ascii"),
        }
        return key, real[4]

    def derived(self, function, args):
        """Run and record ``derived(reference, function, *args)`` (a function of plain data that leaves
        torch's RNG as it found it)."""
        import torch

        name, fn = f"derived:{function}", _derived_function(self._reference, function)
        rng0 = torch.get_rng_state()
        form, _, _, rng_after, raised = _execute(fn, name, args, {}, live=True)
        if not torch.equal(rng_after, rng0):
            raise OracleError(f"{name} changed torch's global RNG state: run it under torch.random.fork_rng")
        self.table["calls"][call_key(name, args, {})] = {
            "call": describe_call(name, args, {}), "result": form, "events": [], "modules": {}, "rng_after": None}
        if raised is not None:
            raise raised
        return decode(form)

    def save(self, path):
        """Write the table as gzipped JSON (fixed mtime: the same answers, the same bytes)."""
        data = json.dumps(self.table, sort_keys=True, separators=(",", ":")).encode()
        Path(path).write_bytes(gzip.compress(data, mtime=0))
        return path


class _ReplayStep:
    """An optimizer whose step changes nothing: stepping it fires the global step hooks."""

    _cls = None

    @classmethod
    def make(cls, params, hyper):
        import torch

        if cls._cls is None:
            class ReplayedStep(torch.optim.Optimizer):
                def __init__(self, params, defaults):
                    super().__init__(params, defaults)

                def step(self, closure=None):
                    return None
            cls._cls = ReplayedStep
        return cls._cls(params, hyper)


def _rebuilt_exception(name, type_name, message):
    """The exception the reference raised: the same built-in type and message."""
    import builtins

    cls = getattr(builtins, type_name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return OracleError(f"reference.{name} raised {type_name}: {message}")


class ReplayOracle:
    """Answers reference calls from a recorded table; same attribute names as the reference."""

    def __init__(self, table):
        if table.get("format") != FORMAT:
            raise OracleError("the self-check's recorded answers have an unknown format: reinstall the hand-out")
        self._calls = table["calls"]
        self._attrs = table.get("attrs", {})

    @classmethod
    def load(cls, path):
        return cls(json.loads(gzip.decompress(Path(path).read_bytes())))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._attrs:
            return decode(self._attrs[name])

        def replayed(*args, **kwargs):
            return self._replay(name, args, kwargs)
        replayed.__name__ = name
        return replayed

    def derived(self, function, args):
        """The recorded answer of ``derived(reference, function, *args)``."""
        return self._replay(f"derived:{function}", args, {})

    def _replay(self, name, args, kwargs):
        import torch

        entry = self._calls.get(call_key(name, args, kwargs))
        if entry is None:
            entry = self._calls.get(call_key(name, args, kwargs, torch.get_rng_state()))
        if entry is None:
            raise OracleMiss(f"GRADER ERROR: the self-check has no recorded answer for "
                             f"{describe_call(name, args, kwargs)}; your code led the check to an input it "
                             "cannot replay. The full grader judges it; tell your instructor if this persists")
        slots = dict((_slot_name(s), v) for s, v in _slots(args, kwargs))
        for event in entry["events"]:
            if "call" in event:
                slots[event["call"]](*decode(event["args"]), **decode(event["kwargs"]))
            else:
                self._replay_step(slots, event)
        with torch.no_grad():
            for slot, form in entry["modules"].items():
                module = slots[slot]
                module.load_state_dict({k: decode(t) for k, t in form["state"]})
                for sub, flag in zip(module.modules(), form["training"]):
                    sub.training = flag
        if entry["rng_after"] is not None:
            torch.set_rng_state(torch.frombuffer(bytearray(base64.b64decode(entry["rng_after"])), dtype=torch.uint8))
        if isinstance(entry["result"], dict) and "raises" in entry["result"]:
            raise _rebuilt_exception(name, *entry["result"]["raises"])
        return decode(entry["result"])

    @staticmethod
    def _replay_step(slots, event):
        import torch

        params = []
        with torch.no_grad():
            for slot, recorded in event["step"].items():
                module_params = list(slots[slot].parameters())
                for p, value, grad in zip(module_params, recorded["params"], recorded["grads"]):
                    p.copy_(decode(value))
                    p.grad = None if grad is None else decode(grad)
                params += module_params
        _ReplayStep.make(params, {k: decode(v) for k, v in event["hyper"].items()}).step()


def derived(reference, function, *args):
    """``function(reference module, *args)``, answered like a reference call.

    ``function`` is "module:name" (autograder/forecasters.py), imported only where
    the reference is live: run as is in the full kit, recorded by a release
    (``RecordingOracle.derived``), replayed in the hand-out (``ReplayOracle.derived``),
    which does not ship the module. Its arguments and answer are plain data, and it
    must leave torch's global RNG as it found it.
    """
    import types

    if isinstance(reference, types.ModuleType):
        return _derived_function(reference, function)(*args)
    return reference.derived(function, args)


def _derived_function(module, function):
    import functools
    import importlib

    where, name = function.split(":")
    return functools.partial(getattr(importlib.import_module(where), name), module)
