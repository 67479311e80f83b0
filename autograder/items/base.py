"""What every check uses: calling the worker, Hypothesis settings, criterion scoring.

A check gets an ``ItemContext`` and returns an ``Outcome``. It asks the worker
for the student's results on inputs it chose, computes the reference's results
here in the grader, and compares them here. A hang, the grade's budget or a lost
worker is not its business: the worker handle (``engine.Session``) stops the item
and the engine reports it, and a measurement that may be cut short asks
``ctx.session.attempt`` for why instead. An item is made of named
criteria; its score is the share of them that pass, and its feedback leads
with the most specific failure (a property's smallest example before a broad
"equals the reference") and lists every failing criterion.
"""

import re
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from autograder.sandbox.codec import Array, decode, encode_input


class Unmet(AssertionError):
    """A criterion failed; the message is feedback a student can act on."""


class GraderWords(Unmet):
    """A failure told in the grader's words alone: its text holds nothing the student's code made
    (no value, type name or message of its own). The only failure a quiet Criteria shows."""


# What a quiet item (one that hands student code held-out data) says in place of anything its code made.
HELD_OUT_QUIET = " (nothing your code printed, raised or returned after it received held-out data is shown)"


class StudentRaised(Exception):
    """The student's code raised; ``info`` is the worker's plain description."""

    def __init__(self, call, info, line_map=None):
        self.call, self.info, self.line_map = call, info, line_map
        super().__init__(f"{call} raised {info.get('type')}: {info.get('message')}")

    @property
    def not_implemented(self):
        return bool(self.info.get("not_implemented"))


class NotImplementedYet(Exception):
    """The function is still the stub."""


@dataclass
class Outcome:
    score: float                    # share of the item's points, 0..1
    feedback: str                   # the one line a student reads first
    details: list = field(default_factory=list)
    artifacts: dict = field(default_factory=dict)


def arg(array, kind="ndarray"):
    """An array input, delivered to the student as an ndarray, a tensor or a list."""
    return encode_input(np.asarray(array), kind)


class ItemContext:
    """What a check may use. ``session`` talks to the worker; ``reference`` is the oracle."""

    def __init__(self, session, item, rubric, mode, reference, plan=None):
        self.session, self.item, self.rubric, self.mode, self.reference = session, item, rubric, mode, reference
        self.plan = plan                      # seedplan: which drawn series this seed grades on
        self.settings = item.settings         # the item's numbers: a frozen dataclass (items/registry.py)
        self.seed = rubric.hidden_seed if mode == "grade" else rubric.public_seed
        self.data = "unseen" if mode == "grade" else "public"      # how feedback names generated data
        self.examples = rubric.hypothesis["grade_examples" if mode == "grade" else "check_examples"]
        self.stand_ins = None                 # the reference's steps in place of student parts (items/standins.py)

    def rng(self, stream=""):
        from autograder.hidden import item_rng
        return item_rng(self.seed, self.item.id, stream)

    def op(self, op, **payload):
        """Run a worker op; raise StudentRaised when student code raised."""
        if self.stand_ins:
            payload = dict(payload, stand_ins=self.stand_ins)
        answer = self.session.request(op, payload)
        if not answer.get("ok"):
            info = answer.get("error") or {}
            label = payload.get("fn") or payload.get("cls") or info.get("where") or op
            if info.get("not_implemented") and info.get("where"):
                label = info["where"].replace(".__init__", "")
            raise StudentRaised(label, info, getattr(self.session, "line_map", None))
        try:
            return decode(answer["value"])
        except (ValueError, TypeError, KeyError, RecursionError) as bad:
            raise Unmet(f"the submission's process sent an answer that cannot be read ({bad}); "
                        "was the grading worker tampered with?") from None

    def call(self, fn, *args, **kwargs):
        return self.op("call", fn=fn, args=list(args), kwargs=kwargs, seed=self.worker_seed)

    @property
    def worker_seed(self):
        """The seed the worker reseeds its RNGs with before a call: drawn from the item's generator,
        so it says nothing about the hidden seed (``seed % 10_000`` gave away its last digits)."""
        return int(self.rng("worker").integers(0, 10_000))

    def hypothesis(self, examples=None):
        return settings(max_examples=examples or self.examples, derandomize=True, database=None,
                        deadline=None, suppress_health_check=list(HealthCheck), print_blob=False,
                        report_multiple_bugs=False,
                        phases=[Phase.explicit, Phase.generate, Phase.shrink])


