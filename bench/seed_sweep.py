"""Does every hidden seed grade the reference 100/100, and with what margin?

An instructor picks AUTOGRADER_HIDDEN_SEED at random; a seed on which the
reference itself loses points would cost every student in the class. This
grades the reference (and, with --variants, the kit's correct variants) under
many seeds the kit was never tuned on, then reports the worst item, how many
candidate series the seed plan had to skip, and the spread of the reference's
margin to the beats_baseline and two_feature thresholds.

    python bench/seed_sweep.py [--seeds 200] [--first 1000003] [--variants]

Workers are forked from one warm zygote, as in a batch, so 200 grades take
minutes, not a quarter of an hour.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def sweep_seeds(count, first):
    """``count`` 128-bit seeds, as a course draws them (autograder/hidden.py), from a generator seeded
    with ``first``: far from any the kit was tuned on."""
    rng = random.Random(first)
    return [rng.getrandbits(128) | 1 << 128 for _ in range(count)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first", type=int, default=1_000_003, help="seeds the sweep's own seed list")
    parser.add_argument("--variants", action="store_true", help="also grade tests/corpus.py's correct variants")
    args = parser.parse_args()

    import torch._dynamo  # noqa: F401  (loaded before the zygote forks, as a batch server does)

    from autograder.sandbox import Zygote

    zygote = Zygote.fork_here()                  # before the reference is loaded

    import corpus
    from autograder.engine import grade
    from autograder.rubric import load_rubric
    from autograder.seedplan import plan_for, planned_items

    import solutions.sequence_modeling as reference

    sources = {"reference": (ROOT / "solutions" / "sequence_modeling.py").read_text()}
    if args.variants:
        sources.update({case.name: corpus.build(case) for case in corpus.CORRECT_VARIANTS})
    folder = Path(tempfile.mkdtemp(prefix="seed-sweep-"))
    paths = {}
    for name, source in sources.items():
        paths[name] = folder / f"{name}.py"
        paths[name].write_text(source)

    rubric = load_rubric()
    planned = tuple(planned_items(rubric))
    thresholds = {item.id: float(item.get("max_ratio", 0.8)) for item in rubric.items if item.id in planned}
    started = time.monotonic()
    not_full, item_losses, skipped, margins = [], {}, {k: 0 for k in planned}, {k: [] for k in planned}
    seeds = sweep_seeds(args.seeds, args.first)
    for number, seed in enumerate(seeds, start=1):
        rubric.hidden_seed = seed
        plan = plan_for(seed, rubric, "grade", lambda: reference)
        for item_id in planned:
            ratios = plan["ratios"][item_id]
            skipped[item_id] += len(ratios) - len(plan[item_id])
            margins[item_id] += [thresholds[item_id] - ratios[i] for i in plan[item_id]]
        for name, path in paths.items():
            result = grade(path, rubric=rubric, zygote=zygote)
            if result.score != 100:
                not_full.append((seed, name, result.score))
                for item in result.items:
                    if not item.passed:
                        item_losses[item.id] = item_losses.get(item.id, 0) + 1
                        print(f"  seed {seed} {name}: {item.id} {item.score}/{item.max_score} {item.feedback[:160]}")
        if number % 10 == 0:
            print(f"[{number}/{len(seeds)}] {time.monotonic() - started:.0f} s, {len(not_full)} grades below 100",
                  flush=True)
    zygote.close()

    grades = len(seeds) * len(paths)
    print(f"\n{grades} grades ({len(seeds)} seeds x {', '.join(paths)}) in {time.monotonic() - started:.0f} s")
    print(f"below 100: {len(not_full)}" + (f"  worst item: {max(item_losses, key=item_losses.get)} "
                                          f"({max(item_losses.values())} times)" if item_losses else ""))
    for item_id in planned:
        values = sorted(margins[item_id])
        print(f"{item_id:<15} margin to max_ratio {thresholds[item_id]}: min {values[0]:.3f}  "
              f"p5 {values[int(0.05 * len(values))]:.3f}  median {statistics.median(values):.3f}; "
              f"candidate series skipped by the seed plan: {skipped[item_id]}")
    return 1 if not_full else 0


if __name__ == "__main__":
    sys.exit(main())
