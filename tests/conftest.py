"""Shared fixtures: paths, the reference module, and the processes a test started."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def grading_tier():
    """The confinement tier this machine gives the grader (autograder/sandbox/tiers.py): the slow
    tier's attacks run on the host (private-root as root) and in a default container (own-uid),
    and the few assertions about one tier's own mechanics ask which one they are in."""
    from autograder.sandbox import tiers

    return tiers.current().tier
SHARED_EXPECTED = ROOT.parent / "shared" / "lesson" / "expected-output.txt"
# A copy of the lesson's expected block, so the check never depends on a folder beside the clone.
EXPECTED_OUTPUT = ROOT / "tests" / "data" / "expected-output.txt"
KIT_RUBRIC = ROOT / "autograder" / "rubric.toml"


def rubric_with(overrides):
    """The kit's rubric text with ``overrides`` appended, as an instructor adds them: tables the kit's
    file does not set ([limits], [[items]] entries; it sets [data] alone)."""
    return KIT_RUBRIC.read_text().rstrip("\n") + "\n\n" + overrides.strip("\n") + "\n"
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """``python -m pytest`` runs on every core there is (up to 2, the CI machine's count) when
    pytest-xdist is installed: the fast tier takes about two minutes serial and about 60 s on two workers, and the
    slow tier's end-to-end gradings each keep one core busy (a worker trains on one thread), so the
    whole suite takes about half as long. Work stealing keeps both workers busy while one runs the
    long container test. An explicit ``-n`` (``-n 0`` for serial, say to debug) always wins.

    Runs before xdist's own hook of the same name (a conftest registers after the plugin, and
    pluggy calls the last registered first), which turns ``numprocesses`` into workers.
    """
    option = config.option
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if option.numprocesses is not None or option.dist != "no" or option.tx or getattr(option, "usepdb", False):
        return
    cores = len(os.sched_getaffinity(0))
    if cores >= 2:
        option.numprocesses = 2
        option.dist = "worksteal"


def pytest_configure(config):
    """Seed plans the tests decide go to a folder of this run's own, never the user's cache
    (``~/.cache/seqmodel-kit``): a test neither reads nor leaves another run's files."""
    import tempfile

    if not hasattr(config, "workerinput"):          # one folder for the run, shared by xdist workers
        os.environ["AUTOGRADER_CACHE"] = tempfile.mkdtemp(prefix="seqmodel-kit-tests-")


@pytest.fixture(scope="session")
def reference():
    import solutions.sequence_modeling as reference
    return reference


@pytest.fixture(scope="session")
def expected_output():
    return EXPECTED_OUTPUT.read_text()


def descendants(pid=None):
    """PIDs of every process below ``pid`` (this test process by default), from /proc's children lists."""
    found, frontier = [], [os.getpid() if pid is None else pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in open(f"/proc/{parent}/task/{task}/children").read().split()]
            except OSError:
                continue
            found += children
            frontier += children
    return found


def running_markers(marker):
    """PIDs of processes this test started (its descendants: the grader is a subreaper, so even
    orphans of a worker stay below it) whose command line contains ``marker``.

    Only descendants: other gradings run on the same machine at the same time.
    """
    found = []
    for pid in descendants():
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found
