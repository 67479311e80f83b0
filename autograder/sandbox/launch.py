"""How the grader starts a worker-side process outside the kit (grader side only).

A fresh worker or zygote runs ``python -I -S`` (no site hooks, no user paths,
no script folder on ``sys.path``) from a private copy of the worker-side
modules: a folder the grader makes with ``tempfile.mkdtemp`` (mode 0700,
outside the worker's own folder, so the submission can neither read nor
replace it, and absent from the worker's jail). The copy holds
``_grading_worker.py`` (boot.py, the script) and ``_grading/`` (the modules),
which the script loads as the package ``_grading``: the worker never needs
``autograder`` on its path, and refuses it to the submission.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The modules a worker or zygote runs: the standard library, numpy and torch, and each other.
WORKER_MODULES = ("codec.py", "protocol.py", "landlock.py", "confine.py", "probes.py", "runtime.py",
                  "lifecycle.py", "standins.py", "lesson_ops.py", "zygote.py", "worker.py")
SCRIPT_NAME = "_grading_worker.py"       # also how tests recognise a worker's command line
PACKAGE_NAME = "_grading"                 # the name boot.py loads the copied modules under


def stage_worker_code():
    """A new private folder holding the worker-side code; returns (folder, script). The caller
    removes the folder once the process it started has ended."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-code-"))
    package = folder / PACKAGE_NAME
    package.mkdir()
    (package / "__init__.py").write_text('"""The worker-side modules of autograder.sandbox, a private copy."""\n')
    for name in WORKER_MODULES:
        shutil.copyfile(HERE / name, package / name)
    script = folder / SCRIPT_NAME
    shutil.copyfile(HERE / "boot.py", script)
    return folder, script


def worker_command(script, request_fd, response_fd, confine):
    """The command line of a fresh worker (see worker.main)."""
    return [sys.executable, "-I", "-S", str(script), str(request_fd), str(response_fd),
            json.dumps(site_dirs()), json.dumps(confine)]


def zygote_command(script, control_fd):
    """The command line of a zygote (see worker.zygote_main)."""
    return [sys.executable, "-I", "-S", str(script), "zygote", str(control_fd), json.dumps(site_dirs())]


def worker_env(workdir):
    """The whole environment of a worker: nothing of the grader's (the hidden seed), one thread."""
    import os

    env = {
        "PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir,
        "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": workdir,
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def site_dirs():
    """The folders holding numpy and torch: the worker's whole third-party path.

    Found with find_spec, which does not import them: the grader's own torch
    import should overlap the worker's, not delay its start.
    """
    import importlib.util

    dirs = []
    for name in ("numpy", "torch"):
        folder = str(Path(importlib.util.find_spec(name).origin).resolve().parent.parent)
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def kit_paths_to_hide():
    """The kit's root folder (the reference, the grader, .git, bench, README...).

    The worker's root file system holds only what it needs, so the kit is absent
    anyway; listing its root also hides it where it lies inside a bound folder
    (a kit unpacked under /usr). An installed copy inside site-packages is found
    by name in the worker (confine.kit_copies).
    """
    package = HERE.parent                      # autograder/
    if package.parent.name in ("site-packages", "dist-packages"):
        # An installed copy (the student hand-out): its folder is site-packages, which the worker
        # needs for numpy and torch. The package itself goes; kit_copies finds its metadata.
        return [str(package)]
    return [str(package.parent)]
