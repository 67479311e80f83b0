# attack: keep the worker busy at import (a CPU loop, within the import limit) and hope the grader dies
#         abruptly (SIGKILL: a batch's overrun limit, a CI timeout, the OOM killer); the jail's PID 1 runs
#         the submission, and changing its uid (confine._drop_root) cleared its parent-death signal
# must hold: when the grader dies, every process running student code dies with it (lifecycle.py)
# result today: BROKEN (the outer worker dies with the grader, but PID 1 of the jail is re-parented to
#               the host's init and keeps burning a core for as long as it likes, slowing every grading
#               that follows on the machine)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import ctypes as _ctypes
import time as _time

print("ATTACK outlive busy at import", flush=True)
# The proof that student code runs, readable from the host without the pipes: the process's name.
_ctypes.CDLL(None).prctl(15, b"attack-outlive", 0, 0, 0)          # PR_SET_NAME
_end = _time.monotonic() + 50          # under import_seconds (60): an honest grader kills it anyway
while _time.monotonic() < _end:
    pass