def count_text(passed, total):
    """ "the check passed", "all 3 checks passed", "1 of 3 checks passed", "0 of 1 check passed"."""
    if total and passed == total:
        return "the check passed" if total == 1 else f"all {total} checks passed"
    return f"{passed} of {total} check{'' if total == 1 else 's'} passed"


# Sub-check priorities: the failure a student reads first is the most specific one.
SPECIFIC, BROAD = 1, 0          # a property's smallest example; a comparison with the reference


class Criteria:
    """Named criteria of one item; the score is the passed share.

    A ``quiet`` item's student code holds data its verdict is measured on: its failures show only
    ``GraderWords``; a student's exception or any other failure (whose text may quote the student's
    values) is reported in fixed words.
    """

    def __init__(self, quiet=False):
        self.results = []           # (name, passed, message, priority)
        self.artifacts = {}
        self.quiet = quiet
        self.notes = []             # what the grader did differently, said after the verdict

    def note(self, text):
        """A sentence the feedback adds after its first line (once, however often it is noted)."""
        if text not in self.notes:
            self.notes.append(text)

    def run(self, name, fn, *args, priority=BROAD):
        """Run ``fn``; Unmet or a student error fails this criterion only.

        ``priority`` orders the failures in the feedback: higher first, then in run order.
        """
        try:
            fn(*args)
        except NotImplementedYet:
            raise
        except StudentRaised as exc:
            if exc.not_implemented:
                raise NotImplementedYet(exc.call) from None
            text = "your code raised an exception" + HELD_OUT_QUIET if self.quiet else student_error_text(exc)
            self.results.append((name, False, text, priority))
            return False
        except Unmet as exc:
            quoted = self.quiet and not isinstance(exc, GraderWords)
            text = "your code's answer is not one the grader can use" + HELD_OUT_QUIET if quoted else str(exc)
            self.results.append((name, False, text, priority))
            return False
        self.results.append((name, True, "", priority))
        return True

    def prop(self, ctx, name, strategy, body, examples=None, priority=SPECIFIC):
        """A Hypothesis property as one criterion: ``body(example)`` raises Unmet.

        Its failure comes with the smallest example found, so it leads the feedback by default.
        """
        def wrapped(example):
            try:
                body(example)
            except StudentRaised as exc:
                if exc.not_implemented:
                    raise NotImplementedYet(exc.call) from None
                raise Unmet(f"{student_error_text(exc)} (on {describe_example(example)})") from None

        test = ctx.hypothesis(examples)(given(strategy)(wrapped))
        return self.run(name, test, priority=priority)

    def outcome(self):
        """Score, the one line read first (the most specific failure), and every failure in that order."""
        passed = sum(ok for _, ok, _, _ in self.results)
        total = len(self.results)
        failing = [(-priority, order, f"{name}: {message}")
                   for order, (name, ok, message, priority) in enumerate(self.results) if not ok]
        failures = [text for _, _, text in sorted(failing)]
        notes = "".join(f" Note: {text}." for text in self.notes)
        if not failures:
            return Outcome(1.0, count_text(passed, total) + ("." + notes if notes else ""), [], self.artifacts)
        summary = f"{count_text(passed, total)}. {failures[0]}"
        if notes:
            summary = summary.rstrip(".") + "." + notes
        return Outcome(passed / total if total else 0.0, summary, failures, self.artifacts)


