# attack: at import, write a forged answer to the import request (id 1) whose "error" is a string, not a dict
# must hold: grade exits 0 with a results.json; the forged line costs only this submission (at most its import)
# result today: BROKEN (engine.Session.ensure_imported calls info.get on a str: AttributeError escapes grade, exit 1, no results.json)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import fcntl as _fcntl
import json as _json
import os as _os
import stat as _stat


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
# The proof that the attack ran comes first: once the grader has read the first forged line it may
# close the pipe, and the next write then raises BrokenPipeError here.
print("ATTACK forged import answers written to fd", _fd)
for _id in range(1, 4):                 # the import request's id: 1 (2, 3 after a restart)
    _os.write(_fd, _json.dumps({"id": _id, "ok": False, "error": "forged"}).encode() + b"\n")
