# attack: the memory cap is RLIMIT_AS, per process; fork children that each touch what their own cap leaves free,
#         together well over the cap
# must hold: the whole worker (all its processes) stays within memory_mb (the rubric's "worker's address space")
# result today: BROKEN (children hold about 1.5 x memory_mb resident at once; 256 processes could hold ~256 x)
# (The test appends the reference solution below this block, so the file is a complete submission.)
import os as _os
import resource as _resource
import time as _time

_cap = _resource.getrlimit(_resource.RLIMIT_AS)[0]


def _vm_size():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))


_CHUNK = 32 << 20
if 0 < _cap < 2**40:
    _budget = max(0, _cap - _vm_size() - (128 << 20))        # what one process may still map
    _goal = int(1.5 * _cap)                                    # stop here: enough to prove it, no more
    _kids = min(8, -(-_goal // max(_budget, 1))) if _budget else 0
    _r, _w = _os.pipe()
    _pids = []
    for _k in range(_kids):
        _pid = _os.fork()
        if _pid == 0:
            _held, _got = [], 0
            while _got + _CHUNK <= min(_budget, _goal // _kids + _CHUNK):
                try:
                    _block = bytearray(_CHUNK)
                except MemoryError:
                    break
                for _i in range(0, _CHUNK, 4096):
                    _block[_i] = 1                                 # touched: resident, not only reserved
                _held.append(_block)
                _got += _CHUNK
            _os.write(_w, (str(_got) + "\n").encode())
            _time.sleep(3)                                         # all children hold their share together
            _os._exit(0)
        _pids.append(_pid)
    _os.close(_w)
    _lines = b""
    while _lines.count(b"\n") < len(_pids):
        _part = _os.read(_r, 4096)
        if not _part:
            break
        _lines += _part
    _total = sum(int(x) for x in _lines.split())
    for _pid in _pids:
        _os.waitpid(_pid, 0)
    print(f"ATTACK memory held {_total} bytes in {len(_pids)} processes at once (cap {_cap})")
else:
    print(f"ATTACK memory no cap to beat ({_cap})")
