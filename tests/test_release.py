"""``autograder release``: a hand-out without the answer key, a self-check that agrees with the
kit's, and a Gradescope bundle that keeps the reference, the seed and the late item's score hidden.

The fast tests cover the oracle, the rubric rewriting and results.json's
visibility on their own; the slow ones build one release (module fixture)
and use it: leak scan, the whole corpus replayed against the live reference,
a fresh virtual environment, and run_autograder in a fake /autograder.
"""

import ast
import gzip
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

import corpus
from answer_shapes import find_answer_shapes
from autograder import assign, forecasters
from autograder.handout import oracle
from autograder.handout.release import strip_hidden_seed
from autograder.items import registry
from autograder.reports.results import top_level_visibility
from autograder.rubric import with_hidden_seed
from autograder.rubric import ITEM_IDS, load_rubric, tomllib
from conftest import ROOT, rubric_with

SEED = 261803398874989484820458683436563811772   # distinctive (its digits cannot turn up by chance), 128 bits
REFERENCE = ROOT / "solutions" / "sequence_modeling.py"
slow = pytest.mark.slow


def _reference():
    import solutions.sequence_modeling as reference
    return reference


# --- the lesson's model, answered as data -------------------------------------------------

def test_the_forecaster_checks_numbers_come_from_the_reference_and_replay_without_it(tmp_path, monkeypatch):
    """oracle.derived: the reference's own model, run live, recorded, and replayed where
    autograder/forecasters.py (which the hand-out does not ship) cannot be imported."""
    reference, function = _reference(), "autograder.forecasters:expectation"
    X = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    live = oracle.derived(reference, function, "GRUForecaster", {"input_size": 2}, 7, [X])
    torch.manual_seed(7)
    model = reference.GRUForecaster(input_size=2).eval()
    assert all(np.array_equal(p.detach().numpy(), q) for p, q in zip(model.parameters(), live["params"]))
    with torch.no_grad():
        assert np.array_equal(model(torch.from_numpy(X)).numpy(), live["outputs"][0])
        first_step = model.fc(model.gru(torch.from_numpy(X))[0][:, 0, :]).numpy()
    assert np.array_equal(live["mistakes"][0][forecasters.FIRST_STEP], first_step)
    assert not np.allclose(first_step, live["outputs"][0], atol=1e-5)

    recorder, rng = oracle.RecordingOracle(reference), torch.get_rng_state()
    recorded = oracle.derived(recorder, function, "GRUForecaster", {"input_size": 2}, 7, [X])
    assert torch.equal(torch.get_rng_state(), rng)                  # the answer depends on its arguments only
    replay = oracle.ReplayOracle.load(recorder.save(tmp_path / "answers.json.gz"))
    monkeypatch.setitem(sys.modules, "autograder.forecasters", None)          # as in the hand-out
    replayed = oracle.derived(replay, function, "GRUForecaster", {"input_size": 2}, 7, [X])
    for answer in (recorded, replayed):
        assert all(np.array_equal(a, b) for a, b in zip(answer["params"], live["params"]))
        assert np.array_equal(answer["outputs"][0], live["outputs"][0])
        assert list(answer["mistakes"][0]) == list(live["mistakes"][0])
    with pytest.raises(oracle.OracleMiss):
        oracle.derived(replay, function, "GRUForecaster", {"input_size": 2}, 8, [X])


# --- the oracle ---------------------------------------------------------------------------------

