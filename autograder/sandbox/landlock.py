"""Landlock: the kernel's unprivileged file-system, network and IPC limits (worker side).

Why Landlock: where the worker cannot build a private root (no namespace
powers, as in the platforms' default containers), it can still tell the kernel
"from now on this process and its children may read only these folders, write
only this one, open no TCP connection, and signal nobody outside". No
privilege is needed, no mount, and it cannot be undone. Python has no binding
in the standard library and the worker imports nothing else, so the three
system calls are made through ctypes, as the kernel's documentation shows.

    ruleset = Ruleset(abi())          # what the kernel can restrict, by ABI version
    ruleset.allow_read(path)          # read (and run) beneath path
    ruleset.allow_write(path)         # everything beneath path
    ruleset.restrict_self()           # needs no_new_privs (or CAP_SYS_ADMIN)

Imports only the standard library.
"""

import ctypes
import os

# System call numbers: the same on x86_64 and aarch64 (added after the tables were unified).
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

# File-system rights, with the ABI version that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE = 1 << 13, 1 << 14              # ABI 2, ABI 3
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1}
# Network (ABI 4): TCP bind and connect; scopes (ABI 6): abstract UNIX sockets and signals.
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE    # what a rule on a file (not a folder) may grant


class LandlockError(OSError):
    """A Landlock call failed."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _syscall():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall


def abi():
    """The Landlock ABI version the kernel offers, 0 where it offers none (too old, not enabled
    at boot, or refused by a seccomp filter)."""
    try:
        version = _syscall()(ctypes.c_long(CREATE_RULESET), None, ctypes.c_size_t(0),
                             ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def handled_fs(version):
    """Every file-system right the kernel of ``version`` can restrict (ABI 5's device ioctls are
    left out: the worker opens no device it could misuse, and /dev/null must keep working)."""
    return FS_BY_ABI[min(version, 3)]


class Ruleset:
    """A ruleset under construction: deny everything handled, allow what is added."""

    def __init__(self, version):
        if version < 1:
            raise LandlockError("the kernel offers no Landlock")
        self.version = version
        self.fs = handled_fs(version)
        attr = _RulesetAttr(self.fs, (NET_BIND_TCP | NET_CONNECT_TCP) if version >= 4 else 0,
                            (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if version >= 6 else 0)
        fd = _syscall()(ctypes.c_long(CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                        ctypes.c_uint32(0))
        if fd < 0:
            raise LandlockError(ctypes.get_errno(), f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
        self.fd = int(fd)

    def what(self):
        """What this ruleset restricts, in words, for the record of the confinement applied."""
        limits = ["fs"]
        if self.version >= 4:
            limits.append("tcp")
        if self.version >= 6:
            limits.append("signals+abstract-unix")
        return f"landlock:abi{self.version}:" + "+".join(limits)

    def _allow(self, path, rights):
        """Allow ``rights`` beneath ``path``; a path that does not exist is skipped."""
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not os.path.isdir(f"/proc/self/fd/{fd}"):
                rights &= FILE_RIGHTS
            rule = _PathBeneathAttr(rights & self.fs, fd)
            if _syscall()(ctypes.c_long(ADD_RULE), ctypes.c_int(self.fd), ctypes.c_int(RULE_PATH_BENEATH),
                          ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                raise LandlockError(ctypes.get_errno(), f"landlock_add_rule({path}): "
                                    f"{os.strerror(ctypes.get_errno())}")
        finally:
            os.close(fd)
        return True

    def allow_read(self, path):
        return self._allow(path, READ)

    def allow_list(self, path):
        """List the folder's entries (and every folder's beneath it), but read no file."""
        return self._allow(path, READ_DIR)

    def allow_write(self, path):
        return self._allow(path, self.fs)

    def allow_device(self, path):
        """Read and write one device file (/dev/null and the like)."""
        return self._allow(path, READ_FILE | WRITE_FILE)

    def restrict_self(self):
        """Enforce the ruleset on this process and every child it will have; closes it."""
        result = _syscall()(ctypes.c_long(RESTRICT_SELF), ctypes.c_int(self.fd), ctypes.c_uint32(0))
        errno = ctypes.get_errno()
        os.close(self.fd)
        if result != 0:
            raise LandlockError(errno, f"landlock_restrict_self: {os.strerror(errno)}")
