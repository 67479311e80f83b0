"""Fast checks of the sandbox package's shape: the worker runs without the kit.

The worker side (launch.WORKER_MODULES) is copied outside the kit and started
with ``python -I -S``, so it may import only the standard library, numpy,
torch and its own siblings; the end-to-end gradings that prove the rest are in
test_grader.py, test_budget.py and test_confinement.py (slow).
"""

import ast
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import launch
from autograder.sandbox.zygote import ForkedChild

SANDBOX = Path(launch.__file__).resolve().parent
THIRD_PARTY = {"numpy", "torch"}


def imports_of(path):
    """(absolute top-level names, relative module names) a module imports, anywhere in it."""
    absolute, relative = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            absolute |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            absolute.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            relative |= {node.module} if node.module else {alias.name for alias in node.names}
    return absolute, relative


@pytest.mark.parametrize("name", launch.WORKER_MODULES)
def test_worker_side_modules_import_only_the_stdlib_numpy_torch_and_each_other(name):
    absolute, relative = imports_of(SANDBOX / name)
    allowed = set(sys.stdlib_module_names) | THIRD_PARTY
    assert absolute <= allowed, f"{name} imports {sorted(absolute - allowed)}, which the worker cannot reach"
    siblings = {module[:-3] for module in launch.WORKER_MODULES}
    # launch is imported only by Zygote's grader-side constructor, never in a worker or zygote.
    assert relative <= siblings | {"launch"}, f"{name} imports {sorted(relative - siblings)} from the kit"


def test_the_staged_copy_runs_outside_the_kit_and_cannot_import_it():
    folder, script = launch.stage_worker_code()
    try:
        assert script.name == launch.SCRIPT_NAME and script.parent == folder
        assert (folder.stat().st_mode & 0o777) == 0o700, "the worker's code must be the grader's alone"
        probe = ("import runpy, sys\n"
                 f"boot = runpy.run_path({str(script)!r}, run_name='boot')\n"
                 f"boot['load_package']({str(folder / launch.PACKAGE_NAME)!r})\n"
                 "import _grading.worker, _grading.lesson_ops\n"
                 "print(_grading.lesson_ops.LessonOps.__module__, _grading.worker.confinement.__name__)\n"
                 "try:\n    import autograder\nexcept ImportError:\n    print('no kit')\n")
        done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], cwd=folder, capture_output=True,
                              text=True, timeout=120, env={"PATH": os.environ.get("PATH", "/usr/bin")})
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == ["_grading.lesson_ops", "_grading.confine", "no", "kit"]
    finally:
        shutil.rmtree(folder)


def fork_child(code):
    pid = os.fork()
    if pid == 0:                                    # the child: wait for a signal or exit at once
        if code is None:
            signal.pause()
        os._exit(code)
    return pid


def test_a_forked_child_reports_its_exit_status_and_its_killing_signal():
    exited = ForkedChild(fork_child(3))
    assert exited.wait() == 3 and exited.poll() == 3
    hanging = ForkedChild(fork_child(None))
    try:
        assert hanging.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            hanging.wait(timeout=0.05)
    finally:
        hanging.kill()
    assert hanging.wait() == -signal.SIGKILL


def test_a_child_of_the_zygote_is_reaped_by_asking_the_zygote():
    asked = []

    def reap(pid):                                  # what Zygote.reap does in its own process
        asked.append(pid)
        return os.waitpid(pid, 0)[1]

    child = ForkedChild(fork_child(5), reap=reap)
    assert child.wait() == 5 and asked == [child.pid]
