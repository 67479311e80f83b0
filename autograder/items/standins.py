"""One mistake costs once, also when a part raises: retrying a composition with the reference's step.

window_comparison grades how ``compare_window_sizes`` composes the student's
``make_windows`` and ``time_split`` (and model and loop); standardizer grades
``prepare_data``, which calls them too. When one of those parts raises inside
the composition, the item would lose its points for a mistake another item
already grades. So the criterion runs again with the reference's step in place
of each part that raised (autograder/sandbox/standins.py does the swap in the
worker), and the feedback says so. Only the data steps can stand in: they are
index maps, recorded from the reference like any other answer, so the hand-out
ships them too. A model or a training loop that raises is still the item's loss.
"""

import re

import numpy as np

from autograder.items.base import StudentRaised

# The parts that can stand in, in the order a composition calls them.
DATA_STEPS = ("make_windows", "time_split")
_FRAME = re.compile(r'File "[^"]*", line \d+, in (\w+)')


def reference_steps(reference, windows=(), splits=()):
    """The worker's ``stand_ins`` payload: where the reference's make_windows puts each row for every
    (length, window) in ``windows``, and where its time_split sends each row for every
    (rows, train_frac) in ``splits``: answers on index series, so they apply to any values."""
    import torch

    made = []
    for n, w in windows:
        X, y = reference.make_windows(np.arange(n, dtype=np.float32), w)         # values are row numbers
        made.append([n, w, X[:, :, 0].numpy().astype(np.int64).tolist(), y[:, 0].numpy().astype(np.int64).tolist()])
    split = []
    for m, frac in splits:
        rows = torch.arange(m, dtype=torch.float32)
        X_train, X_val, _, _ = reference.time_split(rows.reshape(m, 1, 1), rows.reshape(m, 1), frac)
        split.append([m, frac, X_train[:, 0, 0].long().tolist(), X_val[:, 0, 0].long().tolist()])
    return {"make_windows": made, "time_split": split}


def raising_parts(exc, parts):
    """The parts among ``parts`` whose frames the student's traceback shows (the one that raised and
    any between it and the composition); every part when a stand-in had no answer for the call."""
    if exc.info.get("type") == "StandInMiss":
        return set(parts)
    frames = set(_FRAME.findall(exc.info.get("traceback") or ""))
    frames.add(exc.info.get("where") or "")
    return {part for part in parts if part in frames}


def standing_in(ctx, criteria, steps, body, parts=DATA_STEPS):
    """Run ``body()``; while it raises in one of ``parts``, run it again with the reference's step for
    each part that raised so far (``steps``: reference_steps' payload). Notes in ``criteria`` which parts
    stood in. A raise that is not a part's, or one a stand-in does not cure, is the body's own."""
    standing = []
    try:
        while True:
            try:
                return body()
            except StudentRaised as exc:
                new = [part for part in parts if part in raising_parts(exc, parts) and part not in standing]
                if not new:
                    raise
                standing += new
                ctx.stand_ins = {part: steps[part] for part in standing}
    finally:
        ctx.stand_ins = None
        if standing:
            names, it = " and ".join(standing), "it" if len(standing) == 1 else "them"
            criteria.note(f"your {names} raised inside this composition, so the grader used the reference's "
                          f"{names} there instead (the items of {names} grade {it})")
