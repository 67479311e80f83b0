"""Grading a class: the batch runner, the HTML report in a real browser, and Gradescope's zip."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

import corpus
from autograder import assign
from autograder.reports.diagnosis import diagnose
from autograder.rubric import ITEM_IDS
from conftest import ROOT, grading_tier, rubric_with

pytestmark = pytest.mark.slow
REFERENCE = ROOT / "solutions" / "sequence_modeling.py"


def autograder(*args, timeout=600, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def short_rubric(tmp_path, seconds=6):
    text = rubric_with(f"[limits]\nitem_seconds = {seconds}")
    path = tmp_path / "short.toml"
    path.write_text(text)
    return path


@pytest.fixture
def classroom(tmp_path):
    """Five students: correct, stub, wrong (folder), a notebook stub, a crash at import, an empty folder."""
    room = tmp_path / "class"
    room.mkdir()
    shutil.copy(REFERENCE, room / "ada.py")
    shutil.copy(assign.STUB_FILE, room / "bo.py")
    (room / "cy").mkdir()
    (room / "cy" / "sequence_modeling.py").write_text(corpus.build(corpus.WRONG[0]))
    shutil.copy(assign.NOTEBOOK_FILE, room / "di.ipynb")
    (room / "ed.py").write_text("import os\nos._exit(1)\n")
    (room / "fay").mkdir()
    (room / "notes.txt").write_text("not a submission")
    return room


def read_csv(path):
    with open(path) as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_batch_grades_every_student_and_writes_csv_reports_and_summary(tmp_path, classroom):
    out = tmp_path / "out"
    done = autograder("batch", classroom, "--out", out, "--jobs", 2)
    assert done.returncode == 0, done.stderr
    rows = read_csv(out / "grades.csv")
    assert set(rows) == {"ada", "bo", "cy", "di", "ed", "fay"}
    assert list(next(iter(rows.values())))[2:-1] == list(ITEM_IDS)
    assert rows["ada"]["total"] == "100.00" and rows["ada"]["status"] == "graded"
    assert rows["bo"]["total"] == "0.00" and rows["di"]["total"] == "0.00"
    assert float(rows["cy"]["total"]) < 100 and rows["cy"]["make_windows"] == "0.00"
    assert rows["ed"]["status"] == "import_failed"
    assert rows["fay"]["status"] == "ungradable"
    for student in rows:
        results = json.loads((out / "students" / student / "results.json").read_text())
        assert results["score"] == float(rows[student]["total"])
    assert (out / "students" / "ada" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "| make_windows |" in (out / "summary.md").read_text()
    assert (out / "summary.png").read_bytes().startswith(b"\x89PNG")
    assert "1 failed to import" in done.stdout and "1 ungradable" in done.stdout
    assert "submission/s" in done.stderr                                   # the progress bar's rate


def test_rerun_skips_unchanged_students_and_force_regrades(tmp_path, classroom):
    out = tmp_path / "out"
    assert autograder("batch", classroom, "--out", out).returncode == 0
    first = (out / "grades.csv").read_text()
    again = autograder("batch", classroom, "--out", out)
    assert "graded 0 of 6 students" in again.stdout and (out / "grades.csv").read_text() == first
    (classroom / "bo.py").write_text(REFERENCE.read_text())             # bo fixes the work
    changed = autograder("batch", classroom, "--out", out)
    assert "graded 1 of 6 students" in changed.stdout
    assert read_csv(out / "grades.csv")["bo"]["total"] == "100.00"
    forced = autograder("batch", classroom, "--out", out, "--force")
    assert "graded 6 of 6 students" in forced.stdout


def test_a_hanging_student_times_out_alone_and_the_batch_finishes(tmp_path):
    room = tmp_path / "class"
    room.mkdir()
    shutil.copy(REFERENCE, room / "good.py")
    (room / "stuck.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    out = tmp_path / "out"
    rubric = tmp_path / "short.toml"
    rubric.write_text(rubric_with("[limits]\nitem_seconds = 6\nimport_seconds = 5"))
    done = autograder("batch", room, "--out", out, "--jobs", 2, "--rubric", rubric)
    assert done.returncode == 0
    rows = read_csv(out / "grades.csv")
    assert rows["good"]["total"] == "100.00"
    assert rows["stuck"]["status"] == "import_failed" and rows["stuck"]["total"] == "0.00"
    assert "longer than 5 s" in json.loads((out / "students" / "stuck" / "results.json").read_text())["output"]


def test_an_interrupted_batch_keeps_what_it_finished(tmp_path):
    room = tmp_path / "class"
    room.mkdir()
    for name in ("a1", "a2", "a3", "a4"):
        shutil.copy(REFERENCE, room / f"{name}.py")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(room), "--out", str(out), "--jobs", "1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "students" / "a1" / "meta.json").exists():
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    rows = read_csv(out / "grades.csv")
    assert rows["a1"]["total"] == "100.00"
    finished = set(rows)
    rerun = autograder("batch", room, "--out", out)
    assert f"graded {4 - len(finished)} of 4 students" in rerun.stdout
    assert set(read_csv(out / "grades.csv")) == {"a1", "a2", "a3", "a4"}


def test_batch_refuses_a_missing_folder(tmp_path):
    done = autograder("batch", tmp_path / "nope", "--out", tmp_path / "out")
    assert done.returncode == 2 and "not a folder" in done.stderr


# --- the HTML report ------------------------------------------------------------------------------

def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser(*args, timeout=120):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.browser
def test_html_report_renders_in_a_real_browser_with_its_plots(tmp_path):
    if not chromium():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    submission = tmp_path / "lagging.py"
    copier = next(case for case in corpus.WRONG if case.name == "last_value_copier")
    submission.write_text(corpus.build(copier))                    # the model repeats the last value: it lags
    report = tmp_path / "report.html"
    assert autograder("grade", submission, "--html", report).returncode == 0
    page = report.read_text()
    assert page.count('src="data:image/png;base64,') == 3 and "trails the truth by 1 step" in page
    profile = tmp_path / "profile"
    dom = browser(f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", report.as_uri())
    assert 'data-images-loaded="3"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    browser(f"--user-data-dir={profile}", "--window-size=1000,1400", f"--screenshot={shot}", report.as_uri())
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 1400 and pixels.std() > 0.05                 # not a blank page


def test_report_escapes_what_the_submission_wrote(tmp_path):
    submission = tmp_path / "evil.py"
    submission.write_text('print("<script>alert(1)</script>")\n' + assign.STUB_FILE.read_text())
    report = tmp_path / "report.html"
    assert autograder("grade", submission, "--html", report).returncode == 0
    page = report.read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_diagnosis_names_lag_flatline_missed_peaks_and_noise():
    import numpy as np

    t = np.arange(80)
    truth = np.sin(t * 0.2)
    assert [f[0] for f in diagnose(truth, truth)] == []
    assert diagnose(truth, np.roll(truth, 2))[0][0] == "lag"
    assert [f[0] for f in diagnose(truth, 0.1 * truth)] == ["flatline"]
    assert [f[0] for f in diagnose(truth, 0.6 * truth)] == ["missed peaks"]
    noisy = truth + np.random.default_rng(0).normal(0, 0.3, 80)
    assert "noisy" in [f[0] for f in diagnose(truth, noisy)]


# --- Gradescope ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = autograder("gradescope", path, "--seed", 351116800914508278123899344181452766714)  # fixed: the same grades every run
    assert done.returncode == 0, done.stderr
    return path


def test_gradescope_zip_has_the_scripts_at_its_root_and_the_kit(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "autograder/rubric.toml", "solutions/sequence_modeling.py",
                "pyproject.toml", "constraints.txt"} <= names
        for script in ("setup.sh", "run_autograder"):
            assert (zf.getinfo(script).external_attr >> 16) & 0o111
        assert "bash autograder/platforms/install.sh" in zf.read("setup.sh").decode() and "autograder/platforms/install.sh" in names
        assert "torch==2.13.0" in zf.read("constraints.txt").decode().split()     # what install.sh installs
    with zipfile.ZipFile(gradescope_zip) as zf:
        assert not any("__pycache__" in name for name in zf.namelist())


def run_in_fake_autograder_root(tmp_path, gradescope_zip, submission_text, name="sequence_modeling.py"):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(gradescope_zip) as zf:
        zf.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    (root / "submission" / name).write_text(submission_text)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_a_correct_submission(tmp_path, gradescope_zip):
    results = run_in_fake_autograder_root(tmp_path, gradescope_zip, REFERENCE.read_text())
    assert results["score"] == 100
    assert results["extra_data"]["confinement"]["tier"] == grading_tier()         # for staff: extra_data
    visibility = {t["tags"][0]: t["visibility"] for t in results["tests"]}
    assert visibility["beats_baseline"] == "after_due_date" and visibility["make_windows"] == "visible"


def test_run_autograder_grades_a_broken_submission(tmp_path, gradescope_zip):
    results = run_in_fake_autograder_root(tmp_path, gradescope_zip, "def make_windows(:\n", name="my_work.py")
    assert results["score"] == 0 and "SyntaxError" in results["output"]
    assert len(results["tests"]) == len(ITEM_IDS)


def test_run_autograder_writes_results_even_without_a_submission_file(tmp_path, gradescope_zip):
    results = run_in_fake_autograder_root(tmp_path, gradescope_zip, "just words", name="notes.txt")
    assert results["score"] == 0 and "could not be graded" in results["output"]
