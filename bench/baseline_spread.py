"""How far below the naive baseline does a correct LSTM land on the grader's series?

The beats_baseline and two_feature thresholds (their settings' defaults) come
from this run: the reference pipeline (windows of 16, a 0.8 time split, a
seeded LSTMForecaster, train_model's defaults) on many series drawn exactly as
the grader draws its hidden ones, from another seed, measured on the held-out
stretch the grader keeps back. A last-value copier scores 1.0 by construction;
a flat training-mean predictor far above it. The seed plan's accept_ratio sits
between the reference's spread and max_ratio: draws above it are skipped.

    python bench/baseline_spread.py [--series 200]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.hidden import pipeline_candidates  # noqa: E402
from autograder.reference_pipeline import reference_ratio, task_for  # noqa: E402
from autograder.rubric import load_rubric  # noqa: E402
from solutions import sequence_modeling as ref  # noqa: E402


def ratios(draws, draw, held_out):
    """(model / naive, flat mean / naive) held-out MSE ratios of the reference pipeline on one draw of
    what an item draws (@item(planned=...))."""
    task = task_for(ref, draws, draw, held_out)
    flat_mse = ((task.y_train.mean() - task.y_test) ** 2).mean().item()
    return reference_ratio(ref, task), flat_mse / task.naive_mse()


def summary(name, values):
    values = np.array(values)
    return (f"{name:<22} median {np.median(values):.3f}  p95 {np.percentile(values, 95):.3f}  "
            f"max {values.max():.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rubric = {item.id: item for item in load_rubric().items}

    held_out = int(rubric["beats_baseline"].get("held_out", 40))
    draws = pipeline_candidates(12345, "baseline_spread", held_out)
    one = [ratios(rubric["beats_baseline"].planned, next(draws), held_out) for _ in range(args.series)]
    draws = pipeline_candidates(12345, "two_feature_spread", held_out, long=True)
    two = [ratios(rubric["two_feature"].planned, next(draws), held_out) for _ in range(max(20, args.series // 3))]

    print(f"held-out MSE / naive MSE of the reference ({args.series} one-feature series, {len(two)} two-feature):")
    print(summary("one feature", [r for r, _ in one]))
    print(summary("two features", [r for r, _ in two]))
    print(summary("flat mean predictor", [f for _, f in one]))
    print("last-value copier      1.000 on every series (it is the naive baseline)")
    print(f"rubric max_ratio: beats_baseline {rubric['beats_baseline'].get('max_ratio')}, "
          f"two_feature {rubric['two_feature'].get('max_ratio')}")
    accept = rubric["beats_baseline"].get("accept_ratio")
    skipped = sum(r > accept for r, _ in one) + sum(r > accept for r, _ in two)
    print(f"seed plan: accept_ratio {accept}; {skipped} of {len(one) + len(two)} draws would be skipped")
    verdict = "OK" if accept < rubric["beats_baseline"].get("max_ratio") < 1.0 else "TOO TIGHT"
    print(f"kept draws: reference <= {accept} < threshold {rubric['beats_baseline'].get('max_ratio')} < 1.0 "
          f"(copier): {verdict}")


if __name__ == "__main__":
    main()
