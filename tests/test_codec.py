"""The kit's one codec (autograder/sandbox/codec.py): everything a student can return reaches the
grader intact, and every answer the self-check records comes back equal.

A numpy scalar once came back as the string ``np.float64(0.5)`` and failed every
correct ``Standardizer`` that used ``np.mean``: these properties keep that class
of bug out, over every dtype and shape the codec claims to carry, under both of
its rules (the worker's and the recorder's exact one).
"""

import json
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.sandbox.codec import (SAFE_DTYPES, Array, CodecError, DType, RecordedObject, Unencodable, decode,
                                      decode_live, encode, encode_input)

NUMPY_DTYPES = sorted(SAFE_DTYPES)
TORCH_DTYPES = [torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
                torch.int64, torch.uint8, torch.bool]


def round_trip(value):
    """What the grader decodes after the value crossed the pipe as JSON text."""
    return decode(json.loads(json.dumps(encode(value), allow_nan=True)))


def same_array(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(st.sampled_from(NUMPY_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_numpy_arrays_of_every_dtype_and_shape_round_trip(array):
    got = round_trip(array)
    assert isinstance(got, Array) and got.kind == "ndarray" and got.dtype == array.dtype.name
    assert same_array(got.array, array)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(st.sampled_from(NUMPY_DTYPES), hnp.array_shapes(min_dims=0, max_dims=0)))
def test_numpy_scalars_of_every_dtype_round_trip_as_0d_scalars(zero_d):
    scalar = zero_d[()]                                       # a numpy scalar: np.float64, np.int32, np.bool_ ...
    assert isinstance(scalar, np.generic)
    got = round_trip(scalar)
    assert isinstance(got, Array) and got.kind == "scalar" and got.dtype == scalar.dtype.name
    assert got.shape == () and same_array(got.array, np.asarray(scalar))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TORCH_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), st.data())
def test_tensors_of_every_dtype_and_shape_round_trip(dtype, shape, data):
    numpy_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    tensor = torch.from_numpy(data.draw(hnp.arrays(numpy_dtype, shape)))
    got = round_trip(tensor)
    assert isinstance(got, Array) and got.kind == "tensor" and got.dtype == str(dtype).replace("torch.", "")
    assert same_array(got.array, tensor.numpy())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.none(),
                 st.text(max_size=20)))
def test_python_numbers_and_strings_round_trip_with_their_type(value):
    got = round_trip(value)
    assert type(got) is type(value)
    assert got == value or (isinstance(value, float) and math.isnan(value) and math.isnan(got))
    if isinstance(value, float) and not math.isnan(value):
        assert math.copysign(1, got) == math.copysign(1, value)        # -0.0 stays -0.0 (a NaN's sign means nothing)


def test_the_standardizer_style_that_once_broke_the_grader():
    """``np.mean`` of a 1-D series is a numpy scalar; numpy 2's repr is ``np.float32(...)``."""
    values = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    got = round_trip({"mean_": np.mean(values), "std_": np.std(values), "n": np.int64(3)})
    assert got["mean_"].array == np.float32(7 / 3) and got["mean_"].dtype == "float32"
    assert got["n"].array == 3 and got["n"].dtype == "int64"
    assert round_trip(np.float64(0.5)).array == 0.5        # a float subclass, tested before float


def test_dtypes_and_bfloat16_keep_their_names():
    assert round_trip(np.dtype("float32")) == DType("float32")
    assert round_trip(torch.float32) == DType("torch.float32")
    got = round_trip(torch.tensor([1.5, -2.0], dtype=torch.bfloat16))
    assert got.dtype == "bfloat16" and got.array.tolist() == [1.5, -2.0]


def test_containers_keep_their_shape_and_unknown_objects_stay_inert():
    got = round_trip((1, [2.5, np.float32(3)], {4: "x", "k": None}))
    assert isinstance(got, tuple) and got[0] == 1 and got[1][0] == 2.5 and got[1][1].array == 3
    assert got[2] == {4: "x", "k": None}
    assert isinstance(round_trip(object()), Unencodable)
    assert isinstance(round_trip(np.complex128(1 + 2j)), Unencodable)


@pytest.mark.parametrize("forged", [
    {"__array__": "tensor", "dtype": "float32", "data_dtype": "object", "shape": [1], "data": ""},
    {"__array__": "tensor", "dtype": "float32", "data_dtype": "float32", "shape": [3], "data": "AAAA"},
    {"__array__": "pickle", "dtype": "float32", "data_dtype": "float32", "shape": [0], "data": ""},
    {"__float__": "np.float64(0.5)"},
], ids=["object dtype", "short data", "unknown kind", "float that is not a number"])
def test_malformed_answers_are_refused_not_executed(forged):
    with pytest.raises(ValueError):
        decode(forged)


# --- the exact rule and decode_live: what the self-check's recorded answers and the grader's inputs use ---