def student_error_text(exc):
    """'fn raised Type: message (where)'; in a notebook, 'where' is a cell and a line of it."""
    info = exc.info
    text = f"{exc.call} raised {info.get('type', 'an error')}: {info.get('message', '')}".rstrip(": ")
    tb = (info.get("traceback") or "").strip().splitlines()
    where = [line.strip() for line in tb if line.strip().startswith('File "') and "submission" in line]
    if where:
        # The worker's folder is a fresh temporary one: name the file alone, so feedback is the same every run.
        text += " (" + re.sub(r'File "[^"]*/', 'File "', where[-1]) + ")"
    return exc.line_map.translate(text) if exc.line_map is not None else text


def describe_example(example):
    """A short, readable form of a Hypothesis example for feedback."""
    def short(v):
        if isinstance(v, np.ndarray):
            flat = v.reshape(-1)
            body = np.array2string(flat[:8], precision=3, separator=", ")
            return f"array{v.shape} {body[:-1]}{', ...]' if flat.size > 8 else ']'}"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}={short(x)}" for k, x in v.items()) + "}"
        return repr(v)
    return short(example)


# --- comparing a student's value with the reference --------------------------
#
# Every verdict reads "accept if finite and within", never "reject if beyond": NaN compares
# false with everything, so ``if value > limit: fail`` passes a NaN (and ``abs(inf - inf)`` is NaN).

def finite(*values):
    """True when every value (numbers or arrays) is a real number, neither NaN nor infinite."""
    try:
        return all(bool(np.all(np.isfinite(np.asarray(v, dtype=np.float64)))) for v in values)
    except (TypeError, ValueError):
        return False


def within(value, limit):
    """True only for a finite ``value`` at most ``limit``."""
    return finite(value) and float(value) <= limit


def near(value, target, tol):
    """True only for a finite ``value`` within ``tol`` of ``target``."""
    return finite(value) and abs(float(value) - float(target)) <= tol


def need_array(value, what, kind=None, dtype=None, shape=None):
    """The value as a numpy array, after checking it is an array of the right kind, dtype, shape."""
    if not isinstance(value, Array):
        got = type(value).__name__ if not hasattr(value, "type_name") else value.type_name
        raise Unmet(f"{what} should be a {'torch tensor' if kind == 'tensor' else 'array'}, got {got}")
    if kind == "tensor" and value.kind != "tensor":
        raise Unmet(f"{what} should be a torch tensor, got a numpy array (use torch.tensor(...))")
    if dtype and value.dtype != dtype:
        raise Unmet(f"{what} should be {dtype}, got {value.dtype} (pass dtype=torch.{dtype})")
    if shape is not None and value.shape != tuple(shape):
        raise Unmet(f"{what} should have shape {tuple(shape)}, got {value.shape}")
    return value.array


def need_close(actual, expected, what, rtol=1e-5, atol=1e-6):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise Unmet(f"{what} should have shape {expected.shape}, got {actual.shape}")
    if not np.all(np.isfinite(actual)):
        raise Unmet(f"{what} contains NaN or inf")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        index = np.unravel_index(np.argmax(np.abs(actual - expected)), actual.shape) if actual.size else ()
        raise Unmet(f"{what}{[int(i) for i in index] if index else ''} should be "
                    f"{expected[index]:.6g}, got {actual[index]:.6g}")


def need_number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float, Array)):
        raise Unmet(f"{what} should be a number, got {type(value).__name__}")
    if isinstance(value, Array):
        if value.array.size != 1:
            raise Unmet(f"{what} should be a single number, got an array of shape {value.shape}")
        return float(value.array.reshape(-1)[0])
    return float(value)


def need_float(value, what):
    """A Python float, as the spec's ``-> float`` promises (np.float64 is one; a tensor is not)."""
    if isinstance(value, float):
        return value
    if isinstance(value, Array) and value.kind == "scalar" and value.dtype == "float64":
        return float(value.array)
    if isinstance(value, Array):
        kind = {"tensor": "a tensor", "ndarray": "a numpy array", "scalar": f"a numpy {value.dtype}"}[value.kind]
        raise Unmet(f"{what} should return a Python float, got {kind} of shape {value.shape}: "
                    "convert with .item() or float(...)")
    raise Unmet(f"{what} should return a Python float, got {type(value).__name__}")