class GlobalDropoutNet(torch.nn.Module):
    """A forecaster whose dropout draws from torch's global generator (the grader's probe does not):
    its training depends on the RNG state, which is what the oracle must key such answers by."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 4, batch_first=True)
        self.drop = torch.nn.Dropout(0.25)
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(self.drop(self.lstm(x)[0][:, -1, :]))


def probe_training_call(reference_like, seed=5, epochs=4, global_dropout=False):
    """A train_model call like train_loop's: a dropout probe, a log callable, a global step hook."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    from autograder.sandbox.probes import probe_models

    ProbeNet, _ = probe_models()
    torch.manual_seed(1)
    model = GlobalDropoutNet() if global_dropout else ProbeNet(1, 4, 0.25)
    rng = np.random.default_rng(0)
    data = [torch.from_numpy(rng.normal(size=shape).astype(np.float32)) for shape in
            ((12, 5, 1), (12, 1), (4, 5, 1), (4, 1))]
    logs, norms = [], []
    handle = register_optimizer_step_pre_hook(
        lambda opt, a, k: norms.append(float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm())))
    torch.manual_seed(seed)
    try:
        history = reference_like.train_model(model, *data, epochs=epochs, lr=0.02, log_every=2, log=logs.append)
    finally:
        handle.remove()
    return {"history": history, "logs": logs, "norms": norms, "training": model.training,
            "params": [p.detach().clone() for p in model.parameters()], "rng": torch.get_rng_state()}


def test_replay_repeats_answers_logs_step_hooks_module_state_and_rng(tmp_path):
    recorder = oracle.RecordingOracle(_reference(), variants={"train_model": ("epochs", [2, 6])})
    series = np.sin(np.arange(40, dtype=np.float32) * 0.3)
    live_windows = recorder.make_windows(series, 5)
    live = probe_training_call(recorder)
    path = recorder.save(tmp_path / "answers.json.gz")

    replay = oracle.ReplayOracle.load(path)
    X, y = replay.make_windows(series, 5)
    assert torch.equal(X, live_windows[0]) and torch.equal(y, live_windows[1]) and X.dtype == torch.float32
    again = probe_training_call(replay)
    assert again["history"] == live["history"] and again["logs"] == live["logs"] and len(again["logs"]) == 3
    assert again["norms"] == live["norms"] and len(again["norms"]) == 4          # the hook fired at every step
    assert again["training"] is False
    assert all(torch.equal(a, b) for a, b in zip(again["params"], live["params"]))
    assert torch.equal(again["rng"], live["rng"])
    six = probe_training_call(replay, epochs=6)                                  # a recorded variant
    assert len(six["norms"]) == 6 and six["params"][0].shape == live["params"][0].shape


def test_replay_misses_loudly_instead_of_answering_something_else(tmp_path):
    recorder = oracle.RecordingOracle(_reference())
    recorder.naive_mse(torch.ones(3, 2, 1), torch.zeros(3, 1))
    replay = oracle.ReplayOracle.load(recorder.save(tmp_path / "a.json.gz"))
    assert replay.naive_mse(torch.ones(3, 2, 1), torch.zeros(3, 1)) == 1.0
    with pytest.raises(oracle.OracleMiss, match=r"^GRADER ERROR: the self-check has no recorded answer for "
                                                r"naive_mse\(tensor\(3, 2, 1\), tensor\(3, 1\), 1\)"):
        replay.naive_mse(torch.ones(3, 2, 1), torch.zeros(3, 1), 1)
    with pytest.raises(oracle.OracleMiss):
        replay.naive_mse(torch.ones(3, 2, 1) * 2, torch.zeros(3, 1))              # same shapes, other bytes


def test_an_answer_that_depends_on_the_rng_is_keyed_by_it(tmp_path):
    recorder = oracle.RecordingOracle(_reference())
    torch.manual_seed(3)
    probe_training_call(recorder, seed=5, global_dropout=True)
    replay = oracle.ReplayOracle.load(recorder.save(tmp_path / "a.json.gz"))
    probe_training_call(replay, seed=5, global_dropout=True)
    with pytest.raises(oracle.OracleMiss):                                       # dropout saw other masks
        probe_training_call(replay, seed=6, global_dropout=True)


def test_an_exception_of_the_reference_is_replayed_as_the_same_exception(tmp_path):
    recorder = oracle.RecordingOracle(_reference())
    series = np.arange(10, dtype=np.float32)
    with pytest.raises(ValueError) as live:
        recorder.make_windows(series, 0)
    replay = oracle.ReplayOracle.load(recorder.save(tmp_path / "a.json.gz"))
    with pytest.raises(ValueError) as replayed:
        replay.make_windows(series, 0)
    assert str(replayed.value) == str(live.value) and "window_size" in str(live.value)


