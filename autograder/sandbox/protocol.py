"""What the grader and the worker say to each other: the codec and the messages' shapes.

Both processes import this module (the worker from its private copy, the
grader as ``autograder.sandbox.protocol``), so the two sides of the pipe agree
by construction, not by convention. Every message is one JSON line of plain
data: numbers, strings, and arrays as raw little-endian bytes with a dtype and
a shape. Nothing is pickled in either direction, so nothing the student returns
can run code in the grader.

Imports only the standard library (numpy and torch lazily): the worker loads it
without the kit on ``sys.path``.
"""

import base64
import json
import sys

SAFE_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
               "uint8", "uint16", "uint32", "uint64", "bool"}
ARRAY_KINDS = ("tensor", "ndarray", "scalar")
MAX_RESPONSE_BYTES = 64 * 2**20
MAX_ERROR_TEXT = 2000
# The file the worker imports the submission from, in its own folder.
SUBMISSION_FILE = "submission.py"
# The kit's own top-level packages: student code may not import them, and workers may not read them.
KIT_PACKAGES = ("solutions", "autograder", "lessons", "tests", "bench")


# --- the messages ---------------------------------------------------------------------------

def import_request(seed=0):
    """The request that imports the submission (its top-level code runs under ``seed``)."""
    return {"op": "import", "path": SUBMISSION_FILE, "seed": seed}


def ready_message(applied):
    """The worker's first line once it is confined: what confinement applied."""
    return {"ok": True, "value": "ready", "confined": applied}


def refusal_message(reason):
    """The worker's only line when it could not confine itself: it runs no student code."""
    return {"ok": False, "refused": reason}


def progress_message(function, request_id):
    """Sent while a request runs: the student function it has just entered."""
    return {"progress": function, "id": request_id}


def to_line(message, **dumps_options):
    """One message as the bytes of one line on the pipe."""
    return json.dumps(message, **dumps_options).encode("utf-8") + b"\n"


# --- reading answers (the grader's side: the pipe is the submission's to write on) ---------

def parse_answer(line):
    """A dict shaped like an answer or progress message, or None. An ``error`` is always a dict of
    plain values, so code reading it never meets a string or a list where it expects a mapping."""
    if not line.strip():
        return None
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    if "error" in answer and not isinstance(answer["error"], dict):
        answer["error"] = {"type": "MalformedAnswer", "message": "the worker sent an error that is not a record"}
    if isinstance(answer.get("error"), dict):
        answer["error"] = {str(k)[:40]: bounded(v) for k, v in list(answer["error"].items())[:20]}
    return answer


def bounded(value):
    """An error field as plain, bounded data: a 40 MB exception message must not become a 40 MB report."""
    if isinstance(value, (bool, int, float, type(None))):
        return value
    if isinstance(value, list):
        return [str(v)[:200] for v in value[:20]]
    text = str(value)
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + f" ... [{len(text) - MAX_ERROR_TEXT} more characters]"
    return text


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