def live_round_trip(value):
    """What a replay gets back after the recorder wrote ``value`` to its JSON file."""
    return decode_live(json.loads(json.dumps(encode(value, exact=True), allow_nan=True)))


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(st.sampled_from(NUMPY_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_the_exact_rule_gives_back_the_same_numpy_array(array):
    got = live_round_trip(array)
    assert isinstance(got, np.ndarray) and same_array(got, array)
    assert got.flags.writeable                       # a replayed answer is the caller's to change, as a live one


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(st.sampled_from(NUMPY_DTYPES), hnp.array_shapes(min_dims=0, max_dims=0)))
def test_the_exact_rule_gives_back_a_numpy_scalar_of_the_same_type(zero_d):
    scalar = zero_d[()]
    got = live_round_trip(scalar)
    assert type(got) is type(scalar) and same_array(np.asarray(got), np.asarray(scalar))


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(TORCH_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), st.data())
def test_the_exact_rule_gives_back_the_same_tensor(dtype, shape, data):
    numpy_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    tensor = torch.from_numpy(data.draw(hnp.arrays(numpy_dtype, shape)))
    got = live_round_trip(tensor)
    assert isinstance(got, torch.Tensor) and got.dtype == tensor.dtype and not got.requires_grad
    assert same_array(got.numpy(), tensor.numpy())


def test_the_exact_rule_keeps_requires_grad_containers_and_plain_objects():
    class Fitted:                                   # a fitted Standardizer: data attributes only
        def __init__(self):
            self.mean_, self.std_, self.n = np.float32(2.5), np.array([1.0, 2.0]), 3

    weight = torch.tensor([0.5, -1.0], requires_grad=True)
    got = live_round_trip({"w": weight, (1, "a"): [1.5, None, True], "fitted": Fitted(), "dtype": torch.float32})
    assert got["w"].requires_grad and torch.equal(got["w"].detach(), weight.detach())
    assert got[(1, "a")] == [1.5, None, True] and type(got[(1, "a")][0]) is float
    assert isinstance(got["fitted"], RecordedObject) and repr(got["fitted"]) == "<recorded Fitted>"
    assert got["fitted"].mean_ == np.float32(2.5) and type(got["fitted"].mean_) is np.float32
    assert got["fitted"].std_.tolist() == [1.0, 2.0] and got["fitted"].n == 3
    assert got["dtype"] is torch.float32 and live_round_trip(np.dtype("int16")) == np.dtype("int16")
    again = live_round_trip(got["fitted"])          # a recorded object records as the type it stands for
    assert repr(again) == "<recorded Fitted>" and again.n == 3


@pytest.mark.parametrize("value,says", [
    (np.array([1, "a"], dtype=object), "dtype object"),
    (np.array([1 + 2j]), "dtype complex128"),
    (torch.tensor([1.0], dtype=torch.bfloat16), "bfloat16 tensor"),
    (torch.nn.Linear(1, 1), "nn.Module (Linear)"),
    (len, "function"),
    (int, "class"),
    (np.complex64(1j), "complex64 cannot be carried"),
    ([[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]], "too deeply nested"),
], ids=["object array", "complex array", "bfloat16", "module", "function", "class", "complex scalar", "deep"])
def test_the_exact_rule_refuses_what_would_not_come_back_equal_and_names_where(value, says):
    with pytest.raises(CodecError, match=re.escape(says)) as refused:
        encode({"x": [value]}, exact=True, where="the result of f")
    assert str(refused.value).startswith("the result of f['x'][0]")


def test_the_worker_rule_sends_inert_forms_where_the_exact_rule_refuses():
    for value in (torch.nn.Linear(1, 1), len, int, np.complex64(1j)):
        assert isinstance(round_trip(value), Unencodable)
    assert round_trip(torch.tensor([1.5], dtype=torch.bfloat16)).dtype == "bfloat16"


def test_inputs_arrive_as_the_kind_the_grader_asked_for():
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    as_tensor, as_list, as_array = (decode_live(json.loads(json.dumps(encode_input(values, kind))))
                                    for kind in ("tensor", "list", "ndarray"))
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.dtype == torch.float32
    assert torch.equal(as_tensor, torch.from_numpy(values))
    assert as_list == values.tolist() and isinstance(as_array, np.ndarray) and same_array(as_array, values)
    got = decode_live({"args": [encode_input(values, "tensor"), 0.8, {"__tuple__": [encode_input(values[0])]}]})
    assert isinstance(got["args"][0], torch.Tensor) and got["args"][1] == 0.8
    assert isinstance(got["args"][2], tuple) and same_array(got["args"][2][0], values[0])
    assert encode_input(np.float64(2.0))["shape"] == []                # a 0-d input stays 0-d


@pytest.mark.parametrize("forged", [
    {"__array__": "tensor", "dtype": "float32", "data_dtype": "object", "shape": [1], "data": ""},
    {"__array__": "tensor", "dtype": "float32", "data_dtype": "float32", "shape": [3], "data": "AAAA"},
    {"__array__": "pickle", "dtype": "float32", "data_dtype": "float32", "shape": [0], "data": ""},
    {"__array__": "ndarray", "dtype": "float32", "data_dtype": "float32", "shape": [-1], "data": "AAAAAA=="},
], ids=["object dtype", "short data", "unknown kind", "negative shape"])
def test_decode_live_refuses_a_malformed_array_too(forged):
    with pytest.raises(ValueError):
        decode_live(forged)
    with pytest.raises(ValueError):
        decode(forged)


def test_a_forged_object_from_the_worker_stays_a_plain_dict():
    """Only the kit's own files carry objects: the grader reading the pipe makes no RecordedObject."""
    forged = {"__object__": "Standardizer", "attrs": [["mean_", 0.0]]}
    assert decode(forged) == {"__object__": "Standardizer", "attrs": [["mean_", 0.0]]}