def test_recording_refuses_what_it_cannot_replay():
    recorder = oracle.RecordingOracle(_reference())
    with pytest.raises(oracle.OracleError, match="class"):
        recorder.LSTMForecaster


# --- rubric rewriting and what results.json shows before the due date ---------------------------------

def test_the_hand_out_rubric_has_no_hidden_seed_and_the_zip_rubric_has_exactly_ours():
    text = load_rubric().text
    stripped = strip_hidden_seed(text)
    assert "hidden_seed" not in tomllib.loads(stripped)["data"] and "351116800914508278123899344181452766714" not in stripped
    assert tomllib.loads(with_hidden_seed(text, SEED))["data"]["hidden_seed"] == SEED
    assert tomllib.loads(with_hidden_seed(stripped, SEED))["data"]["hidden_seed"] == SEED
    assert tomllib.loads(with_hidden_seed("[limits]\n", 9))["data"]["hidden_seed"] == 9


def student_view_before_due_date(results):
    """What Gradescope shows a student before the due date: visible tests, and the top level
    (score and output) only when the top level itself is visible."""
    view = {"tests": [t for t in results["tests"] if t.get("visibility", results.get("visibility")) == "visible"]}
    if results.get("visibility", "visible") == "visible":
        view.update(score=results["score"], output=results.get("output", ""))
    if results.get("stdout_visibility") == "visible":
        view["stdout"] = True
    return view


def fake_result(scores, visibility_of_late="after_due_date"):
    from autograder.engine import GradeResult, ItemResult

    rubric = load_rubric()
    items = [ItemResult(item.id, item.name, scores.get(item.id, item.points), item.points, "fine",
                        visibility_of_late if item.visibility != "visible" else "visible") for item in rubric.items]
    return GradeResult("x.py", "grade", items)


def test_before_the_due_date_no_total_reveals_the_late_items_score():
    late = [item.id for item in load_rubric().items if item.visibility != "visible"]
    assert late == ["beats_baseline"]
    late_points = next(item.points for item in load_rubric().items if item.id == "beats_baseline")
    for late_score in (0.0, late_points):
        data = fake_result({"beats_baseline": late_score}).to_gradescope()
        view = student_view_before_due_date(data)
        assert "score" not in view and "output" not in view and "stdout" not in view
        assert not any("beats_baseline" in t["tags"] for t in view["tests"])
        assert str(data["score"]) not in data["output"] and "/100" not in data["output"]
        assert data["visibility"] == "after_due_date" and data["score"] == 100 - late_points + late_score
    # Whatever the late item scored, a student sees the same thing.
    views = [student_view_before_due_date(fake_result({"beats_baseline": s}).to_gradescope())
             for s in (0.0, late_points)]
    assert views[0] == views[1]


def test_the_top_level_is_as_strict_as_the_strictest_item():
    assert top_level_visibility(["visible", "visible"]) == "visible"
    assert top_level_visibility(["visible", "after_due_date"]) == "after_due_date"
    assert top_level_visibility(["after_due_date", "hidden", "visible"]) == "hidden"
    everything_visible = fake_result({}, visibility_of_late="visible").to_gradescope()
    assert everything_visible["visibility"] == "visible" and everything_visible["output"].startswith("100.00/100")


# --- the release ---------------------------------------------------------------------------------

