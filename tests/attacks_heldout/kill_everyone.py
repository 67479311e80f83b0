# attack: at import, signal every process this uid may reach: kill(-1, SIGKILL) (every process but init that the
#         caller may signal), then SIGKILL to every pid 1..4096 and to the process groups of the grader and the zygote
#         (the worker's parent and grandparent on the host)
# must hold: only this submission's items are lost; the grader, the batch's server and zygote, and a classmate graded
#            at the same time are untouched (the worker lives in its own PID namespace, under its own uid)
# result today: held (the worker is PID 1 of its own PID namespace, alone there: every kill misses or is ignored,
#               the import goes on and the reference below it scores 100; the classmate scores 100)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import os as _os
import signal as _signal

print("ATTACK kill-everyone from pid", _os.getpid(), "ppid", _os.getppid(), flush=True)
for _target in range(2, 4097):
    try:
        _os.kill(_target, _signal.SIGKILL)
    except OSError:
        pass
for _group in (_os.getppid(), _os.getpgrp()):
    try:
        _os.killpg(_group, _signal.SIGKILL)
    except OSError:
        pass
try:
    _os.kill(-1, _signal.SIGKILL)
except OSError:
    pass
print("ATTACK kill-everyone survived", flush=True)
