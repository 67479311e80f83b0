"""The numeric runtime every process that computes numbers shares: the grader, the zygote, each worker.

One function, so the grader's reference and the student's worker run torch
the same way: loaded before any item's time limit starts, on one thread.

Imports only the standard library (numpy and torch when called).
"""


def load_torch():
    """Load numpy and torch, and set torch to one thread."""
    import numpy  # noqa: F401  (import before student code so a broken import is ours to report)
    import torch

    # Building any optimizer imports torch._dynamo (about a second): pay it now, not in
    # the middle of an item's time limit.
    import torch._dynamo  # noqa: F401

    # One thread: CPU kernels then give the same numbers on every machine and every run.
    torch.set_num_threads(1)
