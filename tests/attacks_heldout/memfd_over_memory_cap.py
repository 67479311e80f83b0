# attack: RLIMIT_AS counts mappings, not memory held in files that are never mapped, and a memfd is no path
#         (Landlock and the folder's cap do not see it): write memfds of file_mb each from one process, never
#         mapping them, past memory_mb
# must hold: one worker process stays within memory_mb
# result when written (red team, own-uid tier): BROKEN: 80 memfds of 64 MiB, 5 GiB of host memory held by a
#         process whose RLIMIT_AS was 4 GiB. Fixed: the seccomp filter refuses memfd_create, in every tier (here the
#         attack asks for 3 of 8 MiB only, so a regression costs the machine little)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import os as _os


def _memfd_fill(count=3, size=8 << 20):
    block = b"\x41" * (1 << 20)
    fds, why = [], "all made"
    try:
        for i in range(count):
            fd = _os.memfd_create(f"held{i}")
            for _ in range(size >> 20):
                _os.write(fd, block)
            fds.append(fd)
    except OSError as exc:
        why = type(exc).__name__
    print(f"ATTACK memfd made={len(fds)} ({why})", flush=True)
    for fd in fds:
        _os.close(fd)


_memfd_fill()
