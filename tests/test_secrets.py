"""The hidden seed is a secret that cannot be searched, and nothing found on disk is trusted with it.

Every draw derives from the whole secret through a one-way step (autograder/hidden.py), bundles
draw and demand 128-bit seeds, ``grade`` and ``batch`` warn about shorter ones, and a seed plan
read from a cache is used only if it is what the grader would make, bound to the seed by a MAC.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from autograder import hidden, seedplan
from autograder.platforms import bundle
from autograder.rubric import load_rubric
from conftest import ROOT, rubric_with

LONG = 261803398874989484820458683436563811772           # 128 bits


def draws(seed, item_id, stream=""):
    return hidden.item_rng(seed, item_id, stream).integers(0, 2**63, 4).tolist()


def test_every_draw_depends_on_the_whole_secret():
    """Seeds equal in their low 32 bits (the old derivation kept only those) draw different data."""
    low = LONG & 0xFFFFFFFF
    assert draws(LONG, "make_windows") != draws(low, "make_windows")
    assert draws(LONG, "make_windows") != draws(LONG ^ (1 << 127), "make_windows")
    assert draws(LONG, "make_windows") == draws(LONG, "make_windows")            # deterministic


def test_each_item_and_stream_has_its_own_generator():
    assert draws(LONG, "make_windows") != draws(LONG, "time_split")
    assert draws(LONG, "make_windows", "a") != draws(LONG, "make_windows", "b")
    # item "a/b" with stream "" and item "a" with stream "b/" must not collide by string joining alone
    assert len({tuple(draws(LONG, i, s)) for i, s in (("x", "y"), ("x/y", ""), ("x", "y/"))}) == 3


def test_fresh_secrets_are_long_and_short_ones_are_named():
    fresh = [hidden.fresh_secret() for _ in range(20)]
    assert len(set(fresh)) == 20 and all(not hidden.short_secret(s) for s in fresh)
    assert not hidden.short_secret(LONG)
    assert "fewer than 128" in hidden.short_secret(918273645)
    assert hidden.short_secret(2**127 - 1) and not hidden.short_secret(2**127)


def test_bundles_draw_128_bit_seeds_and_refuse_shorter_ones(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_HIDDEN_SEED", raising=False)
    seed, source = bundle.resolve_seed()
    assert seed.bit_length() > 128 and source.startswith("drawn")
    assert bundle.resolve_seed(str(LONG)) == (LONG, "--seed")
    with pytest.raises(ValueError, match="fewer than 128"):
        bundle.resolve_seed("6042026")
    monkeypatch.setenv("AUTOGRADER_HIDDEN_SEED", str(2**64 + 1))
    with pytest.raises(ValueError, match="AUTOGRADER_HIDDEN_SEED.*fewer than 128"):
        bundle.resolve_seed()


@pytest.mark.parametrize("command", ["grade", "batch"])
def test_grade_and_batch_warn_about_a_short_seed(command, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AUTOGRADER_HIDDEN_SEED": "918273645"}
    args = {"grade": ["autograder", "grade", str(tmp_path / "missing.py")],
            "batch": ["autograder", "batch", str(tmp_path / "none"), "--out", str(tmp_path / "o")]}[command]
    out = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 2
    [warning] = [line for line in out.stderr.splitlines() if "warning" in line]
    assert "warning: the hidden seed has 30 bits, fewer than 128" in warning and "918273645" not in warning
    env["AUTOGRADER_HIDDEN_SEED"] = str(LONG)
    out = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 2 and "warning" not in out.stderr


def test_seedplan_warns_about_a_short_seed(tmp_path, monkeypatch, capsys):
    """``python -m autograder.seedplan``'s main in this process: a new interpreter would spend
    longer importing torch than on the one training before the unlucky rubric is refused."""
    unlucky = tmp_path / "unlucky.toml"            # no seed has a valid draw: seedplan exits 2 after one training
    unlucky.write_text(rubric_with('[[items]]\nid = "beats_baseline"\naccept_ratio = 0.0001\nmax_draws = 1'))
    monkeypatch.setenv("AUTOGRADER_HIDDEN_SEED", "918273645")
    assert seedplan.main(["--rubric", str(unlucky)]) == 2
    [warning] = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert "warning: the hidden seed has 30 bits, fewer than 128" in warning and "918273645" not in warning
    monkeypatch.setenv("AUTOGRADER_HIDDEN_SEED", str(LONG))
    assert seedplan.main(["--rubric", str(unlucky)]) == 2 and "warning" not in capsys.readouterr().err


# --- seed plans found on disk ------------------------------------------------------------------

@pytest.fixture
def kit_plan():
    """The shipped plan of the kit's own hidden seed: (rubric, key, plan)."""
    rubric = load_rubric()
    key = seedplan.plan_key(rubric.hidden_seed, rubric, "grade")
    return rubric, key, json.loads(seedplan.SHIPPED.read_text())[key]


