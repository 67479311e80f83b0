"""PrairieLearn: the external-grader bundle run against a fake /grade, its results.json checked
against the documented fields, and the one install script every platform image uses.

The fast tests cover the results.json builder, the schema check itself (proven on a file it
must refuse), info.json and the install paths; the slow ones build one bundle (module fixture)
and run its entry script the way PrairieLearn does.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import corpus
from autograder.platforms import bundle, gradescope, prairielearn
from autograder.reports.results import GradeResult
from autograder.rubric import ITEM_IDS, load_rubric
from conftest import ROOT, grading_tier, rubric_with

SEED = 261803398874989484820458683436563811772   # distinctive (its digits cannot turn up by chance), 128 bits
REFERENCE = ROOT / "solutions" / "sequence_modeling.py"
slow = pytest.mark.slow

# PrairieLearn's documented results.json fields (../shared/notes/anchors.md) and their types.
NUMBER = (int, float)
TOP_FIELDS = {"gradable": bool, "score": NUMBER, "message": str, "output": str, "images": list, "tests": list}
TEST_FIELDS = {"name": str, "description": str, "points": NUMBER, "max_points": NUMBER, "message": str,
               "output": str, "images": list}


def schema_problems(results):
    """Every way ``results`` departs from PrairieLearn's documented results.json; [] when it fits."""
    problems = []
    try:
        json.dumps(results, allow_nan=False)
    except ValueError as exc:
        problems.append(f"not strict JSON: {exc}")
    if not isinstance(results, dict):
        return problems + ["the top level is not an object"]
    if "score" not in results and "gradable" not in results:
        problems.append("neither score nor gradable")
    for where, data, fields in [("top level", results, TOP_FIELDS)] + \
            [(f"test {i}", t, TEST_FIELDS) for i, t in enumerate(results.get("tests", []))]:
        if not isinstance(data, dict):
            problems.append(f"{where} is not an object")
            continue
        for key, value in data.items():
            if key not in fields:
                problems.append(f"{where}: {key} is not a PrairieLearn field")
            elif not isinstance(value, fields[key]) or (fields[key] is NUMBER and isinstance(value, bool)):
                problems.append(f"{where}: {key} is a {type(value).__name__}")
    score = results.get("score", 0)
    if isinstance(score, NUMBER) and not 0 <= score <= 1:
        problems.append(f"score {score} is not a fraction from 0 to 1")
    for test in results.get("tests", []):
        if isinstance(test, dict) and isinstance(test.get("points"), NUMBER) and \
                not 0 <= test["points"] <= test.get("max_points", float("inf")):
            problems.append(f"test {test.get('name')}: points {test['points']} outside 0..{test.get('max_points')}")
    return problems


def fake_result(scores, import_error=""):
    from autograder.engine import GradeResult, ItemResult

    items = [ItemResult(item.id, item.name, scores.get(item.id, item.points), item.points,
                        f"feedback for {item.id}", item.visibility,
                        details=["first failing check", "second failing check"] if item.id in scores else [])
             for item in load_rubric().items]
    return GradeResult("student/sequence_modeling.py", "grade", items, import_error=import_error)


# --- results.json, info.json and the install paths (fast) ------------------------------------------

def test_the_schema_check_refuses_what_prairielearn_would_not_read():
    gradescope_style = fake_result({}).to_gradescope()          # score out of 100, Gradescope's own fields
    problems = schema_problems(gradescope_style)
    assert any("score 100" in p for p in problems) and any("max_score" in p for p in problems)
    assert any("visibility" in p for p in problems)
    assert schema_problems({"score": float("nan")}) and schema_problems({"message": "no score"})
    assert schema_problems({"gradable": "yes"}) == ["top level: gradable is a str"]


def test_results_give_a_fraction_and_one_test_per_item_with_its_points():
    perfect = fake_result({}).to_prairielearn()
    assert schema_problems(perfect) == []
    assert perfect["gradable"] is True and perfect["score"] == 1.0
    assert [t["description"] for t in perfect["tests"]] == [f"item {i}" for i in ITEM_IDS]
    assert all(t["points"] == t["max_points"] > 0 for t in perfect["tests"] if t["description"] != "item reasoning")
    reasoning = next(t for t in perfect["tests"] if t["description"] == "item reasoning")
    assert reasoning["points"] == reasoning["max_points"] == 0          # listed, graded by people

    partial = fake_result({"make_windows": 0.0, "time_split": 3.0}).to_prairielearn()
    assert schema_problems(partial) == []
    assert partial["score"] == pytest.approx(0.87) and partial["message"].startswith("87.00/100")
    windows = next(t for t in partial["tests"] if t["description"] == "item make_windows")
    assert windows["points"] == 0.0 and windows["message"] == "feedback for make_windows"
    assert "second failing check" in windows["output"]

    unimportable = fake_result({i: 0.0 for i in ITEM_IDS},
                               import_error="SyntaxError: invalid syntax\n  line 3").to_prairielearn()
    assert unimportable["gradable"] is True and unimportable["score"] == 0.0       # their code ran: graded
    assert "could not be imported: SyntaxError: invalid syntax" in unimportable["message"]


