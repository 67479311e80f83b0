"""The grader where Gradescope and PrairieLearn run it: as root in a container with the engine's
default powers (no CAP_SYS_ADMIN, the default seccomp profile), so no namespaces.

A container here is podman with runc and the host's root as its image (``--rootfs /:O``: an
overlay, so what the grader changes there, file modes included, never reaches the host), no
network, and the ulimits the platforms set. Each test mounts only its own tmp_path. The kit's
attack suites run inside one such container as a whole (test_the_attack_suites_hold_...), so
every hostile case and held-out attack is graded end to end in the own-uid tier too.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import corpus
from conftest import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="a rootful container needs a root test run, as in CI")]

CAP_SYS_ADMIN = 21


def in_container(argv, *, mounts=(), env=None):
    """``argv`` as root in a container with the engine's default capabilities and seccomp profile."""
    command = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", "run", "--rm", "--network", "none",
               "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "-w", str(ROOT)]
    for folder in mounts:
        command += ["-v", f"{folder}:{folder}"]
    for name, value in (env or {}).items():
        command += ["-e", f"{name}={value}"]
    return command + ["--rootfs", "/:O", *map(str, argv)]


def run(argv, timeout=900, **kwargs):
    return subprocess.run(in_container(argv, **kwargs), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def container():
    """Skip, saying why, only where podman cannot start a container at all."""
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (.ci/run installs Debian's podman and runc)")
    done = run(["true"], timeout=120)
    if done.returncode != 0:
        pytest.skip(f"podman cannot start a container here: {done.stderr.strip()[-300:]}")


PROBE = """
import json, os, sys
sys.path.insert(0, %r)
from autograder.sandbox import tiers
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"uid": os.getuid(), "cap_eff": status["CapEff"].strip(), "seccomp": status["Seccomp"].strip(),
                  "tier": tiers.current().record()}))
""" % str(ROOT)


def test_the_container_has_the_platforms_default_powers_and_grades_in_the_own_uid_tier(container):
    done = run([sys.executable, "-c", PROBE], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["uid"] == 0 and seen["seccomp"] == "2"                   # root, under the default profile
    assert not int(seen["cap_eff"], 16) & (1 << CAP_SYS_ADMIN)          # and no CAP_SYS_ADMIN: no namespaces
    assert seen["tier"]["tier"] == "own-uid" and not seen["tier"]["forced"], seen


def test_a_batch_at_jobs_2_grades_the_reference_100_and_a_missing_zero_grad_loses_its_items(container, tmp_path):
    wrong = next(case for case in corpus.WRONG if case.name == "no_zero_grad")
    room = tmp_path / "class"
    room.mkdir()
    (room / "reference.py").write_text(corpus.REFERENCE.read_text())
    (room / "no_zero_grad.py").write_text(corpus.build(wrong))
    out = tmp_path / "grades"
    done = run([sys.executable, "-m", "autograder", "batch", room, "--out", out, "--jobs", 2], mounts=[tmp_path])
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "confinement: own-uid" in done.stdout
    meta = {name: json.loads((out / "students" / name / "meta.json").read_text())
            for name in ("reference", "no_zero_grad")}
    assert meta["reference"]["score"] == 100, meta["reference"]
    lost = {item for item, score in meta["no_zero_grad"]["items"].items() if score < full_marks(out, item)}
    # Its own items, and a claim its broken training's numbers may contradict (corpus.CLAIMS_FED_BY).
    assert wrong.loses <= lost and lost - wrong.loses <= corpus.CLAIMS_FED_BY[wrong.function], meta["no_zero_grad"]
    for student in meta.values():
        assert student["confinement"] == "own-uid"
    results = json.loads((out / "students" / "reference" / "results.json").read_text())
    assert results["extra_data"]["confinement"]["tier"] == "own-uid"
    assert "kit-hidden" in results["extra_data"]["sandbox"]
    assert "Confinement: own-uid" in (out / "students" / "reference" / "report.txt").read_text()


def full_marks(out, item):
    results = json.loads((out / "students" / "reference" / "results.json").read_text())
    return next(test["max_score"] for test in results["tests"] if test["tags"] == [item])


# The hostile cases whose defence depends on the tier: stopping a worker that will not stop (the
# whole uid is killed in own-uid), its memory, its death at import, and reading the kit (file modes
# in own-uid). The others (forged answers, patched comparisons, a replayed hook, 200 MB printed, a
# segfault) are defended inside the worker or on its pipe, the same code in every tier, and run on
# the host only.
TIER_BOUND_HOSTILE = ("infinite_loop", "loop_ignoring_sigterm", "memory_hog", "os_exit_at_import",
                      "imports_the_solution", "imports_the_solution_obfuscated")

# The suites that attack a root grader, and the platforms' entry points run in a fake root: in the
# container, each grading they do is in the own-uid tier. The few assertions about one tier's own
# mechanics (a private tmpfs /tmp, a PID namespace) ask which tier they run in (conftest.grading_tier),
# and the tests that need mount namespaces to stage an unprivileged grader skip there, saying so.
# Two xdist workers inside: the container's gradings are single-threaded, as are the outer suite's.
ATTACK_SUITES = [
    "tests/test_confinement.py",
    "tests/test_attacks_heldout.py",
    *(f"tests/test_grader.py::test_hostile_submission_costs_only_its_own_items[{name}]" for name in TIER_BOUND_HOSTILE),
    "tests/test_platforms.py::test_run_autograder_grades_a_correct_submission",
    "tests/test_platforms.py::test_run_autograder_grades_a_broken_submission",
    "tests/test_prairielearn.py::test_a_correct_submission_scores_one_with_every_item_listed",
    "tests/test_prairielearn.py::test_a_hostile_submission_costs_its_own_points_and_reads_nothing_of_the_kit",
]


def test_the_attack_suites_hold_in_a_default_container(container):
    """Every hostile case and held-out attack, graded end to end as root without namespace powers,
    and Gradescope's run_autograder and PrairieLearn's run_prairielearn in a fake root there."""
    done = run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-m", "slow or not slow",
                *ATTACK_SUITES], timeout=1800)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert done.returncode == 0, done.stdout[-6000:]
    assert re.search(r"\b\d+ passed\b", summary) and not re.search(r"\b\d+ (failed|error)", summary), summary
