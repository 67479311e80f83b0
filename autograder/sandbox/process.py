"""One worker process: start it, talk to it, and kill it (grader side).

Why a process and not a thread: a submission can hang, segfault, call
``os._exit``, ignore SIGTERM, eat memory or fork helpers that outlive it. Each
of those must cost one item, never the grader. So the worker gets its own
session and process group, an address-space cap, its code outside the kit
(launch.py), and (when the grader runs as root) a private root file system
without the kit, a uid of its own, no capabilities and a seccomp filter
(confine.py). The grader is made a child subreaper (lifecycle.py), so anything
the submission forks, even after ``setsid``, becomes our child and is killed
when the worker is.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import launch, tiers
from .lifecycle import kill_uid, reap_orphans
from .protocol import MAX_RESPONSE_BYTES, SUBMISSION_FILE, import_request, parse_answer, to_line
from .zygote import ForkedChild, is_running


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


FOLDER_POLL_SECONDS = 0.005


def folder_bytes(folder):
    """The disk space the files under ``folder`` take (a folder of the worker's; never follows a link)."""
    total, pending = 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    info = entry.stat(follow_symlinks=False)
                    total += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return total


def confinement_in_force(nothing_to_hide=False):
    """The tier every worker of this grader applies (tiers.py), probed once; ConfinementFailed
    where the machine allows none. ``nothing_to_hide``: the student hand-out's self-check."""
    try:
        return tiers.current(nothing_to_hide)
    except tiers.NoConfinement as problem:
        raise ConfinementFailed(str(problem)) from None


_hidden_already = set()


def hide_from_workers(paths):
    """Make ``paths`` unreadable to every worker before one starts. Only the own-uid tier has to
    act (file modes, see tiers.prepare); the others never show workers the host's files. Each
    path is handled once per grader process."""
    new = [str(p) for p in paths if p and str(p) not in _hidden_already]
    if not new or confinement_in_force().tier != tiers.OWN_UID:
        return
    tiers.prepare(new, launch.site_dirs())
    _hidden_already.update(new)


class WorkerProcess:
    """One worker process, restarted on demand after it is lost. Every request carries its
    deadline; a late, dead or confused worker raises WorkerLost, never hangs the grader."""

    def __init__(self, limits, source_path, *, hide=None, env_extra=None, zygote=None):
        self.limits = limits              # rubric.Limits: its defaults live there alone
        self.source_path = Path(source_path)
        self.hide = launch.kit_paths_to_hide() if hide is None else hide
        self.env_extra = env_extra or {}
        self.zygote = zygote
        self.proc = None
        self.output = bytearray()
        self.output_total = 0
        self.next_id = 0
        self.workdir = None
        self.code_folder = None         # the private copy of the worker's code (a fresh worker only)
        self.starts = 0
        self.confined = []
        self.tier = None                # the tiers.Confinement its workers apply
        self.entered = None             # the student function the current request is in (progress)

    # -- lifecycle ----------------------------------------------------------------

    def spawn(self):
        """Start the worker process without waiting for it (it imports torch meanwhile)."""
        self._refuse_oversized_code()
        confinement = self.tier = confinement_in_force()
        hide_from_workers(self.hide)
        self.workdir = tempfile.mkdtemp(prefix="autograder-worker-")
        shutil.copyfile(self.source_path, Path(self.workdir) / SUBMISSION_FILE)
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        confine = {"memory_bytes": int(self.limits.memory_mb) * 2**20,
                   "file_bytes": int(self.limits.file_mb) * 2**20,
                   "tmp_bytes": int(self.limits.tmp_mb) * 2**20,
                   "shm_bytes": int(self.limits.shm_mb) * 2**20,
                   "work_bytes": int(self.limits.workdir_mb) * 2**20,
                   "uid_base": int(self.limits.worker_uid_base),
                   "max_processes": int(self.limits.max_processes),
                   "hide": self.hide, "site_dirs": launch.site_dirs(), **confinement.worker_config()}
        env = launch.worker_env(self.workdir)
        env.update(self.env_extra)
        if self.zygote is not None and self.zygote.alive:
            output_r, output_w = os.pipe()
            pid = self.zygote.spawn((request_r, response_w, output_w), self.workdir, env, confine)
            os.close(output_w)
            self.proc = ForkedChild(pid, reap=self.zygote.reap, stdout=os.fdopen(output_r, "rb"))
        else:                                   # a fresh interpreter runs a private copy outside the kit
            self.code_folder, script = launch.stage_worker_code()
            self.proc = subprocess.Popen(
                launch.worker_command(script, request_r, response_w, confine),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
        self.overfilled = False
        if confinement.tier not in tiers.FOLDER_CAPPED:   # no size-capped tmpfs: the grader measures the folder
            threading.Thread(target=self._cap_folder, args=(self.proc, self.workdir, confine["work_bytes"]),
                             daemon=True).start()

    def _cap_folder(self, proc, folder, cap):
        """Kill the worker whose folder holds more than ``cap`` bytes (tiers without a private
        tmpfs: the folder is on the host's disk, which RLIMIT_FSIZE caps only file by file)."""
        while self.proc is proc and is_running(proc.pid):     # never reaps: that is the main thread's
            if folder_bytes(folder) > cap:
                self.overfilled = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                return
            time.sleep(FOLDER_POLL_SECONDS)

    def tier_record(self):
        """Which tier confined this worker, and what it defended (tiers.Confinement.record)."""
        return self.tier.record() if self.tier is not None else {}

    def _refuse_oversized_code(self):
        """Code the worker's folder cannot hold is the submission's failure, found here: inside the
        worker the copy would fail during confinement, which refuses grading as an unsafe machine.
        (A notebook's magic lines each become a 46-byte ``pass`` line: the code can outgrow its file.)"""
        cap = min(int(self.limits.file_mb), int(self.limits.workdir_mb)) * 2**20
        size = self.source_path.stat().st_size
        if size > cap:
            raise WorkerDied(f"the code to import is {size / 2**20:.0f} MB, more than the {cap // 2**20} MB "
                             "the worker's folder holds")

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
        cap = int(self.limits.output_kb) * 1024
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
        if self.tier is not None and self.tier.tier == tiers.OWN_UID:
            # No PID namespace to end with the worker: end its uid, detached and nested processes too.
            kill_uid(int(self.limits.worker_uid_base) + proc.pid)
        reap_orphans(keep={self.zygote.proc.pid} if self.zygote is not None else ())
        drainer = getattr(self, "drainer", None)
        if drainer is not None:
            drainer.join(timeout=2.0)             # everything printed before the end is kept, every time
        if proc.stdout:
            proc.stdout.close()
        for folder in (self.workdir, self.code_folder):
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
        self.workdir = self.code_folder = None

    # -- requests -----------------------------------------------------------------

    def import_submission(self, deadline):
        """Import the submission in the worker (its top-level code runs now); returns the answer."""
        return self.request(import_request(), deadline)

    def request(self, payload, deadline):
        """Send one request; return its decoded JSON answer or raise WorkerLost."""
        self.next_id += 1
        self.entered = None
        payload = dict(payload, id=self.next_id)
        data = to_line(payload)
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
                answer = parse_answer(line)
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
        if self.overfilled:
            return (f"it stored more than the {int(self.limits.workdir_mb)} MB its folder may hold, "
                    "and was stopped")
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