def test_not_gradable_results_fit_the_schema():
    data = GradeResult.ungradable(load_rubric(), "Your submission could not be graded: x").to_prairielearn()
    assert schema_problems(data) == [] and data["gradable"] is False and data["tests"] == []


def test_a_crash_message_never_shows_the_hidden_seed():
    rubric = load_rubric(hidden_seed=SEED)
    shown = bundle.scrub(f"seed {SEED}: only 0 of 40 candidate series", rubric)
    assert str(SEED) not in shown and "<hidden seed>" in shown


def test_info_json_turns_on_external_grading_with_the_bundles_entrypoint():
    info = prairielearn.info_json(load_rubric())
    options = info["externalGradingOptions"]
    assert info["gradingMethod"] == "External"
    assert set(options) == {"enabled", "image", "entrypoint", "serverFilesCourse", "timeout"}
    assert options["enabled"] is True
    assert options["entrypoint"] == f"/grade/serverFilesCourse/{options['serverFilesCourse'][0]}run_prairielearn"
    assert 30 <= options["timeout"] <= 600


def test_info_json_takes_its_timeout_from_the_rubrics_prairielearn_table(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(rubric_with("[prairielearn]\ntimeout_seconds = 120\n"))
    assert prairielearn.info_json(load_rubric(path))["externalGradingOptions"]["timeout"] == 120


def test_every_platform_installs_with_the_one_install_script():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "autograder/platforms/install.sh" in dockerfile and "pip install" not in dockerfile
    assert "bash autograder/platforms/install.sh /autograder/source" in gradescope.SETUP_SH
    assert "pip install" not in gradescope.SETUP_SH and "pip3 install" not in gradescope.SETUP_SH
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()
    install = (ROOT / bundle.INSTALL_SCRIPT).read_text()
    assert "-r \"$DIR/requirements.txt\"" in install and "seqmodel" not in install      # never the kit


def test_the_install_script_names_what_is_missing(tmp_path):
    done = subprocess.run(["bash", str(ROOT / bundle.INSTALL_SCRIPT), str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.strip() == f"install.sh: {tmp_path}/requirements.txt is missing"


def test_the_fallback_results_are_valid_json_with_the_exit_status(tmp_path):
    """The entry script's last resort, run alone: Python dies at once, the shell writes the JSON."""
    kit = tmp_path / "grade" / "serverFilesCourse" / "seqmodel"
    kit.mkdir(parents=True)
    script = kit / prairielearn.ENTRY_SCRIPT
    script.write_text(prairielearn.RUN_PRAIRIELEARN)
    script.chmod(0o755)
    dying = tmp_path / "dying-python"
    dying.write_text("#!/bin/sh\nexit 7\n")
    dying.chmod(0o755)
    env = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path / "grade"), AUTOGRADER_PYTHON=str(dying))
    assert subprocess.run([str(script)], env=env, capture_output=True, timeout=60).returncode == 0
    results = json.loads((tmp_path / "grade" / "results" / "results.json").read_text())
    assert schema_problems(results) == []
    assert results["gradable"] is False and "exit status 7" in results["message"]


# --- the bundle, run as PrairieLearn runs it (slow) ------------------------------------------------

def autograder(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def pl_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("pl") / "prairielearn"
    done = autograder("prairielearn", out, "--seed", SEED)
    assert done.returncode == 0, done.stderr
    assert str(SEED) not in done.stdout + done.stderr
    return out


def run_in_fake_grade(tmp_path, pl_bundle, files, corrupt_rubric=False, python=None):
    """Lay out /grade as PrairieLearn does (student files, the course's serverFilesCourse) and run
    info.json's entrypoint; returns (results, root)."""
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    shutil.copytree(pl_bundle / "serverFilesCourse", root / "serverFilesCourse")
    kit = root / "serverFilesCourse" / prairielearn.COURSE_FOLDER
    if corrupt_rubric:
        (kit / "autograder" / "rubric.toml").write_text("[[items]\nnot toml")
    for name, text in files.items():
        (root / "student" / name).write_text(text)
    entrypoint = json.loads((pl_bundle / "info.json").read_text())["externalGradingOptions"]["entrypoint"]
    script = root / Path(entrypoint).relative_to("/grade")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python or sys.executable)
    env.pop("AUTOGRADER_HIDDEN_SEED", None)
    done = subprocess.run([str(script)], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    text = (root / "results" / "results.json").read_text()
    results = json.loads(text)
    assert schema_problems(results) == [], schema_problems(results)
    assert str(SEED) not in text
    return results, root


@slow
def test_the_bundle_holds_the_kit_the_entry_script_and_our_seed(pl_bundle):
    kit = pl_bundle / "serverFilesCourse" / prairielearn.COURSE_FOLDER
    for name in ("run_prairielearn", "autograder/platforms/install.sh"):
        assert os.stat(kit / name).st_mode & 0o111, name
    assert {"requirements.txt", "constraints.txt", "solutions/sequence_modeling.py"} <= \
        {p.relative_to(kit).as_posix() for p in kit.rglob("*")}
    assert load_rubric(kit / "autograder" / "rubric.toml").hidden_seed == SEED
    assert str(SEED) not in (pl_bundle / "info.json").read_text() + (pl_bundle / "README.md").read_text()
    info = json.loads((pl_bundle / "info.json").read_text())
    assert json.dumps(info, indent=2) in (pl_bundle / "README.md").read_text()


@slow
def test_a_correct_submission_scores_one_with_every_item_listed(tmp_path, pl_bundle):
    results, root = run_in_fake_grade(tmp_path, pl_bundle, {"sequence_modeling.py": REFERENCE.read_text()})
    assert results["gradable"] is True and results["score"] == 1.0
    assert [t["description"] for t in results["tests"]] == [f"item {i}" for i in ITEM_IDS]
    assert all(t["points"] == t["max_points"] for t in results["tests"])
    graded_by_people = {item.id for item in load_rubric().items if item.points == 0}          # reasoning
    assert all(t["max_points"] > 0 for t in results["tests"] if t["description"][5:] not in graded_by_people)
    assert sum(t["max_points"] for t in results["tests"]) == 100
    if os.geteuid() != 0:
        pytest.skip("file ownership and modes are set when the entry script runs as root, as on PrairieLearn")
    # PrairieLearn has no staff-only field: the tier is the report's second line, in output.
    assert results["output"].splitlines()[1].startswith(f"Confinement: {grading_tier()}: "), results["output"][:300]
    kit = root / "serverFilesCourse" / prairielearn.COURSE_FOLDER
    assert stat.S_IMODE(kit.stat().st_mode) == 0o700
    for secret in (kit / "autograder" / "rubric.toml", kit / "solutions" / "sequence_modeling.py"):
        info = secret.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == 0, secret


@slow
def test_a_wrong_submission_gets_a_fraction_and_the_failing_items_message(tmp_path, pl_bundle):
    case = corpus.WRONG[0]
    results, _ = run_in_fake_grade(tmp_path, pl_bundle, {"sequence_modeling.py": corpus.build(case)})
    lost = {t["description"][len("item "):]: t for t in results["tests"] if t["points"] < t["max_points"]}
    assert results["gradable"] is True and 0 < results["score"] < 1
    assert set(lost) == case.loses
    assert lost["make_windows"]["points"] == 0 and lost["make_windows"]["message"].strip()
    assert results["score"] == pytest.approx(sum(t["points"] for t in results["tests"]) / 100, abs=1e-6)


def snoop(kit, search=("/grade", "/tmp", "/root")):
    """Code that runs at import in the worker and prints one short line per place it tries (the
    report keeps 5 lines of 160 characters): a file every worker may read (the control: proves
    the reading and the printing work), the kit's rubric and seed plans at their real path, any
    rubric under ``search`` (/grade, /tmp, /root: small inside the worker), and the environment.
    From a file it prints the ``hidden_seed`` line if there is one, else its first line."""
    return f"""
import glob as _glob, os as _os

def _first(path):
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        return f"{{path}}: {{e.strerror}}"
    return next((l for l in lines if "hidden_seed" in l), lines[0] if lines else "empty")[:120]

_found = [_glob.glob(_os.path.join(p, "**", "rubric.toml"), recursive=True) for p in {list(search)!r}]
for _i, _text in enumerate([_first("/usr/lib/os-release"), _first({str(kit / "autograder" / "rubric.toml")!r}),
                            _first({str(kit / "autograder" / "seed_plans.json")!r}),
                            _first(sum(_found, [])[0]) if sum(_found, []) else "no rubric found",
                            _os.environ.get("AUTOGRADER_HIDDEN_SEED", "no seed in the environment")]):
    print(f"snoop {{_i}}: {{_text}}")
"""


def test_the_snoop_reports_a_kit_it_can_read(tmp_path, capsys):
    """The hostile test's probe, run unconfined on a readable kit: it must show the seed line,
    or its silence in the worker would prove nothing."""
    kit = tmp_path / "seqmodel"
    (kit / "autograder").mkdir(parents=True)
    (kit / "autograder" / "rubric.toml").write_text(f"[data]\nhidden_seed = {SEED}\n")
    exec(compile(snoop(kit, search=[str(tmp_path)]), "snoop", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"snoop 1: hidden_seed = {SEED}" and lines[2].endswith("No such file or directory")
    assert lines[3] == f"snoop 3: hidden_seed = {SEED}"                    # found by searching, too


@slow
def test_a_hostile_submission_costs_its_own_points_and_reads_nothing_of_the_kit(tmp_path, pl_bundle):
    dies, _ = run_in_fake_grade(tmp_path / "dies", pl_bundle, {"sequence_modeling.py": "import os\nos._exit(3)\n"})
    assert dies["gradable"] is True and dies["score"] == 0 and len(dies["tests"]) == len(ITEM_IDS)
    assert "could not be imported" in dies["message"]

    kit = tmp_path / "snoop" / "grade" / "serverFilesCourse" / prairielearn.COURSE_FOLDER   # where it will lie
    source = snoop(kit) + REFERENCE.read_text()
    spied, _ = run_in_fake_grade(tmp_path / "snoop", pl_bundle, {"sequence_modeling.py": source})
    lines = [line.strip() for line in spied["output"].splitlines() if line.strip().startswith("snoop ")]
    assert len(lines) == 5 and "=" in lines[0] and ": " not in lines[0][len("snoop 0: "):]   # the control read
    assert all("hidden_seed" not in line for line in lines), lines
    # The report keeps 160 characters a line: a long tmp path (an xdist worker's) cuts the error short.
    assert lines[1].endswith(("No such file or directory", "Permission denied")) or len(lines[1]) >= 150 and \
        lines[1].startswith(f"snoop 1: {kit}"), lines
    assert lines[3:] == ["snoop 3: no rubric found", "snoop 4: no seed in the environment"]
    assert spied["gradable"] is True and spied["score"] == 1.0              # it cost nothing else


@slow
def test_no_gradable_file_is_not_gradable_and_says_why(tmp_path, pl_bundle):
    results, _ = run_in_fake_grade(tmp_path, pl_bundle, {"notes.txt": "just words"})
    assert results["gradable"] is False and results["tests"] == []
    assert "could not be graded" in results["message"] and "sequence_modeling.py" in results["message"]


@slow
def test_a_grader_crash_or_a_dead_python_is_not_gradable_and_not_the_students_fault(tmp_path, pl_bundle):
    crashed, _ = run_in_fake_grade(tmp_path / "crash", pl_bundle, {"sequence_modeling.py": REFERENCE.read_text()},
                                   corrupt_rubric=True)
    assert crashed["gradable"] is False and "RubricError" in crashed["message"]
    assert "not your fault" in crashed["message"]

    dying = tmp_path / "dying-python"
    dying.write_text("#!/bin/sh\nkill -9 $$\n")
    dying.chmod(0o755)
    died, _ = run_in_fake_grade(tmp_path / "died", pl_bundle, {"sequence_modeling.py": REFERENCE.read_text()},
                                python=str(dying))
    assert died["gradable"] is False and "could not run (exit status 137)" in died["message"]


@slow
def test_the_install_script_installs_the_dependencies_and_not_the_kit_in_a_fresh_venv(tmp_path):
    """The pip part of the image's one install path, in a fresh venv with this machine's wheels
    (TORCH_INDEX_URL empty: pip's own configuration instead of the CPU index)."""
    folder = tmp_path / "install"
    folder.mkdir()
    (folder / "requirements.txt").write_text(bundle.requirements_text())
    shutil.copy(ROOT / "constraints.txt", folder / "constraints.txt")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(AUTOGRADER_PYTHON=str(venv / "bin" / "python"), TORCH_INDEX_URL="", PIP_NO_COMPILE="1")
    done = subprocess.run(["bash", str(ROOT / bundle.INSTALL_SCRIPT), str(folder)], env=env, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = ("import importlib.util, torch, numpy, matplotlib, nbformat, hypothesis, tqdm\n"
             "print(torch.__version__, [importlib.util.find_spec(n) is None for n in ('autograder', 'solutions')])")
    shown = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.split()[0].startswith("2.13.0") and shown.stdout.strip().endswith("[True, True]")
