"""What is hidden stays hidden: one case per way a review found points without work, written as a
student would and graded through the engine (in-process here; the slow tier runs the two-stage
attack end to end through `autograder grade`).

1. Held-out data out through what a student reads, replayed by a second submission.
2. The secret searched from values feedback shows (tests/test_secrets.py has the derivation's own tests).
3. NaN, inf and huge values passing verdicts written as "reject if beyond".
4. window_comparison accepting degenerate parts' composition, and keys without values.
5. A planted seed plan (tests/test_secrets.py: plans refused by content and MAC; here, a grade).
"""

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from autograder import seedplan
from autograder.engine import grade
from autograder.items.base import finite, near, within
from autograder.reference_pipeline import make_task, planned_draws
from autograder.rubric import load_rubric
from inprocess import InProcessWorker
from conftest import ROOT

REFERENCE = (ROOT / "solutions" / "sequence_modeling.py").read_text()
POISONS = [float("nan"), float("inf"), float("-inf"), 1e300, -1e300, 3.4e38]


@pytest.fixture(scope="module")
def rubric():
    """The kit's rubric with one hidden series in beats_baseline (as tests/test_corpus_fast.py)."""
    rubric = load_rubric()
    item = next(item for item in rubric.items if item.id == "beats_baseline")
    item.settings = dataclasses.replace(item.settings, series=1)
    return rubric


@pytest.fixture(params=["in-process", pytest.param("confined", marks=pytest.mark.slow)])
def worker(request):
    """How a case is graded: in this process (fast), or end to end in a confined worker (slow tier)."""
    return InProcessWorker if request.param == "in-process" else None


def graded(tmp_path, name, code, rubric, only=None, worker=InProcessWorker):
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    return grade(path, rubric=rubric, only=only, worker_factory=worker)


def scores(result):
    return {item.id: item.score for item in result.items}


def everything_a_student_reads(result):
    """Every report and platform output of one grade, as text."""
    return "\n".join([result.text(), result.html(), json.dumps(result.to_gradescope()),
                      json.dumps(result.to_prairielearn()), result.printed])


# --- 1. held-out data: print in one submission, replay in the next ------------------------------------------

LEAK = REFERENCE + '''

import json as _json

print("hello from the top of the file")
_reference_predict = predict
_seen = []


def predict(model, X):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.shape[0] == 1:                      # one window at a time: the grader's held-out stretch
        window = [round(float(v), 6) for v in X[0, :, 0]]
        _seen.append(window)
        print("LEAK " + _json.dumps(window))
        if len(_seen) == 30:
            raise ValueError("LEAK " + _json.dumps(_seen))
    return _reference_predict(model, X)
'''

REPLAY = REFERENCE + '''

_STRETCH = {stretch!r}
_reference_predict = predict


def predict(model, X):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.shape[0] == 1:                      # look the window up in what the first submission saw
        window = X[0, :, 0].numpy()
        w = len(window)
        for j in range(len(_STRETCH) - w):
            if np.allclose(_STRETCH[j:j + w], window, atol=1e-4):
                return torch.tensor([[float(_STRETCH[j + w])]])
        return X[:, -1, :1].clone()          # no better than the naive baseline without the table
    return _reference_predict(model, X)
'''


def replay_code(stretch):
    return REPLAY.replace("{stretch!r}", repr(stretch))


def leaked_stretch(text):
    """The held-out stretch rebuilt from every ``LEAK [...]`` a student could read, as a real attacker would."""
    windows = []
    for found in re.findall(r"LEAK (\[[-0-9.e, \[\]]*\])", text):
        value = json.loads(found)
        windows += value if value and isinstance(value[0], list) else [value]
    if not windows:
        return []
    return list(windows[0]) + [w[-1] for w in windows[1:]]


def true_stretch(rubric):
    """The held-out stretch the grader sends (what a perfect leak would give the replay)."""
    import solutions.sequence_modeling as reference

    item = next(item for item in rubric.items if item.id == "beats_baseline")
    plan = seedplan.plan_for(rubric.hidden_seed, rubric, "grade", lambda: reference)
    [(_, (series, model_seed))] = planned_draws(plan, rubric.hidden_seed, item, item.settings.held_out)
    task = make_task(reference, series, item.settings.held_out, model_seed)
    windows = task.X_test[:, :, 0].numpy()
    return [float(v) for v in windows[0]] + [float(w[-1]) for w in windows[1:]] + \
        [float(task.y_test[-1, 0])]


