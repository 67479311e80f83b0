"""A class split across machines: ``batch --shard K/N`` on each, then ``autograder merge``.

The shards run as separate processes, as the tasks of a job array would, and
their merge must be the whole-class batch's output byte for byte. The merge's
refusals are proven on real shard outputs (a cheap class of empty folders,
which are graded "ungradable" without starting any grading server).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

import corpus
from autograder import assign
from autograder.classroom import shard as shards
from conftest import ROOT, rubric_with

REFERENCE = ROOT / "solutions" / "sequence_modeling.py"
RUBRIC_SEED_DIGITS = "351116800914508278123899344181452766714"       # rubric.toml's hidden seed: never in a manifest


def autograder(*args, timeout=600, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def start_autograder(*args):
    return subprocess.Popen([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def short_rubric(folder, seconds=6, extra=""):
    text = rubric_with(f"[limits]\nitem_seconds = {seconds}")
    path = folder / f"short{seconds}{'x' if extra else ''}.toml"
    path.write_text(text + extra)
    return path


# --- which students a shard owns (fast) ----------------------------------------------------------------

def many_ids():
    ids = [f"s{i:05d}" for i in range(3000)] + [f"student-{i}@uni" for i in range(1000)]
    ids += ["ada", "Zoë", "学生", "caf%E9", "'=HYPERLINK(x)", "a b", "%u0085x"]
    return ids


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_the_shards_of_1_to_n_partition_any_class_exactly(n):
    ids = many_ids()
    owned = {k: {s for s in ids if shards.Shard(k, n).owns(s)} for k in range(1, n + 1)}
    assert set().union(*owned.values()) == set(ids)                       # no student left out
    assert sum(len(group) for group in owned.values()) == len(ids)        # and none in two shards
    if n <= 7:
        for group in owned.values():                                      # each machine gets about 1/N
            assert abs(len(group) - len(ids) / n) < 0.1 * len(ids) / n


def test_a_student_lands_in_the_same_shard_under_any_hash_seed():
    ids = many_ids()[::37]
    code = ("import json, sys; from autograder.classroom.shard import shard_of; "
            "print(json.dumps([shard_of(s, 5) for s in json.loads(sys.stdin.read())]))")
    answers = []
    for hash_seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps(ids), cwd=ROOT, capture_output=True,
                              text=True, env=dict(os.environ, PYTHONHASHSEED=hash_seed), check=True)
        answers.append(json.loads(done.stdout))
    assert answers[0] == answers[1] == [shards.shard_of(s, 5) for s in ids]
    # The documented rule (sha256, first 8 bytes big-endian, mod N, plus 1) pinned: other machines rely on it.
    assert [shards.shard_of(s, 3) for s in ("ada", "bo", "cy", "e5")] == [3, 2, 1, 1]


@pytest.mark.parametrize("text, problem", [
    ("0/3", "K must be between 1 and N"), ("4/3", "K must be between 1 and N"), ("1/0", "at least 1"),
    ("-1/3", "expected K/N"), ("2", "expected K/N"), ("a/b", "expected K/N"), ("1/2/3", "expected K/N"),
])
def test_a_bad_shard_is_refused_with_its_reason(text, problem):
    with pytest.raises(shards.ShardError, match=problem):
        shards.parse_shard(text)


def test_a_good_shard_parses():
    assert shards.parse_shard("2/8") == shards.Shard(2, 8) and str(shards.parse_shard(" 1 / 1 ")) == "1/1"


def test_batch_refuses_a_bad_shard_in_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "class").mkdir()
    done = autograder("batch", tmp_path / "class", "--out", tmp_path / "out", "--shard", "4/3")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["autograder: --shard 4/3: K must be between 1 and N (3); "
                                                "shards are numbered from 1"]
    assert not (tmp_path / "out").exists()


def test_the_seed_fingerprint_tells_seeds_apart_without_holding_them():
    one, again, other = shards.seed_fingerprint(6042026), shards.seed_fingerprint(6042026), shards.seed_fingerprint(6042027)
    assert one == again and one != other and RUBRIC_SEED_DIGITS not in one


def test_the_kit_version_changes_with_a_source_and_not_with_a_cache(tmp_path, monkeypatch):
    for package in shards.SOURCE_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.setattr(shards, "KIT_ROOT", tmp_path)
    before = shards.kit_version()
    assert before.startswith("0.1.0+src.") and before == shards.kit_version()
    (tmp_path / "autograder" / "__pycache__").mkdir()
    (tmp_path / "autograder" / "__pycache__" / "engine.cpython-311.pyc").write_bytes(b"compiled")
    assert shards.kit_version() == before
    check = tmp_path / "autograder" / "items" / "windows.py"
    check.write_text(check.read_text() + "\n# an edited check grades differently\n")
    assert shards.kit_version() != before


# --- a real class, graded in three shards and in one batch (slow) ------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The same six students graded as shards 1/3..3/3 (three processes at once) and as one batch."""
    work = tmp_path_factory.mktemp("sharded")
    room = work / "class"
    room.mkdir()
    shutil.copy(REFERENCE, room / "ada.py")                                        # correct
    shutil.copy(assign.STUB_FILE, room / "bo.py")                                  # the stub
    (room / "cy").mkdir()
    (room / "cy" / "sequence_modeling.py").write_text(corpus.build(corpus.WRONG[0]))   # one mistake
    shutil.copy(assign.NOTEBOOK_FILE, room / "di.ipynb")                           # a notebook
    (room / "ed.py").write_text("import os\nos._exit(1)\n")                        # crashes at import
    (room / "fay").mkdir()                                                         # nothing handed in
    rubric = short_rubric(work)
    tasks = [start_autograder("batch", room, "--out", work / f"shard{k}", "--shard", f"{k}/3", "--jobs", 1,
                              "--rubric", rubric) for k in (1, 2, 3)]
    logs = [task.communicate(timeout=900) for task in tasks]
    for task, (_, stderr) in zip(tasks, logs):
        assert task.returncode == 0, stderr
    whole = autograder("batch", room, "--out", work / "whole", "--jobs", 2, "--rubric", rubric)
    assert whole.returncode == 0, whole.stderr
    shard_dirs = [work / f"shard{k}" for k in (1, 2, 3)]
    merged = autograder("merge", *shard_dirs, "--out", work / "merged", "--rubric", rubric)
    assert merged.returncode == 0, merged.stderr
    return {"work": work, "room": room, "rubric": rubric, "shards": shard_dirs, "stdout": [o for o, _ in logs],
            "merge_stdout": merged.stdout}


