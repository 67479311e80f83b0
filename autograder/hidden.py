"""Inputs the submission has never seen, generated at grading time.

Each item draws from its own generator, seeded by the rubric's seed (hidden
when grading, public in the self-check) and the item id, so items don't
share state and the same submission always meets the same data.
"""

import zlib

import numpy as np


def item_rng(seed, item_id, stream=""):
    """A numpy Generator for one item (and an optional sub-stream)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(f"{item_id}/{stream}".encode())])


def random_series(rng, n=None):
    """A series like the lesson's, with other frequencies, phases, scale, offset and noise.

    The ranges keep it a fair task for the lesson's LSTM (16-step windows,
    120 epochs): bench/baseline_spread.py measures the reference on them.
    """
    n = int(rng.integers(180, 301)) if n is None else n
    t = np.arange(n)
    fast, slow = rng.uniform(0.09, 0.2), rng.uniform(0.02, 0.05)
    phase_fast, phase_slow = rng.uniform(0, 2 * np.pi, size=2)
    series = (np.sin(fast * t + phase_fast) + rng.uniform(0.15, 0.4) * np.sin(slow * t + phase_slow)) \
        * rng.uniform(0.7, 1.3) + rng.uniform(-0.3, 0.3) + rng.normal(0, rng.uniform(0.02, 0.05), n)
    return series.astype(np.float32)


def index_series(n, n_features=1):
    """Values that encode their own position: s[t, f] = 1000 f + t. Index bugs become value bugs."""
    t = np.arange(n, dtype=np.float32)
    if n_features == 1:
        return t + 0.0
    return np.stack([t + 1000 * f for f in range(n_features)], axis=1).astype(np.float32)


def pipeline_candidates(seed, item_id, held_out, long=False):
    """Candidate (series, model seed) draws for a pipeline item, in a fixed order.

    Each series has ``held_out`` extra points at its end that the student's code
    never receives: the verdict is measured there. ``seedplan`` decides which
    candidates the reference clears with margin; checks take exactly those.
    """
    rng = item_rng(seed, item_id, "series")
    while True:
        if long:                                   # exercise 4: lengths where a correct model reliably learns
            n, model_seed = int(rng.integers(220, 301)), int(rng.integers(0, 10_000))
            yield n, model_seed
        else:
            series = random_series(rng, int(rng.integers(180, 301)) + held_out)
            yield series, int(rng.integers(0, 10_000))
