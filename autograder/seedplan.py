"""Which drawn series a seed grades on: only those the reference clears with margin.

A threshold on drawn data (beats_baseline, two_feature) is fair only where a
correct program clears it. For a seed, the grader walks that item's candidate
draws in a fixed order and keeps the first ones on which the reference's
held-out MSE is at most ``accept_ratio`` times the naive one. That takes one
reference training per candidate, so the decision is made once per seed and
cached on disk; the kit ships it for its own two seeds. A seed for which no
candidate qualifies within ``max_draws`` is refused before anything is graded
(``SeedError``): an unlucky seed never becomes a student's zero.

A plan found on disk (shipped, or in ``AUTOGRADER_CACHE``, which may be shared
storage) is used only if it is one the grader would have made: the planned
items alone, each with its count of distinct integer indices below
``max_draws``, and a MAC under the secret (hidden.keyed_digest) over the plan and
its key. Anything else, a planted or corrupt file included, is decided again.

    python -m autograder.seedplan [--rubric TOML] [--seed N]   # check a seed, warm the cache
"""

import argparse
import json
import os
import sys
from itertools import islice
from pathlib import Path

from autograder.files import atomic_write_text
from autograder.hidden import keyed_digest, pipeline_candidates, warn_short_secret

# Bump when the draws or the acceptance rule change: cached and shipped plans then no longer apply.
PLAN_VERSION = 3
SHIPPED = Path(__file__).with_name("seed_plans.json")


class SeedError(RuntimeError):
    """No valid draw for this seed: the instructor must choose another one."""


def planned_items(rubric):
    """{item id: what it draws} for the items declared with @item(planned=...), in the rubric's order."""
    return {item.id: item.planned for item in rubric.items if item.planned}


def _settings(rubric, item_id, mode):
    numbers = next(i for i in rubric.items if i.id == item_id).settings    # reference_pipeline.py PlannedSeriesSettings
    count = int(getattr(numbers, "series", 1)) if mode == "grade" else 1   # the self-check: one series
    return {"count": count, "held_out": int(numbers.held_out),
            "accept_ratio": float(numbers.accept_ratio), "max_draws": int(numbers.max_draws)}


def plan_key(seed, rubric, mode):
    """What a plan depends on, hashed under the secret: the items' settings, the plan version, torch's
    version. A keyed hash, so a cache file's name says nothing about the seed."""
    import importlib.metadata

    parts = {"version": PLAN_VERSION,
             "torch": importlib.metadata.version("torch").split("+")[0].rsplit(".", 1)[0],
             "items": {item_id: _settings(rubric, item_id, mode) for item_id in planned_items(rubric)}}
    return keyed_digest(seed, "plan key/" + json.dumps(parts, sort_keys=True))[:32]


def plan_mac(seed, key, plan):
    """The plan's MAC under the secret: binds its content to this seed and key."""
    body = {k: v for k, v in plan.items() if k != "mac"}
    return keyed_digest(seed, f"plan/{key}/" + json.dumps(body, sort_keys=True))


def acceptable(plan, seed, rubric, mode, key):
    """Whether ``plan`` is one the grader would have made for this seed and key (see the module's doc)."""
    if not isinstance(plan, dict) or set(plan) != {*planned_items(rubric), "ratios", "mac"}:
        return False
    for item_id in planned_items(rubric):
        s, indices = _settings(rubric, item_id, mode), plan[item_id]
        if not (isinstance(indices, list) and len(indices) == s["count"]
                and all(type(i) is int and 0 <= i < s["max_draws"] for i in indices)
                and indices == sorted(set(indices))):
            return False
    return isinstance(plan["mac"], str) and plan["mac"] == plan_mac(seed, key, plan)


def cache_dir():
    base = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "seqmodel-kit")
    return Path(base) / "seed-plans"


def cached_plan(key):
    """Plans decided before for ``key``: shipped with the kit, then cached on this machine (unchecked)."""
    found = []
    try:
        shipped = json.loads(SHIPPED.read_text())
        if isinstance(shipped, dict) and key in shipped:
            found.append(shipped[key])
    except (OSError, ValueError):
        pass
    try:
        found.append(json.loads((cache_dir() / f"{key}.json").read_text()))
    except (OSError, ValueError, RecursionError):
        pass
    return found