def results_without_timing(path):
    data = json.loads(path.read_text())
    del data["execution_time"]              # the only timing in a student's files (autograder/reports/results.py)
    return data


@pytest.mark.slow
def test_the_merged_shards_equal_one_batch_of_the_whole_class(graded):
    whole, merged = graded["work"] / "whole", graded["work"] / "merged"
    for name in ("grades.csv", "summary.md", "summary.png"):
        assert (merged / name).read_bytes() == (whole / name).read_bytes(), name
    students = sorted(p.name for p in (whole / "students").iterdir())
    assert students == ["ada", "bo", "cy", "di", "ed", "fay"]
    assert sorted(p.name for p in (merged / "students").iterdir()) == students
    for student in students:
        assert results_without_timing(merged / "students" / student / "results.json") == \
            results_without_timing(whole / "students" / student / "results.json"), student
        for name in ("report.txt", "report.html"):
            mine, theirs = merged / "students" / student / name, whole / "students" / student / name
            assert mine.exists() == theirs.exists() and (not mine.exists() or mine.read_bytes() == theirs.read_bytes())
    assert "merged 3 of 3 shards (6 students)" in graded["merge_stdout"]


@pytest.mark.slow
def test_each_shard_grades_only_its_students_and_says_so_in_its_manifest(graded):
    everyone = set()
    for k, folder in enumerate(graded["shards"], start=1):
        manifest_text = (folder / "shard.json").read_text()
        manifest = json.loads(manifest_text)
        graded_here = sorted(p.name for p in (folder / "students").iterdir())
        assert graded_here, f"shard {k} is empty: pick other names so that every shard has a student"
        assert (manifest["k"], manifest["n"], manifest["finished"]) == (k, 3, True)
        assert manifest["students"] == graded_here
        assert all(shards.shard_of(s, 3) == k for s in graded_here)
        rows = (folder / "grades.csv").read_text().splitlines()[1:]
        assert sorted(row.split(",")[0] for row in rows) == graded_here
        assert manifest["kit"] == shards.kit_version()
        assert manifest["rubric"] == shards.rubric_fingerprint(graded["rubric"].read_text())
        assert RUBRIC_SEED_DIGITS not in manifest_text
        assert not everyone & set(graded_here)
        everyone |= set(graded_here)
    assert everyone == {"ada", "bo", "cy", "di", "ed", "fay"}


@pytest.mark.slow
def test_merge_refuses_a_student_graded_in_two_shards(graded, tmp_path):
    first, second, third = graded["shards"]
    copy = tmp_path / "shard2"
    shutil.copytree(second, copy)
    stray = sorted((first / "students").iterdir())[0]
    shutil.copytree(stray, copy / "students" / stray.name)          # a TA put a regraded student in the wrong folder
    done = autograder("merge", first, copy, third, "--out", tmp_path / "merged", "--rubric", graded["rubric"])
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert f"student {stray.name} is graded in two shards" in done.stderr
    assert not (tmp_path / "merged").exists()


# --- the merge's refusals, on a cheap class (slow: each shard is a process) ---------------------------

EMPTY_CLASS = ("e1", "e2", "e3", "e4", "e5", "e6")        # 3/3: e1 e2; 2/3: e3 e4 e6; 1/3: e5


@pytest.fixture
def empty_class(tmp_path):
    room = tmp_path / "class"
    for name in EMPTY_CLASS:
        (room / name).mkdir(parents=True)
    return room


def run_shards(room, out_prefix, rubric, ks=(1, 2, 3), n=3):
    folders = []
    for k in ks:
        folder = out_prefix.parent / f"{out_prefix.name}{k}"
        done = autograder("batch", room, "--out", folder, "--shard", f"{k}/{n}", "--rubric", rubric)
        assert done.returncode == 0, done.stderr
        folders.append(folder)
    return folders


