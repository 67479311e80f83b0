"""The reference solution: the lesson's output, and properties of every function.

Inputs encode their own index (s[t, f] = 1000 f + t), so an index bug shows up
as a wrong value rather than a plausible-looking number.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from conftest import EXPECTED_OUTPUT, ROOT, SHARED_EXPECTED

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def index_series(n, f=1):
    t = np.arange(n, dtype=np.float32)
    return t if f == 1 else np.stack([t + 1000 * c for c in range(f)], axis=1)


def test_reference_run_prints_the_expected_block_byte_for_byte(expected_output):
    """On one torch thread: beside the other pytest worker a second thread only spins, tripling the
    run's CPU time. tests/test_solutions_cli.py (slow) runs the lab on every core and checks the
    same block."""
    one_thread = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "solutions"], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=one_thread)
    assert out.stdout == expected_output + ("\n" if not expected_output.endswith("\n") else "")
    assert out.stderr == ""


def test_the_kept_copy_of_the_expected_block_matches_shared():
    if not SHARED_EXPECTED.exists():
        pytest.skip("no ../shared beside this checkout")
    assert EXPECTED_OUTPUT.read_text() == SHARED_EXPECTED.read_text()


def test_make_series_matches_the_lesson_and_leaves_global_rng_alone(reference):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    series = reference.make_series()
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(42)
    t = np.arange(220)
    lesson = (np.sin(t * 0.12) + 0.25 * np.sin(t * 0.03) + np.random.randn(220) * 0.04).astype(np.float32)
    assert series.dtype == np.float32 and np.array_equal(series, lesson)


@FAST
@given(n=st.integers(2, 60), data=st.data(), kind=st.sampled_from(["ndarray", "tensor", "list"]))
def test_windows_shapes_contents_and_chaining(reference, n, data, kind):
    w = data.draw(st.integers(1, n - 1))
    series = index_series(n)
    given_series = {"ndarray": series, "tensor": torch.from_numpy(series), "list": series.tolist()}[kind]
    X, y = reference.make_windows(given_series, w)
    assert X.dtype == torch.float32 and y.dtype == torch.float32
    assert X.shape == (n - w, w, 1) and y.shape == (n - w, 1)
    for i in range(n - w):
        assert X[i, :, 0].tolist() == list(range(i, i + w))
        assert y[i, 0].item() == i + w                     # the value after the window
    assert torch.equal(X[1:, :-1], X[:-1, 1:])             # neighbouring windows overlap by w - 1


@FAST
@given(n=st.integers(2, 40), f=st.integers(1, 4), data=st.data())
def test_windows_agree_with_numpy_sliding_window_view(reference, n, f, data):
    w = data.draw(st.integers(1, n - 1))
    target_col = data.draw(st.integers(0, f - 1))
    series = index_series(n, f)
    X, y = reference.make_windows(series, w, target_col=target_col)
    values = series.reshape(n, f)
    # sliding_window_view puts the window axis last: (n - w + 1, f, w); transpose, never reshape.
    view = np.swapaxes(sliding_window_view(values, w, axis=0), 1, 2)[: n - w]
    assert np.array_equal(X.numpy(), view)
    assert np.array_equal(y[:, 0].numpy(), values[w:, target_col])


@FAST
@given(n=st.integers(2, 80), frac=st.floats(0.01, 0.99))
def test_time_split_sizes_order_and_no_overlap(reference, n, frac):
    X = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1)
    y = X[:, 0, :] + 0.5
    split = int(n * frac)
    if not 0 < split < n:
        with pytest.raises(ValueError, match="empty"):
            reference.time_split(X, y, frac)
        return
    X_train, X_val, y_train, y_val = reference.time_split(X, y, frac)
    assert len(X_train) == split and len(X_val) == n - split
    assert torch.equal(torch.cat([X_train, X_val]), X) and torch.equal(torch.cat([y_train, y_val]), y)
    assert X_train.max() < X_val.min()                     # train strictly before validation


@FAST
@given(a=st.floats(-5, 5), b=st.floats(-10, 10), w=st.integers(1, 10))
def test_naive_mse_is_zero_on_constants_and_slope_squared_on_lines(reference, a, b, w):
    constant = np.full(30, b, dtype=np.float32)
    assert reference.naive_mse(*reference.make_windows(constant, w)) == 0.0
    line = (a * np.arange(30) + b).astype(np.float32)
    X, y = reference.make_windows(line, w)
    assert reference.naive_mse(X, y) == pytest.approx(a * a, rel=1e-3, abs=1e-3)


def test_naive_forecast_reads_the_target_column(reference):
    X = torch.from_numpy(index_series(10, 3)).unsqueeze(0).repeat(2, 1, 1)   # (2, 10, 3)
    assert reference.naive_forecast(X, 2).tolist() == [[2009.0], [2009.0]]


@pytest.mark.parametrize("cls", ["LSTMForecaster", "GRUForecaster"])
@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(batch=st.integers(1, 6), seq_len=st.integers(1, 20), input_size=st.integers(1, 3))
def test_models_are_batch_invariant_and_read_the_last_step(reference, cls, batch, seq_len, input_size):
    torch.manual_seed(0)
    model = getattr(reference, cls)(input_size=input_size, hidden_size=8).eval()
    X = torch.randn(batch, seq_len, input_size)
    with torch.no_grad():
        out = model(X)
        rows = torch.cat([model(X[i : i + 1]) for i in range(batch)])
        changed = X.clone()
        changed[:, -1] += 1.0
        moved = model(changed)
    assert out.shape == (batch, 1)
    assert torch.allclose(out, rows, atol=1e-6)
    assert not torch.allclose(out, moved)                  # the last time step matters


class Stub(torch.nn.Module):
    """next = first value of the window: the forecast replays the window, then itself."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.clone())
        return x[:, 0, :] + 0 * self.p


