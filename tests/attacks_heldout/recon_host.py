# attack: look around from inside the worker: the network (a TCP connect out, to the host's loopback, an abstract
#         unix socket), the host's identity (hostname: no UTS namespace; /sys is the host's, read-only), writes to
#         /proc/sys, and the uid's reach (setuid back to 0)
# must hold: no connection leaves the worker; nothing under /proc/sys or /sys is writable; the uid stays non-zero
# result today: held for network, /proc/sys, /sys and setuid; the host's hostname and network interface names are
#               readable (no UTS namespace, /sys bound): information only, noted in the report
# (The test appends the reference solution below this block, so the file is a complete submission.)
import os as _os
import socket as _socket

_seen = []


def _try(name, fn):
    try:
        result = fn()
        _seen.append(f"{name}=OK:{str(result)[:40]}")
    except Exception as exc:   # noqa: BLE001
        _seen.append(f"{name}=no:{type(exc).__name__}")


def _connect(address):
    with _socket.create_connection(address, timeout=2):
        return "connected"


def _abstract():
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.connect("\0/tmp/.X11-unix/X0")
    return "connected"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return "written"


_try("tcp-out", lambda: _connect(("1.1.1.1", 53)))
_try("tcp-loopback", lambda: _connect(("127.0.0.1", 22)))
_try("abstract-unix", _abstract)
_try("proc-sys-write", lambda: _write("/proc/sys/kernel/hostname", "owned"))
_try("sys-write", lambda: _write("/sys/kernel/mm/transparent_hugepage/enabled", "never"))
_try("setuid0", lambda: _os.setuid(0))
_try("hostname", _socket.gethostname)
_try("net-ifaces", lambda: ",".join(sorted(_os.listdir("/sys/class/net"))))
print("ATTACK recon " + " ".join(_seen))
