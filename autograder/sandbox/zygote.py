"""The zygote: a warm process, torch loaded once, that forks a fresh worker per submission.

A batch grades hundreds of submissions; starting Python and torch for each
costs two seconds of CPU. The zygote is a clean process (it never sees the
reference or the grader's data): each worker it forks starts with torch loaded
and then confines itself exactly as a freshly started one does.

``Zygote`` is the grader's handle on one; what runs in it is ``worker.zygote_loop``
(worker side, which never imports this module, so the two import one way). Requests on the control socket: {"op": "spawn"} with three
fds (requests, responses, output), answered {"pid"}; {"op": "reap", "pid"},
answered with the worker's wait status once it has ended.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


# --- in the zygote (worker side) ------------------------------------------------------------

def erase_start_environment():
    """Zero the environment block this process started with, and empty os.environ.

    A zygote forked from the grader (``Zygote.fork_here``) holds the grader's start: its
    environment (a CI's tokens, the machine's paths) stays readable in /proc/self/environ,
    which shows that memory, however os.environ changes. Its workers set their own."""
    import ctypes

    with open("/proc/self/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2:].split()          # field 3 (state) first
    start, end = int(fields[47]), int(fields[48])       # env_start, env_end: fields 50 and 51
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)
    os.environ.clear()


# --- in the grader --------------------------------------------------------------------------

class Zygote:
    """The grader's handle on a zygote: for batches, where a fresh Python and torch per
    submission would cost two seconds of CPU each.

    ``Zygote()`` starts a clean interpreter for it. ``Zygote.fork_here()`` forks
    the calling process instead, sharing its loaded torch: call it only before
    the reference or any grading data is loaded, since a fork copies memory.
    """

    def __init__(self, control=None, proc=None):
        import socket

        from . import launch

        self.lock = threading.Lock()
        self.code_folder = None
        if control is not None:
            self.control, self.proc = control, proc
            return
        ours, theirs = socket.socketpair()
        self.control = ours
        self.code_folder, script = launch.stage_worker_code()
        self.proc = subprocess.Popen(
            launch.zygote_command(script, theirs.fileno()),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), env=launch.worker_env("/tmp"), start_new_session=True)
        theirs.close()

    @classmethod
    def fork_here(cls):
        import socket

        if "solutions.sequence_modeling" in sys.modules:
            raise RuntimeError("fork_here after the reference was loaded would copy it into every worker")
        from .worker import zygote_loop

        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:                       # the zygote: never returns
            ours.close()
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            try:
                erase_start_environment()
                zygote_loop(theirs)
            finally:
                os._exit(0)
        theirs.close()
        return cls(ours, ForkedChild(pid))

    def spawn(self, fds, workdir, env, confine):
        """Fork a worker with the given (request, response, output) fds; returns its pid."""
        import socket

        with self.lock:
            message = json.dumps({"op": "spawn", "workdir": workdir, "env": env, "confine": confine}).encode()
            socket.send_fds(self.control, [message], list(fds))
            return json.loads(self.control.recv(1 << 16))["pid"]

    def reap(self, pid):
        """The ended worker's wait status (the zygote is its parent, so it must ask)."""
        with self.lock:
            self.control.sendall(json.dumps({"op": "reap", "pid": pid}).encode())
            return json.loads(self.control.recv(1 << 16))["status"]

    @property
    def alive(self):
        return self.proc.poll() is None

    def close(self):
        import shutil

        self.control.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.code_folder is not None:
            shutil.rmtree(self.code_folder, ignore_errors=True)
            self.code_folder = None


def is_running(pid):
    """``pid`` exists and is no zombie: read from /proc, without reaping it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


class ForkedChild:
    """A process started by a fork, not by subprocess: the slice of Popen's interface the grader
    uses (pid, poll, wait, kill). ``reap`` is None for a child of this process (the zygote
    forked from the grader); for a worker forked by the zygote it asks the zygote, its parent.
    Either way the end shows first in /proc (a zombie), read without reaping."""

    def __init__(self, pid, reap=None, stdout=None):
        self.pid, self.reap, self.stdout, self.returncode = pid, reap, stdout, None

    def _ended(self):
        return not is_running(self.pid)

    def _collect(self):
        status = os.waitpid(self.pid, 0)[1] if self.reap is None else self.reap(self.pid)
        self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)

    def poll(self):
        if self.returncode is None and self._ended():
            self._collect()
        return self.returncode

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None and not self._ended():
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        if self.returncode is None:
            self._collect()
        return self.returncode

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
