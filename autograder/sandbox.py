"""Start, talk to, and kill the worker process that runs a submission.

Why a process and not a thread: a submission can hang, segfault, call
``os._exit``, ignore SIGTERM, eat memory or fork helpers that outlive it. Each
of those must cost one item, never the grader. So the worker gets its own
session and process group, an address-space cap, a copy of its code outside the
kit, and (when the grader runs as root) a private root file system without the
kit, a uid of its own, no capabilities and a seccomp filter (confinement.py).
The grader is made a child subreaper, so anything the submission forks, even
after ``setsid``, becomes our child and is killed when the worker is.
"""

import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import worker as _worker_module

WORKER_SOURCE = Path(__file__).with_name("worker.py")
CONFINEMENT_SOURCE = Path(__file__).with_name("confinement.py")
PR_SET_CHILD_SUBREAPER = 36
MAX_RESPONSE_BYTES = 64 * 2**20


def _parse_answer(line):
    """A dict shaped like an answer or progress message, or None. An ``error`` is always a dict of
    plain values, so code reading it never meets a string or a list where it expects a mapping."""
    if not line.strip():
        return None
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    if "error" in answer and not isinstance(answer["error"], dict):
        answer["error"] = {"type": "MalformedAnswer", "message": "the worker sent an error that is not a record"}
    if isinstance(answer.get("error"), dict):
        answer["error"] = {str(k)[:40]: _bounded(v) for k, v in list(answer["error"].items())[:20]}
    return answer


MAX_ERROR_TEXT = 2000


def _bounded(value):
    """An error field as plain, bounded data: a 40 MB exception message must not become a 40 MB report."""
    if isinstance(value, (bool, int, float, type(None))):
        return value
    if isinstance(value, list):
        return [str(v)[:200] for v in value[:20]]
    text = str(value)
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + f" ... [{len(text) - MAX_ERROR_TEXT} more characters]"
    return text


class WorkerLost(BaseException):
    """The worker hung or died. A BaseException, so Hypothesis stops instead of shrinking."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class WorkerTimeout(WorkerLost):
    """No answer before the deadline; ``function`` is the student function last entered, if any."""

    def __init__(self, reason, function=None):
        super().__init__(reason)
        self.function = function


class WorkerDied(WorkerLost):
    pass


class ConfinementFailed(RuntimeError):
    """The worker could not confine itself, so it ran no student code: grading is refused."""


def become_subreaper():
    """Orphans of the worker get re-parented to us rather than to init (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def close_grader_to_workers():
    """Without root, workers share the grader's uid: a non-dumpable grader keeps its /proc
    memory, maps and environment (the hidden seed) closed to them. As root they live in
    their own PID namespace under their own uid and cannot reach the grader anyway."""
    if os.geteuid() == 0:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)       # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


