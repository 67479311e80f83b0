"""The lesson's operations run on an imported module in this process: for the kit's own tests.

NEVER FOR UNTRUSTED CODE: nothing here is confined. The submission runs with the
grader's uid, file system, memory and modules, so only code the kit wrote itself
(the reference and tests/corpus.py's correct and wrong cases, tests/heldout) may
go through it. ``engine.grade(..., worker_factory=InProcessWorker)`` uses it; the
command line never does.

Why it exists: a confined worker process per grade makes every grader test an
end-to-end run of seconds. The checks, the engine and the verdicts are the same
either way; only the far end of the pipe changes. So that checks see exactly what
a worker would send, every request and answer goes through the same JSON round trip
as the pipe (``json.dumps`` of the ``encode``d answer, then the grader's own answer
parser), the submission is a fresh module per grade imported from a file named
``submission.py`` (feedback quotes ``File "submission.py", line N``) in a folder of its
own that is the working directory while it runs, each op reseeds as in the worker,
the ImportBlocker is on, one torch thread, and what it prints is captured.

What it does not do: time limits (a hang hangs the test) and crashes (a segfault
ends the test run) are the end-to-end suite's, as are hostile submissions (they
could patch this very process). Only ``sys.exit`` inside a student function is
turned into the lost worker it would be. Output written below Python (C code
writing to fd 1 or 2) is not captured, and a warning's "shown once" is reset per
grade, and by anything in the grader that resets warning filters.
"""

import concurrent.futures
import contextlib
import io
import json
import linecache
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.sandbox.lesson_ops import ImportBlocker, LessonOps, describe_exception
from autograder.sandbox.process import WorkerDied
from autograder.sandbox.protocol import MAX_RESPONSE_BYTES, SUBMISSION_FILE, import_request, parse_answer

# A fresh interpreter's warning filters (python -I -S, no -W): what the worker's student code runs under.
_DEFAULT_WARNING_FILTERS = [("default", None, DeprecationWarning, "__main__", 0),
                            ("ignore", None, DeprecationWarning, None, 0),
                            ("ignore", None, PendingDeprecationWarning, None, 0),
                            ("ignore", None, ImportWarning, None, 0), ("ignore", None, ResourceWarning, None, 0)]


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """As a worker shows a warning: on its stderr (here the captured output), whatever pytest records."""
    (file or sys.stderr).write(warnings.formatwarning(message, category, filename, lineno, line))


_STUDENT_THREAD = None


def _student_thread():
    """One thread that runs every op, as a worker's main thread would: with a shallow stack (torch's
    manual_seed formats the caller's whole stack, which under pytest and Hypothesis costs
    milliseconds per request) and torch's thread-local grad mode of its own."""
    global _STUDENT_THREAD
    if _STUDENT_THREAD is None:
        _STUDENT_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="inprocess-ops")
    return _STUDENT_THREAD


class _CappedOutput(io.TextIOBase):
    """stdout and stderr of the submission, as the worker's pipe drain keeps them: the first
    ``cap`` bytes, and a count of the rest."""

    def __init__(self, cap):
        self.cap, self.kept, self.total = cap, bytearray(), 0

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def write(self, text):
        data = str(text).encode("utf-8", errors="replace")
        self.total += len(data)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        return len(text)


