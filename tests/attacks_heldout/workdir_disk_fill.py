# attack: the worker's folder is a bind of a folder on the host's disk: write many files, each under the per-file
#         limit (file_mb), and count what the host accepted
# must hold: a submission cannot store more than its tmp_mb + file_mb on the host (the disk is shared with the grader,
#            the reports and every classmate)
# result today: BROKEN (no total cap: 10 files x 60 MiB = 600 MiB accepted on the host disk; only RLIMIT_FSIZE per file)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import os as _os

_written = 0
_block = b"x" * (1 << 20)
for _n in range(10):
    try:
        with open(f"fill-{_n}.bin", "wb") as _f:
            for _ in range(60):
                _f.write(_block)
                _written += len(_block)
    except OSError:
        break
_vfs = _os.statvfs(".")
print(f"ATTACK disk-fill wrote {_written} bytes into {_os.getcwd()} (filesystem size {_vfs.f_blocks * _vfs.f_frsize})")
for _n in range(10):                    # tidy up: the point is what was accepted, not to keep it
    try:
        _os.unlink(f"fill-{_n}.bin")
    except OSError:
        pass
