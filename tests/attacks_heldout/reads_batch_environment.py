# attack: in a batch, read /proc/self/environ: a worker forked from the server's zygote (Zygote.fork_here)
#         inherits the memory of the server's start, and clearing os.environ never erases that block
# must hold: nothing of the grading machine's environment (CI tokens, paths; the batch strips only the
#            hidden seed) reaches student code: a worker sees only launch.worker_env
# result today: BROKEN (every variable of the shell that ran `autograder batch` is readable, and
#               printing it puts it in the student's own report)
# (The test appends the reference solution below this block, so the file is a complete submission.)
with open("/proc/self/environ", "rb") as _f:
    _names = sorted(v.split(b"=", 1)[0].decode(errors="replace") for v in _f.read().split(b"\0") if b"=" in v)
print(f"ATTACK environ {len(_names)} variables: " + " ".join(_names))