class InProcessWorker:
    """The interface engine.Session uses from the worker process handle, run in this process."""

    def __init__(self, limits, source_path, *, zygote=None, **_ignored):
        self.limits = limits
        self.source_path = Path(source_path)
        self.ops = None
        self.workdir = None
        self.next_id = 0
        self.starts = 0
        self.confined = ["in-process: not confined (the kit's own tests only)"]
        self.entered = None
        self.output = _CappedOutput(int(limits.output_kb) * 1024)

    def tier_record(self):
        return {"tier": "in-process", "defends": "nothing: the kit's own tests only"}

    # -- lifecycle ----------------------------------------------------------------

    def spawn(self):
        """A fresh folder holding submission.py and fresh lesson operations (no module yet)."""
        self.workdir = tempfile.mkdtemp(prefix="autograder-inprocess-")
        shutil.copyfile(self.source_path, Path(self.workdir) / SUBMISSION_FILE)
        linecache.cache.pop(SUBMISSION_FILE, None)      # another grade's submission.py must not be quoted
        getattr(warnings, "_filters_mutated", lambda: None)()   # "shown once" starts afresh, as in a new process
        self.ops = LessonOps(report=self._progress)
        self.starts += 1

    def wait_ready(self, timeout):
        """Ready at once; no time limit in-process."""

    def _progress(self, message):
        self.entered = str(message["progress"])[:100]

    @property
    def alive(self):
        return self.ops is not None

    def stop(self):
        if self.ops is None:
            return
        self.ops = None
        module = sys.modules.get("submission")
        where = os.path.join(self.workdir or "", str(getattr(module, "__file__", None) or ""))
        if module is not None and os.path.dirname(os.path.realpath(where)) == os.path.realpath(self.workdir or ""):
            del sys.modules["submission"]                 # this grade's module, not some other "submission"
        linecache.cache.pop(SUBMISSION_FILE, None)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # -- requests -----------------------------------------------------------------

    def import_submission(self, deadline):
        """Import submission.py as a fresh module (no deadline in-process)."""
        return self.request(import_request(), deadline)

    def request(self, payload, deadline):
        """One request through the pipe's JSON round trip; the decoded answer, or WorkerDied."""
        if self.ops is None:
            raise WorkerDied("the worker is not running")
        self.next_id += 1
        self.entered = None
        req = json.loads(json.dumps(dict(payload, id=self.next_id)).encode("utf-8"))
        try:
            answer = _student_thread().submit(self._handle, req).result()
            line = json.dumps(dict(answer, id=req.get("id")), allow_nan=True)
        except SystemExit as leaving:
            self.stop()
            raise WorkerDied(_exit_reason(leaving)) from None
        except Exception as exc:          # noqa: BLE001  (an answer that cannot be encoded, as in serve)
            line = json.dumps({"ok": False, "id": req.get("id"), "error": describe_exception(exc)})
        data = line.encode("utf-8")
        if len(data) > MAX_RESPONSE_BYTES:
            self.stop()
            raise WorkerDied(f"the answer was larger than {MAX_RESPONSE_BYTES // 2**20} MiB")
        return parse_answer(data)

    def _handle(self, req):
        with self._as_the_worker():
            return self.ops.handle(req)

    @contextlib.contextmanager
    def _as_the_worker(self):
        """What the worker process would give the student's code, and the grader's state back after:
        its folder as working directory, the import blocker, captured output, a fresh interpreter's
        warning filters, and the grader's random, grad-mode and dtype state untouched."""
        import random

        import numpy as np
        import torch

        saved = (random.getstate(), np.random.get_state(), torch.get_rng_state(), torch.is_grad_enabled(),
                 torch.get_default_dtype(), os.getcwd(), warnings.filters[:], warnings.showwarning)
        blocker = ImportBlocker()
        sys.meta_path.insert(0, blocker)
        os.chdir(self.workdir)
        try:
            # In place, without catch_warnings: that would reset "shown once" at every request.
            warnings.filters[:] = _DEFAULT_WARNING_FILTERS
            warnings.showwarning = _show_warning
            with contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output):
                torch.set_num_threads(1)
                torch.set_grad_enabled(True)              # a worker's state, even when a check asks from no_grad
                torch.set_default_dtype(torch.float32)
                yield
        finally:
            os.chdir(saved[5])
            warnings.filters[:] = saved[6]
            warnings.showwarning = saved[7]
            sys.meta_path.remove(blocker)
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])
            torch.set_grad_enabled(saved[3])
            torch.set_default_dtype(saved[4])

    def printed(self):
        text = bytes(self.output.kept).decode("utf-8", errors="replace")
        if self.output.total > len(self.output.kept):
            text += f"\n... [{self.output.total - len(self.output.kept)} more bytes of output dropped]"
        return text


def _exit_reason(leaving):
    """What the process handle would report for a worker ended by this SystemExit."""
    code = leaving.code
    status = 0 if code is None else code if isinstance(code, int) else 1
    return f"the process exited with status {status} (sys.exit or os._exit in the submission?)"