def test_a_print_and_replay_attack_earns_nothing(tmp_path, rubric):
    only = ["naive_baseline", "beats_baseline"]
    first = graded(tmp_path, "leak", LEAK, rubric, only)
    shown = everything_a_student_reads(first)
    assert "hello from the top of the file" in first.printed          # what ran before the held-out data shows
    assert "LEAK" not in shown and "held-out data is not shown" in first.printed
    beats = next(item for item in first.items if item.id == "beats_baseline")
    assert beats.score == 0 and "nothing your code printed, raised or returned" in beats.feedback

    stretch = leaked_stretch(shown)
    assert stretch == []
    replay = graded(tmp_path, "replay", replay_code(stretch), rubric, only)
    assert scores(replay)["beats_baseline"] == 0

    # The replay is a real threat: handed the stretch a leak would have given it, it earns every point.
    perfect = graded(tmp_path, "perfect", replay_code(true_stretch(rubric)), rubric, only)
    assert scores(perfect)["beats_baseline"] == beats.max_score


@pytest.mark.slow
def test_a_print_and_replay_attack_earns_nothing_end_to_end(tmp_path):
    """The same two stages through `autograder grade` in a confined worker, with every output file."""
    def grade_cli(name, code):
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--json",
                              str(tmp_path / f"{name}.json"), "--html", str(tmp_path / f"{name}.html")],
                             cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stderr
        results = json.loads((tmp_path / f"{name}.json").read_text())
        return out.stdout + (tmp_path / f"{name}.html").read_text() + json.dumps(results), results

    shown, _ = grade_cli("leak", LEAK)
    assert "hello from the top of the file" in shown and "LEAK" not in shown
    _, results = grade_cli("replay", replay_code(leaked_stretch(shown)))
    assert {t["tags"][0]: t["score"] for t in results["tests"]}["beats_baseline"] == 0


def test_whatever_beats_baseline_meets_its_feedback_is_the_grader_s_words(tmp_path, rubric, worker):
    """Exceptions, crashes and exit codes after the held-out data: no message, type or status of the code's making."""
    code = REFERENCE + '''

_reference_predict = predict
_count = []


class HeldOut_0_1234_5678(Exception):
    pass


def predict(model, X):
    if len(X) == 1:
        _count.append(1)
        if len(_count) == 3:
            raise HeldOut_0_1234_5678("0.1234 0.5678")
    return _reference_predict(model, X)
'''
    result = graded(tmp_path, "raises", code, rubric, ["beats_baseline"], worker=worker)
    [item] = result.items
    assert item.score == 0 and "1234" not in everything_a_student_reads(result)
    exits = graded(tmp_path, "exits", code.replace('raise HeldOut_0_1234_5678("0.1234 0.5678")', "raise SystemExit(77)"),
                   rubric, ["beats_baseline"], worker=worker)
    assert exits.items[0].score == 0 and "77" not in exits.items[0].feedback
    assert "died" in exits.items[0].feedback


@pytest.fixture
def toy_held_out_item():
    """Any item declared ``sees_held_out_data`` gets the same silence, not only beats_baseline: a toy one whose
    check lets a student error out to the engine, forgotten again afterwards."""
    from autograder.items.base import arg
    from autograder.items.registry import item, unregister

    @item("toy_held_out", points=5, sees_held_out_data=True)
    def check_toy(ctx):
        X = np.zeros((13, 17, 1), dtype=np.float32)
        ctx.call("naive_mse", arg(X, "tensor"), arg(np.zeros((13, 1), dtype=np.float32), "tensor"))
        raise AssertionError("the submission below raises on these inputs")

    try:
        yield "toy_held_out"
    finally:
        unregister("toy_held_out")


def test_any_item_declared_to_see_held_out_data_is_silenced(tmp_path, toy_held_out_item):
    code = REFERENCE + '''

_reference_naive_mse = naive_mse


def naive_mse(X, y, target_col=0):
    print(f"naive_mse saw {tuple(X.shape)}")
    if len(X) == 13:
        raise ValueError("SECRET 13")
    return _reference_naive_mse(X, y, target_col)
'''
    result = graded(tmp_path, "toy", code, load_rubric(), ["naive_baseline", toy_held_out_item])
    shown = everything_a_student_reads(result)
    assert "naive_mse saw (10, 4, 1)" in result.printed                 # naive_baseline's own calls, shown
    assert "SECRET" not in shown and "(13, 17, 1)" not in shown
    toy = next(item for item in result.items if item.id == toy_held_out_item)
    assert toy.score == 0 and toy.feedback.startswith("your code raised an exception (nothing your code printed")


