"""The rubric and the item declarations (fast: nothing is graded).

Items are declared by ``@item`` on their checks; the rubric only overrides
their defaults and refuses what it does not know, naming it.
"""

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys

import pytest

import corpus
from autograder.items import REGISTRY, registry
from autograder.rubric import ITEM_IDS, TABLES, RubricError, describe, load_rubric, tomllib
from conftest import ROOT, rubric_with

KIT_RUBRIC = (ROOT / "autograder" / "rubric.toml").read_text()
# Every default written out, as `python -m autograder.rubric` prints them: a rubric that sets everything.
FULL_RUBRIC = describe(load_rubric(os.devnull))

# Every number the kit's rubric graded with before items were declared by @item, as that
# rubric.toml wrote them (name, points, visibility, check, seconds, the item's own numbers).
BEFORE = {
    "make_windows": ("Sliding windows (1 feature)", 10, "visible", True, 60.0, {}),
    "make_windows_multifeature": ("Sliding windows (several features, any target column)", 5, "visible", True,
                                  60.0, {}),
    "input_validation": ("Bad input raises ValueError", 7, "visible", True, 60.0, {}),
    "time_split": ("Time-ordered split", 6, "visible", True, 60.0, {}),
    "naive_baseline": ("Naive last-value baseline", 5, "visible", True, 60.0, {}),
    "lstm_forecaster": ("LSTMForecaster", 9, "visible", True, 60.0, {"tolerance": 1e-5}),
    "train_loop": ("Training loop and predict", 9, "visible", True, 60.0,
                   {"epochs_range": (11, 24), "tolerance": 1e-4}),
    "grad_clipping": ("Gradient clipping by total norm", 6, "visible", True, 60.0,
                      {"clip_fraction": 0.1, "tolerance": 1e-4}),
    "beats_baseline": ("Your pipeline beats the naive baseline on unseen series", 8, "after_due_date", True, 60.0,
                       {"series": 3, "max_ratio": 0.8, "check_max_ratio": 0.8, "held_out": 40,
                        "accept_ratio": 0.6, "max_draws": 20}),
    "gru_forecaster": ("GRUForecaster (exercise 2)", 5, "visible", True, 60.0, {"tolerance": 1e-5}),
    "window_comparison": ("compare_window_sizes (exercise 1)", 5, "visible", True, 60.0,
                          {"epochs": 4, "tolerance": 1e-4}),
    "two_feature": ("Two-feature series (exercise 4)", 5, "visible", True, 60.0,
                    {"max_ratio": 0.8, "held_out": 40, "accept_ratio": 0.6, "max_draws": 20}),
    "rolling_forecast": ("Rolling forecast (exercise 5)", 5, "visible", True, 60.0, {}),
    "standardizer": ("Standardizer and leak-free prepare_data", 5, "visible", True, 60.0, {}),
    # Issue 20's claims and the reasoning: 10 points taken from the items above (README, "The answers").
    "answer_window_size": ("Exercise 1's answer: the best window size (BEST_WINDOW_SIZE)", 3, "visible", True, 120.0,
                           {"margin": 0.05}),
    "answer_gru_vs_lstm": ("Exercise 2's answer: LSTM or GRU (LOWER_VAL_MSE)", 2, "visible", True, 120.0,
                           {"margin": 0.05}),
    "answer_clipping": ("Exercise 3's answer: stable without clipping? (STABLE_WITHOUT_CLIPPING)", 2, "visible", True,
                        60.0, {"max_ratio": 2.0, "margin": 0.25}),
    "answer_plot": ("The plot's answer: what the predictions show (PLOT_SHOWS)", 3, "visible", True, 60.0,
                    {"margin": 0.25}),
    "reasoning": ("Your reasoning (WHY_*): graded by your instructor", 0, "visible", False, 60.0, {}),
}
LIMITS_BEFORE = {"item_seconds": 60, "import_seconds": 60, "total_seconds": 300, "memory_mb": 4096, "file_mb": 64,
                 "output_kb": 64, "tmp_mb": 64, "shm_mb": 64, "workdir_mb": 64, "worker_uid_base": 200000,
                 "max_processes": 256, "notebook_margin_seconds": 60}