def autograder(*args, cwd=ROOT, timeout=600, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    done = autograder("release", out, "--seed", SEED)
    assert done.returncode == 0, done.stderr
    assert str(SEED) not in done.stdout + done.stderr
    return out


# The answer-key detector: statements of every BEGIN SOLUTION region, compared as ASTs, so a
# copy with other formatting, quotes, comments or line breaks is still found.

def solution_regions():
    lines, regions, current = REFERENCE.read_text().splitlines(), [], None
    for line in lines:
        if line.strip() == "# BEGIN SOLUTION":
            current = []
        elif line.strip() == "# END SOLUTION":
            body = textwrap.dedent("\n".join(current))
            regions.append([ast.dump(stmt) for stmt in ast.parse(body).body])
            current = None
        elif current is not None:
            current.append(line)
    assert len(regions) >= 20
    return regions


def statement_blocks(source):
    """Every statement list in ``source`` (module, function, class, loop and branch bodies), dumped."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    blocks = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                blocks.append([ast.dump(s) for s in stmts])
        for handler in getattr(node, "handlers", []):
            blocks.append([ast.dump(s) for s in handler.body])
    return blocks


def texts_of(path):
    """Every piece of text a file holds: itself, decompressed, notebook cells, markdown code, JSON strings."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    texts = [text]
    texts += [block.split("\n", 1)[-1] for block in text.split("```")[1::2]]
    try:
        parsed = json.loads(text)
    except ValueError:
        return texts
    texts = texts[1:]                          # JSON is a Python expression too: parse its strings, not all of it
    stack = [parsed]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += value.values()
        elif isinstance(value, list):
            if value and all(isinstance(v, str) for v in value):
                texts.append("".join(value))                     # notebook sources are lists of lines
            stack += value
        elif isinstance(value, str) and (" " in value or "(" in value):     # not base64 data: maybe code
            texts.append(value)
    return texts


def find_answer_key(folder, regions):
    """(file, region number) for every solution region whose statements appear in a file of ``folder``."""
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        blocks = [b for text in texts_of(path) for b in statement_blocks(text)]
        for number, region in enumerate(regions):
            n = len(region)
            if any(block[i : i + n] == region for block in blocks for i in range(len(block) - n + 1)):
                found.append((path.relative_to(folder).as_posix(), number))
    return found


def find_digits(folder, digits):
    """Files whose bytes, or decompressed bytes, hold ``digits``."""
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if digits.encode() in data or (path.suffix == ".gz" and digits.encode() in gzip.decompress(data)):
            found.append(path.relative_to(folder).as_posix())
    return found


@slow
def test_the_hand_out_holds_no_answer_key_and_no_hidden_seed(release, tmp_path):
    student = release / "student"
    regions = solution_regions()
    assert find_answer_key(student, regions) == []
    assert find_digits(student, str(SEED)) == []
    names = {p.relative_to(student).as_posix() for p in student.rglob("*")}
    assert not any(n.startswith(("solutions", "tests")) or "__pycache__" in n or n.endswith(".pyc") for n in names)
    assert {"lessons/sequence_modeling.py", "lessons/sequence_modeling.ipynb", "lessons/README.md",
            "pyproject.toml", "constraints.txt", "autograder/cli.py", "autograder/check_answers.json.gz"} <= names
    assert not {"autograder/assign.py", "autograder/platforms/gradescope.py", "autograder/classroom/batch.py"} & names
    assert (student / "lessons" / "sequence_modeling.py").read_text() == assign.STUB_FILE.read_text()
    rubric = tomllib.loads((student / "autograder" / "rubric.toml").read_text())
    assert "hidden_seed" not in rubric.get("data", {})
    assert load_rubric(student / "autograder" / "rubric.toml").public_seed == load_rubric().public_seed

    # The detector is proven on planted copies: one reformatted into a module, one as a JSON string.
    planted = tmp_path / "planted"
    shutil.copytree(student, planted)
    windows_region = next(i for i, r in enumerate(regions) if any("n_windows" in s for s in r))
    body = ast.unparse(ast.parse(region_source(windows_region)))          # other spacing, quotes, no comments
    (planted / "autograder" / "helpers.py").write_text(
        "def windows(series, window_size, target_col=0):\n    # harmless, says the comment\n\n" +
        textwrap.indent(body, "    ") + "\n")
    predict_region = next(i for i, r in enumerate(regions) if any("no_grad" in s for s in r) and len(r) == 2)
    (planted / "data.json.gz").write_bytes(gzip.compress(json.dumps({"note": region_source(predict_region)}).encode()))
    (planted / "seed.txt").write_text(f"seed = {SEED}\n")
    assert {f for f, _ in find_answer_key(planted, regions)} == {"autograder/helpers.py", "data.json.gz"}
    assert find_digits(planted, str(SEED)) == ["seed.txt"]


@slow
def test_the_hand_out_holds_no_answer_shapes(release):
    """No forecaster reading its LSTM/GRU at the last step, no windowing loop, no clip before a step: the
    answers' shapes, in any words (tests/answer_shapes.py), in the code and the notebook handed out."""
    assert find_answer_shapes(release / "student") == []


def test_the_files_the_hand_out_copies_hold_no_answer_shapes(tmp_path):
    """The same, fast: the kit's files that `autograder release` copies, without building a release."""
    from autograder.handout import release as release_module

    package = ROOT / "autograder"
    files = [package / name for name in release_module.SELF_CHECK_MODULES]
    files += [p for sub in release_module.SELF_CHECK_PACKAGES for p in sorted((package / sub).glob("*.py"))]
    for path in files + [assign.STUB_FILE]:
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    assert find_answer_shapes(tmp_path) == []


def region_source(number):
    lines, count, current = REFERENCE.read_text().splitlines(), -1, None
    for line in lines:
        if line.strip() == "# BEGIN SOLUTION":
            count, current = count + 1, []
        elif line.strip() == "# END SOLUTION":
            if count == number:
                return textwrap.dedent("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    raise AssertionError(number)


class CheckedReplay:
    """The hand-out's oracle, each answer checked against the live reference as it is given.

    Every call runs live (kept from the grader: its hooks and callables see nothing) and then
    replayed; the answer, what was logged and stepped, the Module arguments' final state and
    the RNG state must be identical. Identical answers make identical verdicts, so one grading
    per submission shows the self-check and the full kit agree.
    """

    def __init__(self, replay, live):
        self.replay, self.live, self.calls, self.mismatches = replay, live, 0, []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls += 1
            modules = oracle._module_slots(args, kwargs)
            before, rng = oracle._snapshot(modules), torch.get_rng_state()
            entry = (self.replay._calls.get(oracle.call_key(name, args, kwargs)) or
                     self.replay._calls.get(oracle.call_key(name, args, kwargs, rng)))
            form, events, after, rng_after, _ = oracle._execute(getattr(self.live, name), name, args, kwargs,
                                                                live=False)
            oracle._restore(before)
            torch.set_rng_state(rng)
            answer = getattr(self.replay, name)(*args, **kwargs)
            replayed = (oracle.encode(answer), entry["events"],
                        {oracle._slot_name(s): oracle._module_form(m) for s, m in modules})
            if replayed != (form, events, after) or not torch.equal(torch.get_rng_state(), rng_after):
                self.mismatches.append(oracle.describe_call(name, args, kwargs))
            return answer
        return call

    def derived(self, function, args):
        self.calls += 1
        live = oracle.encode(oracle.derived(self.live, function, *args))
        answer = self.replay.derived(function, args)
        if oracle.encode(answer) != live:
            self.mismatches.append(f"derived:{function}")
        return answer


def pass_fail(result):
    return {item.id: item.passed for item in result.items}


def corpus_sources():
    """(name, source, the items to check): the answer items (six trainings) only for the cases about
    them and the stub (whose blank answers cost no training)."""
    from verdicts import CODE_ITEMS

    cases = [(c.name, corpus.build(c), None if c.claims else CODE_ITEMS)
             for c in corpus.WRONG + corpus.CORRECT_VARIANTS]
    return cases + [("stub", assign.STUB_FILE.read_text(), None)]


@slow
def test_the_self_check_agrees_with_the_full_kit_on_the_whole_corpus(release, tmp_path):
    from autograder import sandbox
    from autograder.engine import grade

    rubric = load_rubric()
    replay = oracle.ReplayOracle.load(release / "student" / "autograder" / "check_answers.json.gz")
    checked = CheckedReplay(replay, _reference())
    zygote = sandbox.Zygote()
    verdicts = {}
    try:
        for name, source, only in corpus_sources():
            path = tmp_path / f"{name}.py"
            path.write_text(source)
            result = grade(path, mode="check", rubric=rubric, zygote=zygote, oracle=checked, only=only)
            assert not any("GRADER ERROR" in item.feedback for item in result.items), (name, [
                item.feedback for item in result.items if "GRADER ERROR" in item.feedback])
            verdicts[name] = pass_fail(result)
    finally:
        zygote.close()
    assert checked.mismatches == [] and checked.calls > 100
    # The corpus really exercises the self-check: every check item fails somewhere, passes somewhere.
    assert {i for v in verdicts.values() for i, ok in v.items() if not ok} == \
        {i.id for i in rubric.items if i.self_check}
    assert all(all(v.values()) for name, v in verdicts.items() if name in {c.name for c in corpus.CORRECT_VARIANTS})


# --- the hand-out in a fresh virtual environment -----------------------------------------------

def report_verdicts(text):
    """{item id: passed} from a text report's item lines."""
    verdicts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] in ("ok", "FAIL") and parts[1] in ITEM_IDS:
            verdicts[parts[1]] = parts[0] == "ok"
    return verdicts


@pytest.fixture(scope="module")
def installed(release, tmp_path_factory):
    """(venv, env): the hand-out installed exactly as its README says, in a fresh virtual environment."""
    student = release / "student"
    assert "pip install -c constraints.txt ." in (student / "README.md").read_text()
    venv = tmp_path_factory.mktemp("hand-out-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND")}
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-compile",    # no .pyc: faster
                           "-c", "constraints.txt", "."], cwd=student, capture_output=True, text=True,
                          timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv, env


@slow
def test_the_hand_out_installs_in_a_fresh_venv_and_checks_like_the_kit(release, installed, tmp_path):
    from autograder.engine import grade

    student = release / "student"
    venv, env = installed
    work = tmp_path / "work"                   # a folder with no kit on the path
    work.mkdir()
    shutil.copytree(student / "lessons", work / "lessons")
    cases = {"lessons/sequence_modeling.py": None, "correct.py": corpus.build(corpus.CORRECT_VARIANTS[0]),
             "wrong.py": corpus.build(corpus.WRONG[0])}
    for name, source in cases.items():
        if source is not None:
            (work / name).write_text(source)
        command = ["check", name] if source is not None else ["check"]      # the stub, by the default path
        done = subprocess.run([str(venv / "bin" / "autograder"), *command], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert f"(self-check on public data): {name}" in done.stdout and "GRADER ERROR" not in done.stdout
        kit = grade(work / name, mode="check")
        checked = [item.id for item in load_rubric().items if item.self_check]       # reasoning is for people
        assert report_verdicts(done.stdout) == pass_fail(kit) and list(pass_fail(kit)) == checked, name
    refused = subprocess.run([str(venv / "bin" / "autograder"), "grade", "stub.py"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "use `autograder check [PATH]`" in refused.stderr
    no_reference = subprocess.run([str(venv / "bin" / "python"), "-c", "import solutions"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=120)
    assert "ModuleNotFoundError" in no_reference.stderr
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import autograder, os; "
                           "print(os.path.dirname(os.path.dirname(autograder.__file__)))"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=120).stdout.strip()
    assert find_answer_key(Path(site) / "autograder", solution_regions()) == []


@slow
def test_the_hand_outs_notebook_runs_whole_in_its_own_install(release, installed, tmp_path, monkeypatch):
    """Every cell of the hand-out's notebook, the reference's code in its stubs, in a real kernel of
    the hand-out's install: the lab cell plots (matplotlib), every check cell shows full points.

    The kernel needs ipykernel, which a student's Jupyter brings; it is added to the venv for that
    alone (it does not bring matplotlib: what the lab cell imports must come from the hand-out).
    """
    import nbformat
    from test_notebook_check import answer_as_the_reference, check_outputs, fill_stubs, sections_of

    nbclient = pytest.importorskip("nbclient")
    venv, env = installed
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-compile", "ipykernel"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "work"
    shutil.copytree(release / "student" / "lessons", work / "lessons")
    notebook = nbformat.read(work / "lessons" / "sequence_modeling.ipynb", as_version=4)
    assert fill_stubs(notebook, sections_of(REFERENCE.read_text())) >= 8
    answer_as_the_reference(notebook)
    spec = tmp_path / "jupyter" / "kernels" / "hand-out"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "hand-out", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))      # where the client finds the kernelspec
    client = nbclient.NotebookClient(notebook, kernel_name="hand-out", timeout=900, allow_errors=True,
                                     resources={"metadata": {"path": str(work / "lessons")}})
    client.execute(env=env)
    errors = [(number, o.ename, o.evalue) for number, cell in enumerate(notebook.cells, start=1)
              if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    lab = next(cell for cell in notebook.cells if cell.source == assign.RUN_CELL.rstrip())
    printed = "".join(o.get("text", "") for o in lab.outputs if o.output_type == "stream")
    assert "naive_val_mse: 0.0115" in printed, printed
    shown = [sorted(o.get("data", {})) for o in lab.outputs if o.output_type != "stream"]
    assert any("image/png" in data for data in shown), shown
    outputs = check_outputs(notebook)
    assert len(outputs) == len(registry.checks_after()) + 1
    assert all(score == most > 0 for _, rows, _ in outputs for score, most, _ in rows.values())
    assert "100/100" in outputs[-1][2]


def test_the_hand_out_installs_every_package_its_notebook_and_stubs_import():
    """What the notebook's cells and the stub file import is the standard library, the self-check,
    or a dependency the hand-out's pyproject.toml declares (matplotlib: the lab cell plots)."""
    from autograder.handout.release import _dependencies
    from autograder.submission import imported_packages

    declared = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in _dependencies()}
    sources = [c.source for c in nbformat.reads(assign.NOTEBOOK_FILE.read_text(), as_version=4).cells
               if c.cell_type == "code"] + [assign.STUB_FILE.read_text()]
    imported = set().union(*(imported_packages(source) for source in sources))
    assert "matplotlib" in imported
    assert imported - set(sys.stdlib_module_names) - {"autograder"} <= declared, imported
    assert not {"matplotlib", "torch", "numpy"} - declared


# --- Gradescope --------------------------------------------------------------------------------------

SEED_PROBE = '''

def make_windows(series, window_size, target_col=0):
    raise ValueError(f"series sum {float(np.asarray(series, dtype=np.float64).sum()):.6f}")
'''


def run_autograder(tmp_path, zip_path, files, env_extra=None, corrupt_rubric=False):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    if corrupt_rubric:
        (root / "source" / "autograder" / "rubric.toml").write_text("[[items]\nnot toml")
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    env.update(env_extra or {})
    env.pop("AUTOGRADER_HIDDEN_SEED", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), root


def assert_valid_results(results):
    json.dumps(results, allow_nan=False)
    assert isinstance(results["score"], (int, float)) and isinstance(results["tests"], list)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(test)


@slow
def test_gradescope_bundle_installs_only_dependencies_and_carries_our_seed(release):
    with zipfile.ZipFile(release / "gradescope.zip") as zf:
        names = set(zf.namelist())
        setup = zf.read("setup.sh").decode()
        rubric = tomllib.loads(zf.read("autograder/rubric.toml").decode())
        requirements = zf.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "solutions/sequence_modeling.py", "constraints.txt"} <= names
    assert rubric["data"]["hidden_seed"] == SEED
    assert "bash autograder/platforms/install.sh /autograder/source" in setup and "autograder/platforms/install.sh" in names
    assert "pip3 install --no-cache-dir -c constraints.txt ." not in setup and " -e " not in setup
    assert "nbformat" in requirements and "hypothesis" in requirements and "seqmodel" not in requirements
    prairielearn = release / "prairielearn"                 # the PrairieLearn bundle: the same seed and kit
    assert tomllib.loads((prairielearn / "serverFilesCourse" / "seqmodel" / "autograder" / "rubric.toml")
                         .read_text())["data"]["hidden_seed"] == SEED
    assert (prairielearn / "serverFilesCourse" / "seqmodel" / "requirements.txt").read_text() == requirements
    assert str(SEED) not in (prairielearn / "info.json").read_text()


@slow
def test_run_autograder_grades_a_correct_submission_with_the_kit_closed_to_students(tmp_path, release):
    results, root = run_in(tmp_path, release, {"sequence_modeling.py": REFERENCE.read_text()})
    assert_valid_results(results)
    assert results["score"] == 100 and len(results["tests"]) == len(ITEM_IDS)
    view = student_view_before_due_date(results)
    assert "score" not in view and "output" not in view
    assert not any("beats_baseline" in t["tags"] for t in view["tests"])
    assert "100" not in results["output"]
    if os.geteuid() != 0:
        pytest.skip("file ownership and modes are set when run_autograder runs as root, as on Gradescope")
    source = root / "source"
    assert stat.S_IMODE(source.stat().st_mode) == 0o700
    for secret in (source / "autograder" / "rubric.toml", source / "solutions" / "sequence_modeling.py"):
        info = secret.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == 0, secret
    assert stat.S_IMODE((source / "solutions").stat().st_mode) == 0o700


def run_in(tmp_path, release, files, **kwargs):
    return run_autograder(tmp_path, release / "gradescope.zip", files, **kwargs)


@slow
def test_run_autograder_grades_with_the_bundles_hidden_seed(tmp_path, release):
    from autograder.engine import grade

    source = assign.STUB_FILE.read_text() + SEED_PROBE
    results, _ = run_in(tmp_path, release, {"sequence_modeling.py": source})
    assert_valid_results(results)
    seen = next(t["output"] for t in results["tests"] if t["tags"] == ["make_windows"])
    path = tmp_path / "sequence_modeling.py"             # feedback names the file: the same name as submitted
    path.write_text(source)
    ours, default = load_rubric(), load_rubric()
    ours.hidden_seed = SEED
    with_seed = grade(path, rubric=ours, only={"make_windows"}).items[0]
    with_default = grade(path, rubric=default, only={"make_windows"}).items[0]
    assert "series sum" in seen and with_seed.details != with_default.details
    assert all(detail in seen for detail in with_seed.details), (seen, with_seed.details)