def refusal(*args):
    done = autograder("merge", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr


@pytest.mark.slow
def test_merge_refuses_shards_graded_with_different_rubrics(tmp_path, empty_class):
    rubric = short_rubric(tmp_path)
    other = short_rubric(tmp_path, extra="\n# a TA's edit: the same points, another file\n")
    s1, s2 = run_shards(empty_class, tmp_path / "s", rubric, ks=(1, 2))
    (s3,) = run_shards(empty_class, tmp_path / "s", other, ks=(3,))
    assert "was graded with another rubric than" in refusal(s1, s2, s3, "--out", tmp_path / "m", "--rubric", rubric)
    s3_again, = run_shards(empty_class, tmp_path / "t", rubric, ks=(3,))
    assert "pass the rubric they used" in refusal(s1, s2, s3_again, "--out", tmp_path / "m", "--rubric", other)
    assert autograder("merge", s1, s2, s3_again, "--out", tmp_path / "m", "--rubric", rubric).returncode == 0


@pytest.mark.slow
def test_merge_refuses_a_missing_shard_unless_told_to_merge_a_part(tmp_path, empty_class):
    rubric = short_rubric(tmp_path)
    s1, s2 = run_shards(empty_class, tmp_path / "s", rubric, ks=(1, 2))
    assert "shard 3/3 missing" in refusal(s1, s2, "--out", tmp_path / "m", "--rubric", rubric)
    assert not (tmp_path / "m").exists()
    partial = autograder("merge", s1, s2, "--out", tmp_path / "m", "--rubric", rubric, "--allow-partial")
    assert partial.returncode == 0, partial.stderr
    assert "warning: shard 3/3 missing" in partial.stderr
    rows = (tmp_path / "m" / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == ["e3", "e4", "e5", "e6"]
    (s3,) = run_shards(empty_class, tmp_path / "s", rubric, ks=(3,))          # the last task finishes later
    again = autograder("merge", s1, s2, s3, "--out", tmp_path / "m", "--rubric", rubric)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "m" / "students").iterdir()) == list(EMPTY_CLASS)


@pytest.mark.slow
def test_merge_refuses_overlapping_splits_and_unfinished_shards(tmp_path, empty_class):
    rubric = short_rubric(tmp_path)
    s1, s2, s3 = run_shards(empty_class, tmp_path / "s", rubric)
    twice = tmp_path / "s2-copy"
    shutil.copytree(s2, twice)
    assert "shard 2/3 is given twice" in refusal(s1, s2, twice, s3, "--out", tmp_path / "m", "--rubric", rubric)
    (halves,) = run_shards(empty_class, tmp_path / "h", rubric, ks=(2,), n=2)
    assert "different splits" in refusal(s1, halves, "--out", tmp_path / "m", "--rubric", rubric)
    unfinished = tmp_path / "s3-interrupted"                # what an interrupted task leaves: finished false
    shutil.copytree(s3, unfinished)
    manifest = json.loads((unfinished / "shard.json").read_text())
    (unfinished / "shard.json").write_text(json.dumps(dict(manifest, finished=False)))
    shutil.rmtree(unfinished / "students" / manifest["students"][0])
    assert "did not finish" in refusal(s1, s2, unfinished, "--out", tmp_path / "m", "--rubric", rubric)
    assert "not a folder" in refusal(s1, s2, tmp_path / "nowhere", "--out", tmp_path / "m", "--rubric", rubric)
    assert "no shard.json" in refusal(s1, s2, empty_class, "--out", tmp_path / "m", "--rubric", rubric)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "thesis.tex").write_text("someone's work")
    assert "not an earlier merge's output" in refusal(s1, s2, s3, "--out", tmp_path / "m", "--rubric", rubric)
    assert (tmp_path / "m" / "thesis.tex").exists()


@pytest.mark.slow
def test_batch_keeps_shards_and_whole_classes_in_folders_of_their_own(tmp_path, empty_class):
    rubric = short_rubric(tmp_path)
    (s1,) = run_shards(empty_class, tmp_path / "s", rubric, ks=(1,))
    other = autograder("batch", empty_class, "--out", s1, "--shard", "2/3", "--rubric", rubric)
    assert other.returncode == 2 and "holds shard 1/3, not 2/3" in other.stderr
    whole = autograder("batch", empty_class, "--out", s1, "--rubric", rubric)
    assert whole.returncode == 2 and "holds one shard of a class" in whole.stderr
    assert autograder("batch", empty_class, "--out", tmp_path / "whole", "--rubric", rubric).returncode == 0
    into_whole = autograder("batch", empty_class, "--out", tmp_path / "whole", "--shard", "1/3", "--rubric", rubric)
    assert into_whole.returncode == 2 and "holds a whole-class batch" in into_whole.stderr
    again = autograder("batch", empty_class, "--out", s1, "--shard", "1/3", "--rubric", rubric)
    assert again.returncode == 0 and "graded 0 of 1 students" in again.stdout     # a rerun skips what is done
