"""The kit's one codec: Python values as plain JSON data and back, never by pickling.

Two places carry values as JSON. The worker's answers cross a pipe to the grader
(protocol.py), and the self-check's recorded answers of the reference ship in a
file (autograder/handout/oracle.py). Both use these forms:

    None, bool, int, str        themselves (a subclass travels as its base type)
    float                       {"__float__": repr}, exact, nan and inf too
    array, tensor, numpy scalar {"__array__": kind, "dtype", "data_dtype", "shape", "data"}: raw
                                little-endian bytes in base64; kind is "tensor", "ndarray" or
                                "scalar"; dtype is the value's own, data_dtype the bytes'
                                (an input the grader sends adds "as": what it arrives as)
    tuple, list, dict           {"__tuple__": [...]}, [...], {"__dict__": [[key, value], ...]}
    np.dtype, torch.dtype       {"__dtype__": name}
    anything else               {"__repr__": type name} (the worker's rule), or
                                {"__object__": type name, "attrs": [[name, value], ...]} (exact)

Two rules of encoding. The worker's (the default) sends every value it is given:
what it cannot carry arrives as an inert ``Unencodable``, an array of another
dtype as float64 data under its own dtype's name. The recorder's (``exact=True``)
refuses what would not come back equal, naming where it was, and carries a plain
object by its data attributes and a tensor's requires_grad.

Two ways of decoding. ``decode`` reads what the submission's process sent, so
it trusts nothing: arrays come back as ``Array`` (kind, the student's dtype, a
numpy array) and a malformed form raises ValueError. ``decode_live`` rebuilds
the values themselves (numpy arrays, tensors, numpy scalars, ``RecordedObject``)
from forms the kit made: the grader's inputs in the worker, the recorded answers.

Imports only the standard library (numpy and torch lazily): the worker loads it
without the kit on ``sys.path``.
"""

import base64
import sys

SAFE_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
               "uint8", "uint16", "uint32", "uint64", "bool"}
ARRAY_KINDS = ("tensor", "ndarray", "scalar")
MAX_DEPTH = 20                    # containers nested deeper than this are not carried


class CodecError(ValueError):
    """A value the exact rule cannot carry; the message names where it was."""


# --- encoding -------------------------------------------------------------------------------

def encode(value, exact=False, where="the value"):
    """Plain, JSON-able data for ``value`` (see the module docstring for the forms and the rules)."""
    return _encode(value, exact, where, 0)


def _encode(value, exact, where, depth):
    import numpy as np

    if depth > MAX_DEPTH:
        return _other(value, exact, where, depth, "too deeply nested")
    # numpy scalars before Python numbers: np.float64 is a float subclass, and numpy 2's repr of it
    # is "np.float64(0.5)". A numpy scalar travels as a 0-d array of kind "scalar", keeping its dtype.
    if isinstance(value, np.generic):
        if value.dtype.name in SAFE_DTYPES:
            return _array("scalar", value.dtype.name, np.asarray(value))
        if isinstance(value, np.str_) or (isinstance(value, np.bytes_) and not exact):
            return str(value)
        return _other(value, exact, where, depth)
    for base in (type(None), bool, int, str):
        if isinstance(value, base):
            return value if base is type(None) else base(value)
    if isinstance(value, float):
        return {"__float__": float.__repr__(value)}
    if isinstance(value, np.dtype):
        return {"__dtype__": value.name}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.dtype):
        return {"__dtype__": str(value)}
    if torch is not None and isinstance(value, torch.Tensor):
        return _tensor(value, exact, where)
    if isinstance(value, np.ndarray):
        if value.dtype.name not in SAFE_DTYPES:
            if exact:
                raise CodecError(f"{where} is an array of dtype {value.dtype}, which the codec does not carry")
            return _array("ndarray", value.dtype.name, np.asarray(value.astype(np.float64), order="C"))
        return _array("ndarray", value.dtype.name, np.asarray(value, order="C"))
    if isinstance(value, (tuple, list)):
        items = [_encode(v, exact, _at(where, i, exact), depth + 1) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, exact, f"a key of {where}", depth + 1),
                              _encode(v, exact, _at(where, k, exact), depth + 1)] for k, v in value.items()]}
    return _other(value, exact, where, depth)


def _at(where, key, exact):
    """``where[key]``, for the exact rule's messages. The worker's rule names nothing: it runs no
    ``repr`` of a student's key, and pays nothing per element of a long list."""
    return f"{where}[{key!r}]" if exact else where


def _tensor(value, exact, where):
    tensor = value.detach().cpu()
    dtype = str(tensor.dtype).replace("torch.", "")
    if dtype not in SAFE_DTYPES:
        if exact:
            raise CodecError(f"{where} is a {dtype} tensor, which the codec does not carry")
        tensor = tensor.double()                  # bfloat16 and friends: float64 data, the real dtype's name
    form = _array("tensor", dtype, tensor.contiguous().numpy())
    if exact and value.requires_grad:
        form["grad"] = True
    return form


