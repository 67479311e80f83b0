"""How far below the naive baseline does a correct LSTM land on the grader's series?

The beats_baseline and two_feature thresholds in autograder/rubric.toml come
from this run: the reference pipeline (windows of 16, a 0.8 time split, a
seeded LSTMForecaster, train_model's defaults) on many series drawn exactly as
the grader draws its hidden ones, from another seed. A last-value copier
scores 1.0 by construction; a flat training-mean predictor far above it.

    python bench/baseline_spread.py [--series 200]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.checks.exercises import two_feature_draw  # noqa: E402
from autograder.hidden import item_rng, random_series  # noqa: E402
from autograder.rubric import load_rubric  # noqa: E402
from solutions import sequence_modeling as ref  # noqa: E402


def ratios(series, seed, input_size=1):
    """(model / naive, flat mean / naive) validation MSE ratios for the reference pipeline."""
    X, y = ref.make_windows(series, 16)
    X_train, X_val, y_train, y_val = ref.time_split(X, y, 0.8)
    torch.manual_seed(seed)
    model = ref.LSTMForecaster(input_size=input_size)
    ref.train_model(model, X_train, y_train, X_val, y_val, log=None)
    naive = ref.naive_mse(X_val, y_val)
    model_mse = ((ref.predict(model, X_val) - y_val) ** 2).mean().item()
    flat_mse = ((y_train.mean() - y_val) ** 2).mean().item()
    return model_mse / naive, flat_mse / naive


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

    rng = item_rng(12345, "baseline_spread")
    one = [ratios(random_series(rng), int(rng.integers(0, 10_000))) for _ in range(args.series)]
    rng = item_rng(12345, "two_feature_spread")
    two = []
    for _ in range(max(20, args.series // 3)):
        n, seed = two_feature_draw(rng)
        two.append(ratios(ref.two_feature_series(n, seed), seed, input_size=2))

    print(f"val_mse / naive_mse of the reference ({args.series} one-feature series, {len(two)} two-feature):")
    print(summary("one feature", [r for r, _ in one]))
    print(summary("two features", [r for r, _ in two]))
    print(summary("flat mean predictor", [f for _, f in one]))
    print("last-value copier      1.000 on every series (it is the naive baseline)")
    print(f"rubric max_ratio: beats_baseline {rubric['beats_baseline'].get('max_ratio')}, "
          f"two_feature {rubric['two_feature'].get('max_ratio')}")
    worst = max(max(r for r, _ in one), max(r for r, _ in two))
    verdict = "OK" if worst < rubric["beats_baseline"].get("max_ratio") < 1.0 else "TOO TIGHT"
    print(f"margin: worst correct {worst:.3f} < threshold < 1.0 (copier): {verdict}")


if __name__ == "__main__":
    main()
