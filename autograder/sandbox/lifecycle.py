"""How the grader, the zygote and the workers live and die together.

A submission can fork helpers that outlive it, even after ``setsid``. The
grader and the zygote are child subreapers, so such orphans come back to them
and are killed when the worker is (``reap_orphans``); a worker or zygote whose
grader dies is killed by the kernel (``die_with_parent``).

Imports only the standard library: both sides use it.
"""

import ctypes
import os

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36


def die_with_parent():
    """If the grader dies (a killed batch grading process), take this process down too."""
    import signal

    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


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
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _children_of(pid):
    """PIDs whose parent is ``pid``, read from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces; the fields after the last ')' are fixed.
        if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
            children.append(int(entry))
    return children


def reap_orphans(keep=()):
    """Kill and reap every child of this process not in ``keep``; returns how many.

    Used by the grader (a child subreaper) and by the zygote after each worker:
    killing a stray re-parents its own children here, so repeat until none is left.
    """
    import signal
    import time

    killed = 0
    for _ in range(50):
        strays = [pid for pid in _children_of(os.getpid()) if pid not in keep]
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.02)
    return killed


def kill_uid(uid):
    """Kill every process of ``uid`` (a worker's own, in the own-uid tier), however deeply nested
    or detached: a child of ours takes that uid and sends kill(-1), which reaches exactly the
    processes that uid may signal. Needs root; returns at once without it."""
    import signal

    if os.geteuid() != 0 or uid == 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(3):                  # a fork loop may add some between two sweeps
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