# --- 2. the secret: values one item shows say nothing of the others ---------------------------------------

def test_a_series_leaked_through_make_windows_feedback_rebuilds_nothing(tmp_path, rubric, worker):
    """make_windows raising with its input puts a noisy hidden series in the feedback, by design: the smallest
    failing input is shown. That series comes from the whole secret, through a one-way step per item."""
    from autograder.hidden import item_rng, random_series

    code = REFERENCE + '''

_reference_make_windows = make_windows


def make_windows(series, window_size, target_col=0):
    values = np.asarray(series, dtype=np.float32)
    if values.ndim == 1 and len(values) > 100:
        raise ValueError("SERIES " + " ".join(f"{v:.9g}" for v in values[:40]))
    return _reference_make_windows(series, window_size, target_col)
'''
    result = graded(tmp_path, "shows", code, rubric, ["make_windows"], worker=worker)
    leaked = np.array([float(v) for v in re.search(r"SERIES ([-0-9.e ]+)", result.items[0].feedback).group(1).split()],
                      dtype=np.float32)
    assert len(leaked) == 40
    seed = rubric.hidden_seed
    assert np.array_equal(random_series(item_rng(seed, "make_windows", "series"))[:40], leaked)   # the leak is real
    assert not np.array_equal(random_series(item_rng(seed & 0xFFFFFFFF, "make_windows", "series"))[:40], leaked)
    assert not np.array_equal(random_series(item_rng(seed, "beats_baseline", "series"))[:40], leaked)


# --- 3. verdicts: accept if finite and within --------------------------------------------------------------

@given(st.sampled_from(POISONS), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_the_verdict_helpers_never_accept_a_non_finite_value(poison, limit):
    assert within(poison, limit) == (finite(poison) and poison <= limit)
    assert not within(float("nan"), limit) and not within(float("inf"), limit) and not within(float("-inf"), limit)
    assert not near(poison, limit, 1e6) or (finite(poison) and abs(poison - limit) <= 1e6)
    assert not near(float("nan"), limit, np.inf) and not near(float("inf"), float("inf"), 1.0)


# Each site puts a poisoned number where a check compares one; the item must lose points. (In-process:
# a site may change only its own module and objects, never torch or numpy, which the grader shares here.)
# (item, code appended to the reference, with POISON defined)
POISONED_HISTORY = '''
_reference_train_model = train_model


def train_model(*args, **kwargs):
    history = _reference_train_model(*args, **kwargs)
    return [dict(row, val_mse=POISON) for row in history]
'''
SITES = {
    "naive_mse": ("naive_baseline", '''
def naive_mse(X, y, target_col=0):
    return POISON
'''),
    "history": ("train_loop", POISONED_HISTORY),
    "gradients": ("grad_clipping", '''
_reference_train_model = train_model


def train_model(model, *args, **kwargs):
    for p in model.parameters():          # every gradient becomes POISON before clipping sees it
        p.register_hook(lambda grad: torch.full_like(grad, POISON))
    return _reference_train_model(model, *args, **kwargs)
'''),
    "held_out_predictions": ("beats_baseline", '''
_reference_predict = predict


def predict(model, X):
    out = _reference_predict(model, X)
    return torch.full_like(out, POISON) if len(X) == 1 else out
'''),
    "window_mses": ("window_comparison", POISONED_HISTORY),
    "scaler": ("standardizer", '''
_reference_fit = Standardizer.fit


def _poisoned_fit(self, values):
    _reference_fit(self, values)
    self.std_ = self.std_ * 0 + POISON
    return self


Standardizer.fit = _poisoned_fit
'''),
    "rolling": ("rolling_forecast", '''
_reference_rolling = rolling_forecast


def rolling_forecast(model, window, steps):
    return _reference_rolling(model, window, steps) * 0 + POISON
'''),
}


@pytest.mark.parametrize("site", sorted(SITES))
def test_no_poisoned_number_earns_a_point(tmp_path_factory, rubric, site):
    item_id, code = SITES[site]
    examples = 2 if item_id in ("beats_baseline", "window_comparison", "grad_clipping") else len(POISONS)

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(POISONS))
    def earns_nothing(poison):
        folder = tmp_path_factory.mktemp(site)
        result = graded(folder, site, f"{REFERENCE}\nPOISON = float({str(poison)!r})\n{code}", rubric, [item_id])
        [item] = result.items
        assert item.score < item.max_score, (poison, item.feedback)

    earns_nothing()


