"""The lesson's pipeline as the grader sets it up: windows, split and a held-out stretch.

beats_baseline and two_feature grade a model, not the data steps, so the grader
makes the windows and the split itself with the reference: an off-by-one in
``make_windows`` costs make_windows' items, not these. The verdict is measured
on a stretch at the end of the series that the student's code never receives:
its windows are sent one at a time, in time order, after training, and their
targets never leave the grader. Memorising ``y_val`` earns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from itertools import islice

import numpy as np

from autograder.handout.oracle import derived
from autograder.hidden import pipeline_candidates

if TYPE_CHECKING:             # torch loads with the worker, not with the rubric
    import torch

WINDOW, TRAIN_FRAC = 16, 0.8


@dataclass(frozen=True)
class PlannedSeriesSettings:
    """What the two pipeline items share: the threshold on held-out MSE / naive MSE, the held-out
    stretch, and the seed plan's rule (autograder/seedplan.py) for which drawn series to grade on.

    max_ratio: bench/baseline_spread.py over 200 series drawn like the hidden ones puts the
    reference's median ratio at 0.20, p95 0.41, worst 0.59 (noise counts twice in the naive
    error, so ~0.5 is natural on noisy series); a last-value copier scores exactly 1.00, a flat
    mean predictor 13 or more. The seed plan keeps only draws the reference clears at accept_ratio."""
    max_ratio: float = 0.8         # largest allowed ratio of held-out MSE to naive MSE, on every series
    held_out: int = 40             # steps at the end of each series the student's code never receives
    accept_ratio: float = 0.6      # a drawn series is used only if the reference's ratio is at most this
    max_draws: int = 20            # candidates tried per seed before the seed is refused


@dataclass
class Task:
    X_train: torch.Tensor        # (n_train, WINDOW, features)
    y_train: torch.Tensor        # (n_train, 1)
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor         # windows whose targets lie in the held-out stretch
    y_test: torch.Tensor         # never sent to the worker
    model_seed: int

    @property
    def input_size(self):
        return int(self.X_train.shape[2])

    def naive_mse(self):
        """The last-value forecast's MSE on the held-out stretch."""
        return float(((self.X_test[:, -1, :1] - self.y_test) ** 2).mean())


def make_task(reference, series, held_out, model_seed):
    """Windows of the first ``len(series) - held_out`` points, split 0.8; test windows after them."""
    series = np.asarray(series, dtype=np.float32)
    seen = series[:-held_out]
    X, y = reference.make_windows(seen, WINDOW)
    X_train, X_val, y_train, y_val = reference.time_split(X, y, TRAIN_FRAC)
    X_all, y_all = reference.make_windows(series, WINDOW)
    return Task(X_train, y_train, X_val, y_val, X_all[len(X):], y_all[len(X):], int(model_seed))


def reference_ratio(reference, task, init_params=None):
    """Held-out MSE over naive MSE of the reference pipeline (optionally from given weights), computed
    on the reference's own model (forecasters.held_out_ratio; replayed in the hand-out)."""
    return derived(reference, "autograder.forecasters:held_out_ratio", task.X_train, task.y_train, task.X_val,
                   task.y_val, task.X_test, task.y_test, task.model_seed,
                   None if init_params is None else [np.asarray(p, dtype=np.float32) for p in init_params])


def task_for(reference, draws, draw, held_out):
    """The grader's task for one candidate ``draw`` of an item that draws ``draws`` (@item(planned=...))."""
    if draws == "two_feature_series":
        n, model_seed = draw
        return make_task(reference, reference.two_feature_series(n + held_out, model_seed), held_out, model_seed)
    series, model_seed = draw
    return make_task(reference, series, held_out, model_seed)


def planned_draws(plan, seed, item, held_out):
    """The accepted candidate draws of ``item`` (a rubric item declared with @item(planned=...)), in order."""
    accepted = plan[item.id]
    candidates = pipeline_candidates(seed, item.id, held_out, long=item.planned == "two_feature_series")
    draws = list(islice(candidates, max(accepted) + 1))
    return [(index, draws[index]) for index in accepted]
