# attack: System V IPC is keyed by a number, not a path: Landlock does not see it, and its objects outlive their
#         creator (shm_rmid_forced = 0). In the own-uid tier, with no IPC namespace, a segment of 0666 memory left by
#         one student holds RAM no per-worker limit counts, and a message queue left by one student is read by the
#         next student's worker in a batch (a channel between classmates)
# must hold: a submission's memory ends with its worker, and nothing passes between two students' workers
# result when written (red team, own-uid tier): BROKEN: 5 segments of 1 GiB survived the grading; a classmate read
#         the message. Fixed: the seccomp filter refuses shmget/shmat/msgget/semget and the rest, in every tier
# (The test appends the reference solution below this block, so the file is a complete submission.)
import ctypes as _ctypes
import os as _os


class _Msg(_ctypes.Structure):
    _fields_ = [("mtype", _ctypes.c_long), ("mtext", _ctypes.c_char * 200)]


def _sysv(key=0x5EED0A11, size=16 << 20):
    libc = _ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(key, _ctypes.c_size_t(size), 0o1666)              # IPC_CREAT | 0666
    qid = libc.msgget(key, 0o666)                                          # left by a classmate?
    found = ""
    if qid >= 0:
        msg = _Msg()
        n = libc.msgrcv(qid, _ctypes.byref(msg), 200, 0, 0o4000)         # IPC_NOWAIT
        found = msg.mtext[:max(n, 0)].decode(errors="replace")
    qid = libc.msgget(key, 0o1666)
    if qid >= 0:
        text = f"left by uid {_os.getuid()}".encode()
        libc.msgsnd(qid, _ctypes.byref(_Msg(1, text)), len(text), 0o4000)
    print(f"ATTACK sysv shm={'made' if shmid >= 0 else 'refused'} queue={'made' if qid >= 0 else 'refused'} "
          f"read={found or 'nothing'}", flush=True)


_sysv()