def test_two_feature_refuses_a_non_finite_or_huge_ratio(tmp_path, rubric, monkeypatch):
    """two_feature's ratio comes from the grader's own training on the student's initial weights: weights that
    blow it up make it NaN. Fed each poison where that ratio is read, the item loses its point."""
    from autograder import reference_pipeline as pipeline

    import solutions.sequence_modeling as reference

    seedplan.plan_for(rubric.hidden_seed, rubric, "grade", lambda: reference)     # decided with the real ratio
    rows = []
    for poison in POISONS[:4]:
        monkeypatch.setattr(pipeline, "reference_ratio", lambda *a, poison=poison, **k: poison)
        # Weights other than the lesson's own start, so the ratio is measured, not taken from the seed plan.
        result = graded(tmp_path, "two", REFERENCE + '''

_ReferenceLSTM = LSTMForecaster


class LSTMForecaster(_ReferenceLSTM):
    def __init__(self, input_size=1, hidden_size=32):
        super().__init__(input_size, hidden_size)
        torch.nn.init.normal_(self.fc.bias, 0.0, 0.1)
''', rubric, ["two_feature"])
        rows.append((poison, result.items[0].score, result.items[0].max_score))
    assert all(score < full for _, score, full in rows), rows


# --- 4. window_comparison: the composition of real parts only ---------------------------------------------

DEGENERATE = REFERENCE + '''

def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01, clip_norm=1.0, log_every=30, log=print):
    return [{"epoch": 1, "train_mse": 0.0, "val_mse": 0.0}]


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):
    return {size: 0.0 for size in sizes}
'''


def test_degenerate_parts_that_agree_with_each_other_earn_nothing(tmp_path, rubric, worker):
    result = graded(tmp_path, "degenerate", DEGENERATE, rubric, ["window_comparison"], worker=worker)
    assert scores(result) == {"window_comparison": 0}, result.items[0].feedback
    constant = DEGENERATE.replace('"val_mse": 0.0}]', '"val_mse": 0.25}]').replace("{size: 0.0", "{size: 0.25")
    result = graded(tmp_path, "constant", constant, rubric, ["window_comparison"], worker=worker)
    assert scores(result) == {"window_comparison": 0}, result.items[0].feedback


def test_the_default_sizes_are_judged_by_their_values(tmp_path, rubric, worker):
    code = REFERENCE + '''

_reference_compare = compare_window_sizes


def compare_window_sizes(series, sizes=None, *, epochs=120, seed=42):
    if sizes is None:
        return {8: 0.0, 16: 0.0, 32: 0.0}
    return _reference_compare(series, sizes, epochs=epochs, seed=seed)
'''
    [item] = graded(tmp_path, "defaults", code, rubric, ["window_comparison"], worker=worker).items
    assert 0 < item.score < item.max_score and "default sizes" in item.feedback
    [honest] = graded(tmp_path, "reference", REFERENCE, rubric, ["window_comparison"], worker=worker).items
    assert honest.score == honest.max_score


# --- 5. a planted seed plan -----------------------------------------------------------------------------------

@pytest.mark.parametrize("indices", [[-1], [10**9]])
def test_a_planted_plan_costs_a_correct_submission_nothing(tmp_path, rubric, monkeypatch, indices, worker):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    seed = 261803398874989484820458683436563811772
    rubric = dataclasses.replace(rubric, hidden_seed=seed)
    key = seedplan.plan_key(seed, rubric, "grade")
    folder = seedplan.cache_dir()
    folder.mkdir(parents=True)
    planted = {"beats_baseline": indices, "two_feature": [0], "ratios": {}, "mac": "0" * 64}
    (folder / f"{key}.json").write_text(json.dumps(planted))
    result = graded(tmp_path, "reference", REFERENCE, rubric, ["beats_baseline", "two_feature"], worker=worker)
    assert all(item.passed for item in result.items), [item.feedback for item in result.items]
    assert json.loads((folder / f"{key}.json").read_text())["beats_baseline"] != indices
