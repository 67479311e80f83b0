"""Inputs the submission has never seen, generated at grading time.

Each item draws from its own generator, derived from the rubric's seed (the
secret: hidden when grading, public in the self-check) and the item id, so items
don't share state and the same submission always meets the same data.

The derivation is one-way and uses the whole secret. The secret is stretched
once with PBKDF2 (slow, so even a short secret is costly to search), and each
item's stream is HMAC(stretched secret, item id / stream) fed to numpy's
SeedSequence, which takes integers of any size. The values one item shows, by
design the smallest failing input, therefore say nothing about another item's
draws nor about the secret. Secrets of at least ``SECRET_BITS`` bits cannot be
searched at all: bundles draw them, refuse shorter ones, and ``grade`` and
``batch`` warn about them.
"""

import functools
import hashlib
import hmac
import json
import secrets
import sys

import numpy as np

SECRET_BITS = 128
_STRETCH_SALT = b"seqmodel-kit: hidden draws"
_STRETCH_ITERATIONS = 200_000


def fresh_secret():
    """A new hidden seed: 128 random bits, written as a number of 129 bits so it is never short."""
    return (1 << SECRET_BITS) | secrets.randbits(SECRET_BITS)


def short_secret(seed):
    """Why ``seed`` is too short to keep hidden data hidden, or "" when it is long enough."""
    bits = abs(int(seed)).bit_length()
    if bits >= SECRET_BITS:
        return ""
    return (f"the hidden seed has {bits} bits, fewer than {SECRET_BITS}: values shown in feedback could be "
            f"matched against every seed of that size to rebuild the hidden data; use a fresh "
            f"{SECRET_BITS}-bit one, e.g. python -c 'import secrets; print(secrets.randbits({SECRET_BITS}) "
            f"| 1 << {SECRET_BITS})'")


def warn_short_secret(seed):
    """One line on stderr when the hidden seed is short enough to search."""
    if short_secret(seed):
        print(f"autograder: warning: {short_secret(seed)}", file=sys.stderr)


@functools.lru_cache(maxsize=8)
def secret_key(seed):
    """The secret stretched once (PBKDF2): every draw and every keyed hash of the grader derives from it."""
    return hashlib.pbkdf2_hmac("sha256", str(int(seed)).encode(), _STRETCH_SALT, _STRETCH_ITERATIONS)


def keyed_digest(seed, message):
    """HMAC-SHA256 of ``message`` (bytes or str) under the stretched secret, as hex."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret_key(seed), data, hashlib.sha256).hexdigest()


def item_rng(seed, item_id, stream=""):
    """A numpy Generator for one item (and an optional sub-stream), through a one-way step."""
    return np.random.default_rng(np.random.SeedSequence(int(keyed_digest(seed, json.dumps(["item", item_id, stream])), 16)))


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
