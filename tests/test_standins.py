"""The reference's step standing in for a student part that raised (autograder/items/standins.py,
autograder/sandbox/standins.py): exact, recorded as data, and gone after the request."""

import types

import numpy as np
import pytest
import torch

import solutions.sequence_modeling as reference
from autograder.items.standins import raising_parts, reference_steps
from autograder.sandbox import standins
from autograder.sandbox.codec import decode, encode


def test_the_stand_ins_give_the_references_answer_on_any_values():
    """Index maps recorded on an index series reproduce make_windows and time_split on other values, 1-D and 2-D."""
    steps = decode(encode(reference_steps(reference, windows=[(30, 4)], splits=[(26, 0.8)])))   # as the pipe sends it
    built = standins.build(steps)
    rng = np.random.default_rng(3)
    for series, target_col in ((rng.normal(size=30), 0), (rng.normal(size=(30, 3)), 2)):
        X, y = built["make_windows"](series, 4, target_col=target_col)
        X_ref, y_ref = reference.make_windows(series, 4, target_col=target_col)
        assert X.dtype == torch.float32 and torch.equal(X, X_ref) and torch.equal(y, y_ref)
        got, expected = built["time_split"](X, y, 0.8), reference.time_split(X_ref, y_ref, 0.8)
        assert all(torch.equal(a, b) for a, b in zip(got, expected))


def test_a_stand_in_refuses_what_it_has_no_answer_for_and_what_the_reference_refuses():
    built = standins.build(reference_steps(reference, windows=[(30, 4)], splits=[(26, 0.8)]))
    with pytest.raises(standins.StandInMiss, match="not for length 30 and window 5"):
        built["make_windows"](np.zeros(30), 5)
    with pytest.raises(standins.StandInMiss, match=r"not for \(26, 0.5\)"):
        built["time_split"](torch.zeros(26, 4, 1), torch.zeros(26, 1), 0.5)
    with pytest.raises(ValueError, match="target_col=1 is out of range for 1 feature"):
        built["make_windows"](np.zeros(30), 4, target_col=1)


def test_installed_stand_ins_last_one_block_only():
    def own(series, window_size, target_col=0):
        raise IndexError("the student's own")
    module = types.SimpleNamespace(make_windows=own)
    with standins.Installed(module, reference_steps(reference, windows=[(10, 3)])):
        X, _ = module.make_windows(np.arange(10.0), 3)
        assert X.shape == (7, 3, 1)
    assert module.make_windows is own


def test_the_parts_that_raised_are_read_from_the_students_traceback():
    class Raised:
        def __init__(self, **info):
            self.info = info
    inner = Raised(type="IndexError", where="make_windows", traceback=(
        'File "submission.py", line 40, in compare_window_sizes\nFile "submission.py", line 9, in make_windows'))
    helper = Raised(type="ValueError", where="check_series", traceback=(
        'File "submission.py", line 12, in time_split\nFile "submission.py", line 3, in check_series'))
    own = Raised(type="KeyError", where="compare_window_sizes", traceback='File "s.py", line 40, in compare_window_sizes')
    parts = ("make_windows", "time_split")
    assert raising_parts(inner, parts) == {"make_windows"}
    assert raising_parts(helper, parts) == {"time_split"}        # a helper it calls raised: still time_split's step
    assert raising_parts(own, parts) == set()
    assert raising_parts(Raised(type="StandInMiss", traceback=""), parts) == set(parts)