@slow
def test_run_autograder_writes_results_for_a_broken_or_missing_submission_or_a_grader_crash(tmp_path, release):
    broken, _ = run_in(tmp_path / "broken", release, {"my_work.py": "def make_windows(:\n"})
    assert_valid_results(broken)
    assert broken["score"] == 0 and "SyntaxError" in broken["output"] and len(broken["tests"]) == len(ITEM_IDS)

    missing, _ = run_in(tmp_path / "missing", release, {"notes.txt": "just words"})
    assert_valid_results(missing)
    assert missing["score"] == 0 and "could not be graded" in missing["output"]
    assert missing["visibility"] == "after_due_date"

    crashed, _ = run_in(tmp_path / "crash", release, {"sequence_modeling.py": REFERENCE.read_text()},
                        corrupt_rubric=True)
    assert_valid_results(crashed)
    assert crashed["score"] == 0 and "not your fault" in crashed["output"] and "RubricError" in crashed["output"]

    dying = tmp_path / "dying-python"
    dying.write_text("#!/bin/sh\nkill -9 $$\n")
    dying.chmod(0o755)
    died, _ = run_in(tmp_path / "died", release, {"sequence_modeling.py": REFERENCE.read_text()},
                     env_extra={"AUTOGRADER_PYTHON": str(dying)})
    assert_valid_results(died)
    assert died["score"] == 0 and "could not run (exit status 137)" in died["output"]


@slow
def test_a_hidden_seed_the_reference_fails_on_is_refused(tmp_path):
    impossible = tmp_path / "impossible.toml"
    impossible.write_text(rubric_with('[[items]]\nid = "beats_baseline"\nmax_ratio = 0.0001'))
    assert load_rubric(impossible).items[ITEM_IDS.index("beats_baseline")].get("max_ratio") == 0.0001
    done = autograder("gradescope", tmp_path / "a.zip", "--seed", SEED, "--rubric", impossible)
    assert done.returncode == 2 and "the reference itself loses points" in done.stderr
    assert "beats_baseline" in done.stderr and str(SEED) not in done.stderr and not (tmp_path / "a.zip").exists()
