"""The worker's codec: everything a student can return reaches the grader intact.

A numpy scalar once came back as the string ``np.float64(0.5)`` and failed every
correct ``Standardizer`` that used ``np.mean``: these properties keep that class
of bug out, over every dtype and shape the codec claims to carry.
"""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.sandbox.protocol import SAFE_DTYPES, Array, DType, Unencodable, decode, encode

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