def test_the_shipped_plan_is_acceptable(kit_plan):
    rubric, key, plan = kit_plan
    assert seedplan.acceptable(plan, rubric.hidden_seed, rubric, "grade", key)


def forged(plan, **changes):
    return {**json.loads(json.dumps(plan)), **changes}


@pytest.mark.parametrize("change", [
    {"beats_baseline": [-1, 0, 1]},                     # a negative index: every correct submission's grader error
    {"beats_baseline": [0, 1, 10**9]},                  # a huge one: millions of series built outside any deadline
    {"beats_baseline": [0, 1]},                         # the wrong count
    {"beats_baseline": [1, 1, 2]},                      # a draw graded twice
    {"beats_baseline": [0, 1, True]},                   # not an integer
    {"beats_baseline": [0.0, 1, 2]},
    {"two_feature": "0"},
    {"extra": [0]},
])
def test_a_plan_the_grader_would_not_make_is_refused(kit_plan, change):
    rubric, key, plan = kit_plan
    planted = forged(plan, **change)
    planted["mac"] = seedplan.plan_mac(rubric.hidden_seed, key, planted)      # even with a valid MAC
    assert not seedplan.acceptable(planted, rubric.hidden_seed, rubric, "grade", key)


def test_a_plan_without_the_secret_s_mac_is_refused(kit_plan):
    """A planted file chooses other valid-looking draws (the ones a student studied, say): its MAC gives it away."""
    rubric, key, plan = kit_plan
    planted = forged(plan, beats_baseline=[3, 4, 5])
    assert not seedplan.acceptable(planted, rubric.hidden_seed, rubric, "grade", key)
    planted["mac"] = seedplan.plan_mac(rubric.hidden_seed + 1, key, planted)
    assert not seedplan.acceptable(planted, rubric.hidden_seed, rubric, "grade", key)
    assert not seedplan.acceptable(forged(plan, mac=None), rubric.hidden_seed, rubric, "grade", key)


class Recomputed(Exception):
    pass


def refuse_to_compute():
    raise Recomputed()


def test_a_planted_cache_file_is_decided_again_and_a_valid_one_is_used(kit_plan, tmp_path, monkeypatch):
    rubric, _, plan = kit_plan
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path))
    seed = LONG                                                             # no plan is shipped for it
    key = seedplan.plan_key(seed, rubric, "grade")
    folder = seedplan.cache_dir()
    folder.mkdir(parents=True)
    (folder / f"{key}.json").write_text(json.dumps(forged(plan, beats_baseline=[-1, 0, 1])))
    with pytest.raises(Recomputed):
        seedplan.plan_for(seed, rubric, "grade", refuse_to_compute)
    good = forged(plan, beats_baseline=[0, 2, 5])
    good["mac"] = seedplan.plan_mac(seed, key, good)
    (folder / f"{key}.json").write_text(json.dumps(good))
    assert seedplan.plan_for(seed, rubric, "grade", refuse_to_compute) == good


def test_a_plan_key_says_nothing_of_the_seed_without_it(kit_plan):
    """The cache's file names are keyed hashes: equal settings, other seeds, unrelated names."""
    rubric, key, _ = kit_plan
    assert seedplan.plan_key(LONG, rubric, "grade") != key
    assert str(rubric.hidden_seed) not in json.dumps(json.loads(seedplan.SHIPPED.read_text()))
    assert np.all([len(k) == 32 for k in json.loads(seedplan.SHIPPED.read_text())])
