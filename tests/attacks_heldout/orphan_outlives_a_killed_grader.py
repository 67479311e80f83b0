# attack: as outlives_a_killed_grader, but the busy process is a child the submission forks at import and
#         detaches (setsid): the worker's parent-death signal reaches the worker, never its children, and
#         without a PID namespace (the own-uid tier of a default container) nothing else would end them
# must hold: when the grader dies abruptly, every process running student code dies with it
# result when written: held in private-root (PID 1 of the jail dies, its namespace with it); held in own-uid
#         by the worker's root guard (confine._start_uid_guard), which kills the worker uid's processes once
#         the worker ends
# (The test appends the reference solution below this block, so the file is a complete submission.)
import ctypes as _ctypes
import os as _os
import time as _time

print("ATTACK outlive forks a detached child at import", flush=True)
if _os.fork() == 0:
    _os.setsid()
    _ctypes.CDLL(None).prctl(15, b"attack-outlive", 0, 0, 0)      # PR_SET_NAME: the proof, readable from outside
    _end = _time.monotonic() + 50
    while _time.monotonic() < _end:
        pass
    _os._exit(0)
_end = _time.monotonic() + 50          # the worker stays busy too, under import_seconds (60)
while _time.monotonic() < _end:
    pass