def _array(kind, dtype, array):
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"__array__": kind, "dtype": dtype, "data_dtype": array.dtype.name,
            "shape": list(array.shape), "data": base64.b64encode(data).decode("ascii")}


def _other(value, exact, where, depth, why=None):
    """A value none of the forms above fits: inert by type name, or (exact) a plain object's data."""
    if not exact:
        return {"__repr__": why or type(value).__name__}
    torch = sys.modules.get("torch")
    if why:
        raise CodecError(f"{where} is {why}")
    if torch is not None and isinstance(value, torch.nn.Module):
        raise CodecError(f"{where} is an nn.Module ({type(value).__name__}): it cannot be carried as data")
    if callable(value):
        raise CodecError(f"{where} is a {'class' if isinstance(value, type) else 'function'}: "
                         "it cannot be carried as data")
    if not hasattr(value, "__dict__"):
        raise CodecError(f"{where} of type {type(value).__name__} cannot be carried as data")
    attrs = {k: v for k, v in vars(value).items() if k != "_recorded_type"}
    return {"__object__": getattr(value, "_recorded_type", type(value).__name__),
            "attrs": [[k, _encode(v, True, f"{where}.{k}", depth + 1)] for k, v in sorted(attrs.items())]}


def encode_input(array, kind="ndarray"):
    """An input the grader sends: a numpy array to arrive as ``kind`` (ndarray, tensor, list)."""
    import numpy as np

    array = np.asarray(array, order="C")          # (ascontiguousarray would make a 0-d array 1-d)
    return dict(_array("ndarray", array.dtype.name, array), **{"as": kind})


# --- decoding what the submission's process sent --------------------------------------------

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


class DType(str):
    """A dtype the student returned (``np.dtype`` or ``torch.dtype``), by name: "float32", "torch.float32"."""


class Unencodable:
    """Stands for a returned object that is not plain data (a module, a function...)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def decode(form):
    """Inverse of ``encode`` for data nobody vouches for: arrays come back as ``Array``. Never runs
    code; a malformed form raises ValueError."""
    if isinstance(form, list):
        return [decode(v) for v in form]
    if not isinstance(form, dict):
        return form
    if "__float__" in form:
        return float(form["__float__"])
    if "__dtype__" in form:
        return DType(str(form["__dtype__"]))
    if "__tuple__" in form:
        return tuple(decode(v) for v in form["__tuple__"])
    if "__dict__" in form:
        return {_hashable(decode(k)): decode(v) for k, v in form["__dict__"]}
    if "__array__" in form:
        return Array(form["__array__"], str(form["dtype"]), _array_from(form))
    if "__repr__" in form:
        return Unencodable(str(form["__repr__"]))
    return {str(k): decode(v) for k, v in form.items()}


def _hashable(key):
    return key if isinstance(key, (int, float, str, bool, type(None))) else repr(key)


def _array_from(form):
    """The numpy array an array form holds, after checking its kind, dtype and length."""
    import numpy as np

    data_dtype = form["data_dtype"]
    if data_dtype not in SAFE_DTYPES or form["__array__"] not in ARRAY_KINDS:
        raise ValueError(f"unexpected array dtype {data_dtype!r}")
    shape = tuple(int(s) for s in form["shape"])
    raw = base64.b64decode(form["data"])
    dtype = np.dtype(data_dtype).newbyteorder("<")
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(raw):
        raise ValueError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


# --- decoding what the kit made -------------------------------------------------------------

class RecordedObject:
    """A plain object as recorded: its data attributes, no methods."""

    def __init__(self, type_name, attrs):
        self.__dict__.update(attrs)
        self._recorded_type = type_name

    def __repr__(self):
        return f"<recorded {self._recorded_type}>"


def decode_live(form):
    """Inverse of ``encode`` for forms the kit made: the values themselves. An input's ``as``
    (encode_input) says what its array arrives as."""
    if isinstance(form, list):
        return [decode_live(v) for v in form]
    if not isinstance(form, dict):
        return form
    if "__array__" in form:
        return _live_array(form)
    if "__object__" in form:
        return RecordedObject(form["__object__"], {k: decode_live(v) for k, v in form["attrs"]})
    if "__dtype__" in form:
        return _live_dtype(form["__dtype__"])
    if "__tuple__" in form:
        return tuple(decode_live(v) for v in form["__tuple__"])
    if "__dict__" in form:
        return {decode_live(k): decode_live(v) for k, v in form["__dict__"]}
    if any(tag in form for tag in ("__float__", "__repr__")):
        return decode(form)
    return {k: decode_live(v) for k, v in form.items()}


def _live_array(form):
    array = _array_from(form)                         # a fresh, writable copy (astype copies)
    kind = form.get("as", form["__array__"])
    if kind == "tensor":
        import torch

        tensor = torch.from_numpy(array)
        return tensor.requires_grad_() if form.get("grad") else tensor
    if kind == "list":
        return array.tolist()
    if kind == "scalar":
        return array[()]
    return array


def _live_dtype(name):
    import numpy as np

    if name.startswith("torch."):
        import torch

        return getattr(torch, name[len("torch."):])
    return np.dtype(name)