# One implementation, shared with the zygote (worker.py must stay free of the kit).
reap_orphans = _worker_module.reap_orphans


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
    by name in the worker (confinement.kit_copies).
    """
    package = Path(__file__).resolve().parent
    if package.parent.name in ("site-packages", "dist-packages"):
        # An installed copy (the student hand-out): its folder is site-packages, which the worker
        # needs for numpy and torch. The package itself goes; kit_copies finds its metadata.
        return [str(package)]
    return [str(package.parent)]


class Zygote:
    """A warm process (torch loaded once) that forks workers: for batches, where a fresh
    Python and torch per submission would cost two seconds of CPU each.

    ``Zygote()`` starts a clean interpreter for it. ``Zygote.fork_here()`` forks
    the calling process instead, sharing its loaded torch: call it only before
    the reference or any grading data is loaded, since a fork copies memory.
    """

    def __init__(self, control=None, proc=None):
        import socket

        self.lock = threading.Lock()
        if control is not None:
            self.control, self.proc = control, proc
            return
        ours, theirs = socket.socketpair()
        self.control = ours
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(WORKER_SOURCE), "zygote", str(theirs.fileno()), json.dumps(site_dirs())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), env=_worker_env("/tmp"), start_new_session=True)
        theirs.close()

    @classmethod
    def fork_here(cls):
        import socket

        if "solutions.sequence_modeling" in sys.modules:
            raise RuntimeError("fork_here after the reference was loaded would copy it into every worker")
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:                       # the zygote: never returns
            ours.close()
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            try:
                _worker_module.zygote_loop(theirs)
            finally:
                os._exit(0)
        theirs.close()
        return cls(ours, _ChildHandle(pid))

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
        self.control.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class _ChildHandle:
    """poll/wait/pid for a process this one forked (Popen's interface, for the zygote)."""

    def __init__(self, pid):
        self.pid, self.returncode = pid, None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode


class ForkedProcess:
    """A worker forked by the zygote, with the slice of Popen's interface the Worker uses."""

    def __init__(self, pid, zygote, stdout):
        self.pid, self.zygote, self.stdout, self.returncode = pid, zygote, stdout, None

    def poll(self):
        if self.returncode is None:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text()
                if state[state.rfind(")") + 2] != "Z":
                    return None
            except OSError:
                pass
            self.wait()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if timeout is not None:
                end = time.monotonic() + timeout
                while time.monotonic() < end:
                    try:
                        state = Path(f"/proc/{self.pid}/stat").read_text()
                    except OSError:
                        break
                    if state[state.rfind(")") + 2] == "Z":
                        break
                    time.sleep(0.01)
                else:
                    raise subprocess.TimeoutExpired(str(self.pid), timeout)
            status = self.zygote.reap(self.pid)
            self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return self.returncode

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _worker_env(workdir):
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


class Worker:
    """One worker process; restarted on demand after it is lost."""

    def __init__(self, limits, source_path, *, hide=None, env_extra=None, zygote=None):
        self.limits = limits
        self.source_path = Path(source_path)
        self.hide = kit_paths_to_hide() if hide is None else hide
        self.env_extra = env_extra or {}
        self.zygote = zygote
        self.proc = None
        self.output = bytearray()
        self.output_total = 0
        self.next_id = 0
        self.workdir = None
        self.starts = 0
        self.confined = []
        self.entered = None             # the student function the current request is in (progress)

    # -- lifecycle ----------------------------------------------------------------

    def start(self, timeout):
        """Start the worker and wait for it to say it is ready."""
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self):
        """Start the worker process without waiting for it (it imports torch meanwhile)."""
        self.workdir = tempfile.mkdtemp(prefix="autograder-worker-")
        shutil.copyfile(self.source_path, Path(self.workdir) / "submission.py")
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        confine = {"memory_bytes": int(self.limits["memory_mb"]) * 2**20,
                   "file_bytes": int(self.limits.get("file_mb", 64)) * 2**20,
                   "tmp_bytes": int(self.limits.get("tmp_mb", 64)) * 2**20,
                   "shm_bytes": int(self.limits.get("shm_mb", 64)) * 2**20,
                   "work_bytes": int(self.limits.get("workdir_mb", 64)) * 2**20,
                   "uid_base": int(self.limits.get("worker_uid_base", 200000)),
                   "max_processes": int(self.limits.get("max_processes", 256)),
                   "hide": self.hide, "site_dirs": site_dirs()}
        env = _worker_env(self.workdir)
        env.update(self.env_extra)
        if self.zygote is not None and self.zygote.alive:
            output_r, output_w = os.pipe()
            pid = self.zygote.spawn((request_r, response_w, output_w), self.workdir, env, confine)
            os.close(output_w)
            self.proc = ForkedProcess(pid, self.zygote, os.fdopen(output_r, "rb"))
        else:                                   # a fresh interpreter runs a copy outside the kit
            worker_copy = Path(self.workdir) / "_grading_worker.py"
            shutil.copyfile(WORKER_SOURCE, worker_copy)
            shutil.copyfile(CONFINEMENT_SOURCE, Path(self.workdir) / "_grading_confinement.py")
            command = [sys.executable, "-I", "-S", str(worker_copy), str(request_r), str(response_w),
                       json.dumps(site_dirs()), json.dumps(confine)]
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(request_r, response_w), cwd=self.workdir, env=env, start_new_session=True,
            )
        os.close(request_r)
        os.close(response_w)
        self.requests = request_w
        self.responses = response_r
        self.buffer = b""
        self.starts += 1
        self.drainer = threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True)
        self.drainer.start()

    def wait_ready(self, timeout):
        ready = self._read_response(None, time.monotonic() + timeout)
        if ready.get("refused"):
            raise ConfinementFailed(f"the worker could not be confined ({ready['refused']}); "
                                    "refusing to run student code unconfined")
        if not ready.get("ok"):
            raise WorkerDied("the worker did not start")
        self.confined = list(ready.get("confined", []))

    def _drain(self, stream):
        """Keep the first ``output_kb`` of what the submission prints; count the rest."""
        cap = int(self.limits.get("output_kb", 64)) * 1024
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            self.output_total += len(chunk)
            room = cap - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Kill the worker's whole process group and every orphan it left behind."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        for fd in (self.requests, self.responses):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            proc.wait(timeout=0.2)                # closed pipes end a healthy worker's loop
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=0.3)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)       # the group, including ignorers of SIGTERM
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()
        reap_orphans(keep={self.zygote.proc.pid} if self.zygote is not None else ())
        drainer = getattr(self, "drainer", None)
        if drainer is not None:
            drainer.join(timeout=2.0)             # everything printed before the end is kept, every time
        if proc.stdout:
            proc.stdout.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # -- requests -----------------------------------------------------------------

    def request(self, payload, deadline):
        """Send one request; return its decoded JSON answer or raise WorkerLost."""
        self.next_id += 1
        self.entered = None
        payload = dict(payload, id=self.next_id)
        data = json.dumps(payload).encode("utf-8") + b"\n"
        try:
            view = memoryview(data)
            while view:
                _, writable, _ = select.select([], [self.requests], [], max(0.0, deadline - time.monotonic()))
                if not writable:
                    raise WorkerTimeout("timed out", self.entered)
                written = os.write(self.requests, view[:65536])
                view = view[written:]
        except OSError:                          # a closed pipe: the worker is gone
            raise WorkerDied(self._death_reason()) from None
        return self._read_response(self.next_id, deadline)

    def _read_response(self, wanted_id, deadline):
        """The next well-formed answer with ``wanted_id``; everything else on the pipe is junk.

        The pipe is the submission's to write on, so nothing read from it may crash the grader:
        lines that are not JSON, too deep for the parser, or not shaped like an answer are
        skipped, and the deadline is checked between lines as well as between reads.
        """
        while True:
            lines = self.buffer.split(b"\n")
            self.buffer = lines.pop()                     # an unfinished line waits for more
            for number, line in enumerate(lines):
                answer = _parse_answer(line)
                if answer is None:
                    continue                              # junk written by the submission: not an answer
                if "progress" in answer and "ok" not in answer:     # entering a student function
                    if wanted_id is not None and answer.get("id") == wanted_id:
                        self.entered = str(answer["progress"])[:100]
                    continue
                if "ok" in answer and (wanted_id is None or answer.get("id") == wanted_id):
                    self.buffer = b"\n".join(lines[number + 1:] + [self.buffer])
                    return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout("timed out", self.entered)
            readable, _, _ = select.select([self.responses], [], [], remaining)
            if not readable:
                raise WorkerTimeout("timed out", self.entered)
            chunk = os.read(self.responses, 1 << 20)
            if not chunk:
                raise WorkerDied(self._death_reason())
            self.buffer += chunk
            if len(self.buffer) > MAX_RESPONSE_BYTES:
                raise WorkerDied(f"the answer was larger than {MAX_RESPONSE_BYTES // 2**20} MiB")

    def _death_reason(self):
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the worker closed its pipe"
        if code < 0:
            name = signal.Signals(-code).name
            hint = {"SIGSEGV": "a segmentation fault", "SIGKILL": "killed, often for memory",
                    "SIGXFSZ": "wrote a file over the size limit"}.get(name, name)
            return f"the process died with {name} ({hint})"
        return f"the process exited with status {code} (sys.exit or os._exit in the submission?)"

    def printed(self):
        text = self.output.decode("utf-8", errors="replace")
        if self.output_total > len(self.output):
            text += f"\n... [{self.output_total - len(self.output)} more bytes of output dropped]"
        return text