def plan_for(seed, rubric, mode, reference_loader):
    """{item id: [accepted candidate indices], "ratios": {item id: [the reference's ratio on each
    candidate tried]}, "mac": ...} for this seed; computes and caches it unless an acceptable one
    was decided before.

    ``reference_loader`` returns the reference module; it is called only when
    the plan is not known yet (the student release never needs it).
    """
    key = plan_key(seed, rubric, mode)
    for plan in cached_plan(key):
        if acceptable(plan, seed, rubric, mode, key):
            return plan
    plan = compute_plan(seed, rubric, mode, reference_loader())
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(folder / f"{key}.json", json.dumps(plan) + "\n")
    except OSError:
        pass                                   # a read-only home: decide again next time
    return plan


def compute_plan(seed, rubric, mode, reference):
    """Walk each planned item's candidates; keep the first ones the reference clears."""
    import torch

    from autograder.reference_pipeline import reference_ratio, task_for

    torch.set_num_threads(1)
    plan = {"ratios": {}}
    for item_id, draws in planned_items(rubric).items():
        s = _settings(rubric, item_id, mode)
        accepted, worst = [], None
        plan["ratios"][item_id] = ratios = []
        candidates = pipeline_candidates(seed, item_id, s["held_out"], long=draws == "two_feature_series")
        for index, draw in enumerate(islice(candidates, s["max_draws"])):
            task = task_for(reference, draws, draw, s["held_out"])
            ratio = reference_ratio(reference, task)
            ratios.append(round(ratio, 4))
            worst = ratio if worst is None else min(worst, ratio)
            if ratio <= s["accept_ratio"]:
                accepted.append(index)
                if len(accepted) == s["count"]:
                    break
        if len(accepted) < s["count"]:
            raise SeedError(f"seed {seed}: only {len(accepted)} of {s['max_draws']} candidate series for "
                            f"{item_id} let the reference reach {s['accept_ratio']} x the naive MSE (best "
                            f"{worst:.2f}); choose another AUTOGRADER_HIDDEN_SEED")
        plan[item_id] = accepted
    plan["mac"] = plan_mac(seed, plan_key(seed, rubric, mode), plan)
    return plan


def kit_plans(rubric, reference):
    """{key: plan} for the kit's own seeds: the public one (check) and the rubric's hidden one (grade).

    Shipped as ``seed_plans.json`` so that neither the self-check nor a first grade with the
    default rubric trains the reference; ``--write-kit-plans`` regenerates it and a test keeps
    it current.
    """
    from autograder.rubric import tomllib

    data = tomllib.loads(rubric.text).get("data", {})
    seeds = {"check": rubric.public_seed, "grade": int(data.get("hidden_seed", 0))}
    return {plan_key(seed, rubric, mode): compute_plan(seed, rubric, mode, reference) for mode, seed in seeds.items()}


def main(argv=None):
    from autograder.rubric import RubricError, load_rubric

    parser = argparse.ArgumentParser(prog="python -m autograder.seedplan", description=__doc__.splitlines()[0])
    parser.add_argument("--rubric")
    parser.add_argument("--seed", type=int, help="default: AUTOGRADER_HIDDEN_SEED or the rubric's hidden_seed")
    parser.add_argument("--mode", choices=("grade", "check"), default="grade")
    parser.add_argument("--write-kit-plans", action="store_true", help=f"regenerate {SHIPPED.name} (maintainers)")
    args = parser.parse_args(argv)
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    if args.write_kit_plans:
        atomic_write_text(SHIPPED, json.dumps(kit_plans(rubric, load_reference()), indent=1, sort_keys=True) + "\n")
        print(f"wrote {SHIPPED}")
        return 0
    seed = args.seed if args.seed is not None else (rubric.hidden_seed if args.mode == "grade" else rubric.public_seed)
    if args.mode == "grade":
        warn_short_secret(seed)
    try:
        plan = plan_for(seed, rubric, args.mode, load_reference)
    except SeedError as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    print(f"seed plan for the {args.mode} seed: " + ", ".join(f"{k} draws {plan[k]}" for k in planned_items(rubric)))
    return 0


def load_reference():
    """The reference module, with torch set to one thread as everywhere the grader computes."""
    import torch

    import solutions.sequence_modeling as reference

    torch.set_num_threads(1)
    return reference


if __name__ == "__main__":
    sys.exit(main())