@FAST
@given(w=st.integers(1, 8), steps=st.integers(1, 25))
def test_rolling_forecast_follows_a_closed_form_recursion(reference, w, steps):
    window = torch.arange(w, dtype=torch.float32) + 10
    before = window.clone()
    stub = Stub()
    out = reference.rolling_forecast(stub, window, steps)
    expected = [10 + (k % w) for k in range(steps)]       # p_k = window[k] for k < w, then p_{k-w}
    assert out.shape == (steps,) and out.tolist() == expected
    assert torch.equal(window, before)                    # the input window is not modified
    assert len(stub.seen) == steps and all(s.shape == (1, w, 1) for s in stub.seen)


@FAST
@given(n=st.integers(30, 120), w=st.integers(2, 10), data=st.data())
def test_prepare_data_never_looks_at_the_validation_future(reference, n, w, data):
    series = (np.sin(np.arange(n) * 0.3) * 3 + 1).astype(np.float32)
    split = int((n - w) * 0.8)
    changed = series.copy()
    first_future = data.draw(st.integers(split + w, n - 1))
    changed[first_future:] = data.draw(st.floats(-1e3, 1e3, allow_nan=False, width=32))
    a, b = reference.prepare_data(series, w), reference.prepare_data(changed, w)
    assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
    assert np.array_equal(a[4].mean_, b[4].mean_) and np.array_equal(a[4].std_, b[4].std_)


def test_standardizer_round_trip_and_constant_column(reference):
    values = np.stack([np.linspace(-3, 9, 50), np.full(50, 7.0)], axis=1).astype(np.float32)
    scaler = reference.Standardizer().fit(values)
    assert scaler.std_[1] == 1.0
    assert np.allclose(scaler.inverse_transform(scaler.transform(values)), values, atol=1e-5)
    other = np.ones((3, 2), dtype=np.float32)
    assert np.allclose(scaler.transform(other), (other - scaler.mean_) / scaler.std_)


BAD_CALLS = [
    ("make_windows", lambda r, s: r.make_windows(s, 0), "window_size"),
    ("make_windows", lambda r, s: r.make_windows(s, True), "window_size"),
    ("make_windows", lambda r, s: r.make_windows(s, 2.5), "window_size"),
    ("make_windows", lambda r, s: r.make_windows(s, len(s)), "window_size"),
    ("make_windows", lambda r, s: r.make_windows(s.reshape(2, 5, 2), 1), "1-D"),
    ("make_windows", lambda r, s: r.make_windows(np.where(np.arange(20) == 3, np.nan, s), 2), "NaN"),
    ("make_windows", lambda r, s: r.make_windows(np.where(np.arange(20) == 3, np.inf, s), 2), "inf"),
    ("make_windows", lambda r, s: r.make_windows(s, 2, target_col=1), "target_col"),
    ("time_split", lambda r, s: r.time_split(*r.make_windows(s, 2), 1.0), "train_frac"),
    ("time_split", lambda r, s: r.time_split(*r.make_windows(s, 2), 0), "train_frac"),
    ("time_split", lambda r, s: r.time_split(*r.make_windows(s[:4], 2), 0.4), "empty"),
    ("time_split", lambda r, s: r.time_split(r.make_windows(s, 2)[0], r.make_windows(s, 3)[1]), "same length"),
    ("naive_mse", lambda r, s: r.naive_mse(r.make_windows(s, 2)[0], r.make_windows(s, 3)[1]), "same length"),
    ("naive_forecast", lambda r, s: r.naive_forecast(r.make_windows(s, 2)[0], 1), "target_col"),
    ("rolling_forecast", lambda r, s: r.rolling_forecast(Stub(), s[:4], 0), "steps"),
    ("prepare_data", lambda r, s: r.prepare_data(s, 0), "window_size"),
]


@pytest.mark.parametrize("name,call,words", BAD_CALLS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_CALLS)])
def test_bad_input_raises_value_error_naming_the_problem(reference, name, call, words):
    series = np.linspace(0, 1, 20).astype(np.float32)
    with pytest.raises(ValueError, match=words):
        call(reference, series)