def typed(value):
    """A value with its type, so 10 and 10.0 differ (reports print them differently)."""
    if isinstance(value, (tuple, list)):
        return tuple(typed(v) for v in value)
    return (type(value).__name__, value)


def write(tmp_path, text, name="rubric.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def without_item(text, item_id):
    """The rubric text with one [[items]] entry removed (an entry ends where the next table starts)."""
    blocks = text.split("\n[[items]]\n")
    kept = [b for b in blocks if not b.startswith(f'id = "{item_id}"\n')]
    assert len(kept) == len(blocks) - 1, item_id
    return "\n[[items]]\n".join(kept)


def in_item(text, item_id, old, new):
    """The rubric text with ``old`` replaced by ``new`` inside one item's entry."""
    start = text.index(f'id = "{item_id}"\n')
    end = text.find("\n[[items]]\n", start)
    end = len(text) if end < 0 else end
    assert text[start:end].count(old) == 1, (item_id, old)
    return text[:start] + text[start:end].replace(old, new) + text[end:]


# --- the declarations ----------------------------------------------------------------------

def spec_item_order():
    """The item ids of the spec's table of stubs, in its order (../shared/spec/lesson-api.md), when the
    spec is beside the kit; None in a copy of the kit that travels without it."""
    spec = ROOT.parent / "shared" / "spec" / "lesson-api.md"
    if not spec.is_file():
        return None
    text = spec.read_text()
    table = text[text.index("## Stubs"):text.index("## The reference run")]
    return tuple(dict.fromkeys(re.findall(r"^\| `(\w+)` \|", table, re.M)))


def test_item_ids_and_registry_derive_from_the_declarations_in_the_spec_order():
    order = spec_item_order()
    assert ITEM_IDS == tuple(registry.specs()) == tuple(REGISTRY)
    assert order is None or ITEM_IDS[:len(order)] == order
    for item_id, spec in registry.specs().items():
        assert REGISTRY[item_id] is spec.function and spec.function.item_id == item_id
        assert dataclasses.is_dataclass(spec.settings) and spec.settings.__dataclass_params__.frozen
    held_out = [i for i in ITEM_IDS if getattr(REGISTRY[i], "sees_held_out_data", False)]
    assert held_out == ["beats_baseline"]


def test_every_declared_item_grades_some_function_of_the_spec_table():
    graded = set().union(*corpus.ITEMS_OF_FUNCTION.values()) | {"input_validation"}
    assert set(ITEM_IDS) <= graded, set(ITEM_IDS) - graded
    assert corpus.ALL_ITEMS == set(ITEM_IDS)


def test_an_item_declared_twice_by_two_functions_is_refused():
    with pytest.raises(ValueError, match="item 'make_windows' is declared twice: by autograder.items.windows"):
        @registry.item("make_windows")
        def another_check(ctx):
            return None

    assert registry.specs()["make_windows"].function.__module__ == "autograder.items.windows"
    with pytest.raises(TypeError, match="frozen dataclass"):
        registry.item("toy", settings=dict)


# --- the kit's rubric: the same numbers as before ------------------------------------------

def test_the_kit_rubric_grades_with_exactly_the_numbers_it_had(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_HIDDEN_SEED", raising=False)
    rubric = load_rubric()
    got = {item.id: (item.name, item.points, item.visibility, item.self_check, item.seconds,
                     dataclasses.asdict(item.settings)) for item in rubric.items}
    assert list(got) == list(BEFORE) == list(ITEM_IDS)
    for item_id, before in BEFORE.items():
        assert typed(got[item_id][:5]) == typed(before[:5]), item_id
        assert {k: typed(v) for k, v in got[item_id][5].items()} == {k: typed(v) for k, v in before[5].items()}, item_id
    assert {k: typed(v) for k, v in dataclasses.asdict(rubric.limits).items()} == \
        {k: typed(v) for k, v in LIMITS_BEFORE.items()}
    assert rubric.hypothesis == {"grade_examples": 40, "check_examples": 15}
    assert (rubric.hidden_seed, rubric.public_seed, rubric.prairielearn.timeout_seconds) == (351116800914508278123899344181452766714, 7, 600)
    assert rubric.max_score == 100
    assert rubric.items[ITEM_IDS.index("beats_baseline")].get("max_ratio") == 0.8     # the old interface
    assert rubric.items[0].get("tolerance") is None


# --- the kit's rubric.toml: an instructor's overrides only ------------------------------------------

def restated_defaults(text):
    """The keys a rubric's text sets to their defaults, as "[table] key" or "item_id key"."""
    def restated(where, entry, defaults):
        return [f"{where} {key}" for key, value in entry.items() if key in defaults and value in
                (defaults[key], list(defaults[key]) if isinstance(defaults[key], tuple) else defaults[key])]

    raw = tomllib.loads(text)
    found = []
    for table, cls in TABLES.items():
        found += restated(f"[{table}]", raw.get(table, {}), {f.name: f.default for f in dataclasses.fields(cls)})
    for entry in raw.get("items", []):
        spec = registry.specs()[entry["id"]]
        defaults = {"name": spec.name, "points": spec.points, "visibility": spec.visibility,
                    "self_check": spec.self_check}
        found += restated(spec.id, entry, defaults | {f.name: f.default for f in dataclasses.fields(spec.settings)})
    return found


def test_the_kit_rubric_restates_no_default():
    """Every key the kit's rubric.toml sets differs from its default (a restated default would hide a
    change of the declaration: points=12 in @item would grade with the file's 10)."""
    assert restated_defaults(KIT_RUBRIC) == []
    assert set(tomllib.loads(KIT_RUBRIC)) == {"data"}          # nearly empty: the kit's own hidden seed
    assert restated_defaults(rubric_with('[limits]\nitem_seconds = 60\nmemory_mb = 2048\n[imports]\n'
                                         'provided = ["torch", "numpy", "matplotlib"]\n[[items]]\n'
                                         'id = "train_loop"\npoints = 9\nepochs_range = [11, 24]\n'
                                         'tolerance = 1e-3')) == \
        ["[limits] item_seconds", "[imports] provided", "train_loop points", "train_loop epochs_range"]


def test_a_declarations_default_grades_unless_the_rubric_sets_it(tmp_path, monkeypatch):
    """Changing points= (or a setting) in @item changes the grade's numbers; the file wins only where it
    sets the key."""
    declared = registry.specs()
    total = sum(spec.points for spec in declared.values()) - declared["make_windows"].points
    monkeypatch.setitem(registry._SPECS, "make_windows",
                        dataclasses.replace(declared["make_windows"], points=20, name="Windows"))
    rubric = load_rubric()
    assert rubric.points_scaled_from == total + 20 and rubric.items[0].name == "Windows"
    assert abs(rubric.items[0].points - 20 * 100 / (total + 20)) <= 0.01
    rubric = load_rubric(write(tmp_path, rubric_with(f'[[items]]\nid = "make_windows"\npoints = {100 - total}')))
    assert rubric.points_scaled_from is None and rubric.items[0].points == 100 - total
    assert rubric.items[0].name == "Windows"


def test_the_lists_of_items_derive_from_the_declarations(reference):
    """What @item says about the lesson names the reference's own functions and sections; the notebook's
    check cells and the seed plan's items come from those declarations."""
    from autograder import assign, seedplan

    specs = registry.specs()
    sections = {title for title, _ in assign._split_sections(assign.REFERENCE.read_text())}
    for spec in specs.values():
        assert spec.functions and all(hasattr(reference, name) for name in spec.functions), spec.id
        assert spec.after == "" or spec.after in sections, spec.id
    assert registry.checks_after()["Step 5"] == ("train_loop", "grad_clipping", "beats_baseline", "answer_gru_vs_lstm",
                                                 "answer_clipping")
    assert seedplan.planned_items(load_rubric()) == {"beats_baseline": "series", "two_feature": "two_feature_series"}
    assert corpus.ITEMS_OF_FUNCTION["predict"] == {"train_loop", "beats_baseline"}
    with pytest.raises(ValueError, match="planned must be one of series, two_feature_series"):
        registry.item("toy", planned="series of two")


# --- strictness: unknown keys and wrong types are named ---------------------------------------

@pytest.mark.parametrize("edit,named", [
    (lambda t: in_item(t, "grad_clipping", "clip_fraction = 0.1", "clip_fraction = 0.1\ntolerence = 1e-4"),
     "rubric item 'grad_clipping': unknown key 'tolerence' (known: name, points, visibility, self_check, seconds, "
     "clip_fraction, tolerance)"),
    (lambda t: in_item(t, "make_windows", "self_check = true", "self_check = true\ntolerance = 1e-4"),
     "rubric item 'make_windows': unknown key 'tolerance'"),
    (lambda t: t.replace("item_seconds = 60", "item_second = 60"), "rubric [limits]: unknown key 'item_second'"),
    (lambda t: t.replace("grade_examples = 40", "grade_example = 40"),
     "rubric [hypothesis]: unknown key 'grade_example'"),
    (lambda t: t.replace("public_seed = 7", "public_sead = 7"), "rubric [data]: unknown key 'public_sead'"),
    (lambda t: t.replace("timeout_seconds = 600", "timeout = 600"), "rubric [prairielearn]: unknown key 'timeout'"),
    (lambda t: t.replace("[hypothesis]", "[hypotheses]"), "rubric: unknown table 'hypotheses'"),
])
def test_an_unknown_key_or_table_is_refused_by_name(tmp_path, edit, named):
    with pytest.raises(RubricError) as refused:
        load_rubric(write(tmp_path, edit(FULL_RUBRIC)))
    assert named in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("item_id,old,new,named", [
    ("grad_clipping", "clip_fraction = 0.1", 'clip_fraction = "0.1"', "clip_fraction must be a number, got '0.1'"),
    ("grad_clipping", "clip_fraction = 0.1", "clip_fraction = true", "clip_fraction must be a number, got True"),
    ("beats_baseline", "held_out = 40", "held_out = 40.5", "held_out must be an integer, got 40.5"),
    ("beats_baseline", "series = 3", "series = false", "series must be an integer, got False"),
    ("train_loop", "epochs_range = [11, 24]", "epochs_range = [11, 24, 30]",
     "epochs_range must be a list of 2 integers, got [11, 24, 30]"),
    ("train_loop", "epochs_range = [11, 24]", "epochs_range = [11, 24.5]", "epochs_range must be a list of 2 integers"),
    ("train_loop", "epochs_range = [11, 24]", "epochs_range = 11", "epochs_range must be a list of 2 integers"),
    ("make_windows", "points = 10", 'points = "10"', "points must be a number, got '10'"),
    ("make_windows", "self_check = true", 'self_check = "yes"', "self_check must be true or false, got 'yes'"),
    ("make_windows", "self_check = true", "self_check = 1", "self_check must be true or false, got 1"),
])
def test_a_wrong_type_is_refused_naming_the_key_and_the_type(tmp_path, item_id, old, new, named):
    with pytest.raises(RubricError) as refused:
        load_rubric(write(tmp_path, in_item(FULL_RUBRIC, item_id, old, new)))
    assert f"rubric item {item_id!r}: {named}" in str(refused.value)


def test_a_wrong_type_in_a_table_is_refused(tmp_path):
    for old, new, named in [("memory_mb = 4096", 'memory_mb = "4G"', "rubric [limits]: memory_mb must be an integer"),
                            ("grade_examples = 40", "grade_examples = 4.5",
                             "rubric [hypothesis]: grade_examples must be an integer"),
                            ("timeout_seconds = 600", "timeout_seconds = true",
                             "rubric [prairielearn]: timeout_seconds must be an integer"),
                            ("total_seconds = 300", 'total_seconds = "ten"', "total_seconds must be a positive number")]:
        with pytest.raises(RubricError, match=re.escape(named)):
            load_rubric(write(tmp_path, FULL_RUBRIC.replace(old, new, 1)))


def test_the_cli_exits_2_naming_a_misspelt_key_before_grading(tmp_path):
    bad = write(tmp_path, in_item(FULL_RUBRIC, "grad_clipping", "clip_fraction = 0.1", "tolerence = 1e-4"), "bad.toml")
    env = dict(os.environ, AUTOGRADER_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--rubric", str(bad),
                           str(ROOT / "solutions" / "sequence_modeling.py")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "unknown key 'tolerence'" in done.stderr and "grad_clipping" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


# --- defaults: an item the rubric does not list; points that do not add up ----------------------

def test_an_item_the_rubric_omits_gets_its_declarations_defaults(tmp_path):
    rubric = load_rubric(write(tmp_path, without_item(FULL_RUBRIC, "two_feature")))
    assert tuple(item.id for item in rubric.items) == ITEM_IDS           # declaration order, listed or not
    omitted = rubric.items[ITEM_IDS.index("two_feature")]
    assert (omitted.name, omitted.points, omitted.visibility, omitted.self_check, omitted.seconds) == \
        BEFORE["two_feature"][:5]
    assert dataclasses.asdict(omitted.settings) == BEFORE["two_feature"][5] and rubric.max_score == 100


def test_points_that_do_not_add_up_to_100_are_scaled_to_their_shares_of_100(tmp_path):
    rubric = load_rubric(write(tmp_path, in_item(FULL_RUBRIC, "make_windows", "points = 10", "points = 14")))
    points = {item.id: item.points for item in rubric.items}
    assert rubric.points_scaled_from == 104
    assert round(sum(points.values()) * 100) == 10000                  # exactly 100, in hundredths
    assert points["make_windows"] == 13.46 and points["time_split"] == 5.77     # 14/104, 6/104 of 100
    for item_id, (_, before, *_) in BEFORE.items():                      # every share within a hundredth
        expected = (14 if item_id == "make_windows" else before) * 100 / 104
        assert abs(points[item_id] - expected) <= 0.01, item_id
    assert "scaled to its share of 100" in rubric.scaling_note()
    assert load_rubric().points_scaled_from is None and load_rubric().scaling_note() == ""


def test_points_of_zero_in_total_are_refused(tmp_path):
    text = FULL_RUBRIC
    for item_id, (_, before, *_) in BEFORE.items():
        text = in_item(text, item_id, f"points = {before:g}", "points = 0")
    with pytest.raises(RubricError, match="rubric points add up to 0"):
        load_rubric(write(tmp_path, text))


def test_the_cli_says_when_it_scaled_the_points(tmp_path):
    bad = write(tmp_path, in_item(FULL_RUBRIC, "make_windows", "points = 10", "points = 14"))
    done = subprocess.run([sys.executable, "-m", "autograder.rubric", "--rubric", str(bad)], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("# note: the rubric's points add up to 104")
    assert "points = 13.46" in done.stdout


def test_grading_with_the_kits_own_committed_seed_is_said_on_stderr(tmp_path, monkeypatch):
    """The seed in the kit's rubric.toml is public to anyone holding the kit: grade and batch say so
    when they use it (no AUTOGRADER_HIDDEN_SEED, the rubric's seed the kit's), and only then."""
    from autograder import seedplan
    from autograder.rubric import HIDDEN_SEED_VARIABLE, kit_hidden_seed, tomllib

    assert tomllib.loads(KIT_RUBRIC)["data"]["hidden_seed"] == kit_hidden_seed()
    monkeypatch.delenv(HIDDEN_SEED_VARIABLE, raising=False)
    assert "the kit's own hidden seed" in load_rubric().seed_warning()
    assert load_rubric(hidden_seed=kit_hidden_seed() + 1).seed_warning() == ""
    copied = write(tmp_path, KIT_RUBRIC, "copied.toml")                 # a course's copy keeps the kit's seed
    assert "the kit's own hidden seed" in load_rubric(copied).seed_warning()
    own = write(tmp_path, re.sub(r"(?m)^hidden_seed = .*$", "hidden_seed = 31337", KIT_RUBRIC))
    assert load_rubric(own).hidden_seed == 31337 and load_rubric(own).seed_warning() == ""
    monkeypatch.setenv(HIDDEN_SEED_VARIABLE, "918273645")
    assert load_rubric().seed_warning() == ""

    submission = write(tmp_path, "import pandas\n", "quick.py")      # graded at once: the import verdict
    (tmp_path / "class" / "ada").mkdir(parents=True)     # no file: refused before a grading server starts torch
    kit_seed = {k: v for k, v in os.environ.items() if k != HIDDEN_SEED_VARIABLE}
    # The course's seed plan, decided here where torch is loaded, into this run's cache (conftest),
    # which the batch then reads instead of loading torch to train the reference itself.
    seedplan.plan_for(918273645, load_rubric(hidden_seed=918273645), "grade", seedplan.load_reference)
    commands = {"grade": ["grade", str(submission)],
                "batch": ["batch", str(tmp_path / "class"), "--out", str(tmp_path / "grades"), "--jobs", "1", "--force"]}
    for name, command in commands.items():
        for env, warned in ((kit_seed, True), (dict(kit_seed, **{HIDDEN_SEED_VARIABLE: "918273645"}), False)):
            done = subprocess.run([sys.executable, "-m", "autograder", *command], capture_output=True, text=True,
                                  cwd=ROOT, env=env, timeout=300)
            assert done.returncode == 0, done.stderr
            assert ("the kit's own hidden seed" in done.stderr) == warned, (name, done.stderr)
    checked = subprocess.run([sys.executable, "-m", "autograder", "check", str(submission)], capture_output=True,
                             text=True, cwd=ROOT, env=kit_seed, timeout=300)
    assert checked.returncode == 0 and "hidden seed" not in checked.stderr     # the self-check: public data only
    refused = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "missing.py")],
                             capture_output=True, text=True, cwd=ROOT, env=kit_seed, timeout=300)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1      # a refusal stays one line


# --- the README's worked example, run as written ------------------------------------------------

def readme_example():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Development: adding an item"):]
    python = re.findall(r"```python\n(.*?)```", section, re.S)
    toml = re.findall(r"```toml\n(.*?)```", section, re.S)
    module = next(block for block in python if "@item(" in block)
    return re.sub(r"^   ", "", module, flags=re.M), re.sub(r"^   ", "", toml[0], flags=re.M)


@pytest.fixture
def seasonal_item(tmp_path):
    """The README's item module, imported from a temporary file; forgotten again afterwards. (In a copy
    of the kit that followed the README, tests/test_readme_example.py's, the item is the kit's own.)"""
    if "seasonal_naive" in registry.specs():
        pytest.skip("the kit already declares the README's item")
    source, entry = readme_example()
    module_path = write(tmp_path, source, "readme_seasonal_item.py")
    spec = importlib.util.spec_from_file_location("readme_seasonal_item", module_path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module, entry
    finally:
        registry.unregister("seasonal_naive")
    assert "seasonal_naive" not in registry.specs()


def test_the_readme_example_declares_an_item_the_rubric_sees(tmp_path, seasonal_item):
    module, entry = seasonal_item
    ids = registry.item_ids()
    assert ids[-1] == "seasonal_naive" and ids[:-1] == ITEM_IDS
    assert REGISTRY["seasonal_naive"] is module.grade_seasonal_naive

    rubric = load_rubric()                                   # no edit: its 5 default points make 105
    added = rubric.items[-1]
    assert rubric.points_scaled_from == 105 and round(rubric.max_score, 2) == 100
    assert (added.id, added.name, added.points, added.settings.season) == \
        ("seasonal_naive", "Seasonal naive baseline (exercise 6)", 4.76, 12)
    assert rubric.items[0].points == 9.52                      # make_windows: 10 of 105

    fitted = rubric_with('[[items]]\nid = "make_windows"\npoints = 5')
    rubric = load_rubric(write(tmp_path, fitted))
    assert rubric.points_scaled_from is None and rubric.items[-1].points == 5

    rubric = load_rubric(write(tmp_path, fitted.rstrip("\n") + "\n\n" + entry))
    assert rubric.items[-1].settings.season == 7 and rubric.max_score == 100
    with pytest.raises(RubricError, match="rubric item 'seasonal_naive': unknown key 'sesaon'"):
        load_rubric(write(tmp_path, fitted + "\n" + entry.replace("season =", "sesaon =")))


def test_loading_the_rubric_does_not_import_torch():
    """The grader loads torch while the worker starts (engine.grade); a rubric that imported it
    first would make every grade wait for it twice in a row."""
    probe = ("import sys\nfrom autograder.rubric import load_rubric\nload_rubric()\n"
             "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout
