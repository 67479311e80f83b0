"""Confinement of the worker: what student code can see and do, set up before it runs.

Why this shape: a grader running as root (CI, Gradescope) must not lend root
to student code, yet Python may live where only root can read it (pyenv under
/root). So the worker, still root, builds a private root file system that
holds only what it needs, bound read-only: the system's /usr, /etc's loader
files, the interpreter's prefix, the site-packages folders of numpy and torch,
and its own folder, writable. The kit, other students, the grader's files and
every other folder do not exist there. Then it drops to a uid of its own, every
capability, sets no_new_privs and a seccomp filter, so none of it can be undone.

That is the strongest of four tiers; the grader probes the machine once and
names the tier in ``config["tier"]`` (autograder/sandbox/tiers.py chooses it):

* ``private-root``: root with namespace powers, as above.
* ``own-uid``: root without them (the platforms' default containers). The
  worker drops to a uid and gid of its own; the grader has already made the
  kit, the seed's files and classmates' folders root's alone; Landlock, where
  the kernel offers it, limits reads to what Python needs and writes to the
  worker's folder.
* ``user-namespace``: not root; the private root inside a user namespace.
* ``landlock``: not root, no user namespace; Landlock alone hides the kit.

Every tier ends with no capability, no_new_privs and the same seccomp filter
(no sockets but AF_UNIX among its rules). Any step that fails stops the
worker (``ConfinementError``): grading is refused rather than run weaker than
the tier the grader chose.

Imports only the standard library: the worker loads it from its private copy,
without the kit on ``sys.path``.
"""

import ctypes
import os
import platform
import resource
import stat
import sys

from . import landlock
from .lifecycle import kill_uid
from .protocol import KIT_PACKAGES

# The tiers, strongest first (tiers.py says what each defends and picks one).
PRIVATE_ROOT, OWN_UID, USER_NAMESPACE, LANDLOCK_ONLY = "private-root", "own-uid", "user-namespace", "landlock"
TIERS = (PRIVATE_ROOT, OWN_UID, USER_NAMESPACE, LANDLOCK_ONLY)
# The student hand-out's self-check on the student's own machine (macOS too): nothing there to hide.
BEST_EFFORT = "best-effort"

# The kit's distribution inside a site-packages folder (an installed or editable copy).
KIT_DIST_PREFIXES = ("seqmodel_kit", "seqmodel-kit", "__editable__")

# What of /etc a process needs: the loader's cache, user names, time zone.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID \
    | CLONE_NEWNET | CLONE_NEWTIME
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 0x400, 0x800, 0x200000
ST_NOEXEC, ST_NOATIME, ST_NODIRATIME, ST_RELATIME = 8, 1024, 2048, 4096
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 24, 38, 22
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECCOMP_MODE_FILTER = 2
EPERM, ENOSYS = 1, 38

# Syscall numbers: (x86_64, aarch64). From the kernel's unistd headers.
SYSCALLS = {
    "mount": (165, 40), "umount2": (166, 39), "ptrace": (101, 117), "unshare": (272, 97),
    "setns": (308, 268), "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "pivot_root": (155, 41), "chroot": (161, 51), "bpf": (321, 280), "perf_event_open": (298, 241),
    "userfaultfd": (323, 282), "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "kexec_load": (246, 104),
    "kexec_file_load": (320, 294), "init_module": (175, 105), "finit_module": (313, 273),
    "delete_module": (176, 106), "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430),
    "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    # System V IPC and memfds outlive the worker or escape RLIMIT_AS and the folder's cap (the own-uid
    # tier has no IPC namespace): nothing the lesson needs, so refused in every tier.
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "memfd_create": (319, 279),
    "clone": (56, 220), "clone3": (435, 435), "socket": (41, 198),
}
DENIED = tuple(name for name in SYSCALLS if name not in ("clone", "clone3", "socket"))
AF_UNIX = 1
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000


class ConfinementError(RuntimeError):
    """Confinement could not be established: the worker must not run student code."""


class UserNamespaceUnavailable(Exception):
    """Without root, the system refused a user namespace (or a mount in it): nothing was changed."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
    libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
    libc.unshare.argtypes = (ctypes.c_int,)
    libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    return libc


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfinementError(f"{what} failed: {os.strerror(errno)}")


def _mount(libc, source, target, fstype, flags, data=None, what=None):
    encode = lambda s: None if s is None else os.fsencode(s)   # noqa: E731
    _check(libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
           what or f"mount {target}")


def confine(config, keep_fds):
    """Apply every limit of ``config["tier"]``, in an order that cannot be undone; returns the
    names of what was applied. Raises ConfinementError where any of it fails."""
    applied = []
    # The jail's folders must be searchable by the worker's uid whatever the grader's umask
    # (Gradescope's run_autograder sets 077); the worker's own folder stays 0700 regardless.
    os.umask(0o022)
    resource.setrlimit(resource.RLIMIT_AS, (config["memory_bytes"], config["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_bytes"], config["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    applied.append("rlimits")
    tier = config.get("tier")
    if tier == PRIVATE_ROOT:
        applied += _jail(config, keep_fds, userns=False)
        return applied + lock_down(jailed=True)
    if tier == OWN_UID:
        return applied + _own_uid(config, keep_fds)
    if tier == USER_NAMESPACE:
        try:
            applied += _jail(config, keep_fds, userns=True)
        except UserNamespaceUnavailable:
            raise ConfinementError("the system refused the user namespace it offered at start") from None
        return applied + lock_down(jailed=True)
    if tier == LANDLOCK_ONLY:
        _close_other_fds(keep_fds)
        return applied + lock_down(jailed=False, ruleset=landlock_ruleset(config, os.getcwd())) + prove_hidden(config)
    if tier == BEST_EFFORT:
        try:
            return applied + lock_down(jailed=False)
        except (ConfinementError, OSError, AttributeError):
            return applied
    raise ConfinementError(f"no confinement tier named {tier!r}")


def _own_uid(config, keep_fds):
    """Root without namespace powers: the host's file system, seen as a uid of its own through
    Landlock. The rules are built while still root (opening a path needs only search rights then)."""
    workdir = os.getcwd()
    uid = int(config["uid_base"]) + os.getpid()
    _close_other_fds(keep_fds)
    ruleset = landlock_ruleset(config, workdir) if config.get("landlock_abi", 0) >= 1 else None
    os.chown(workdir, uid, uid)
    os.chmod(workdir, 0o700)
    for entry in os.listdir(workdir):           # its copies of the submission (made under any umask)
        os.chown(os.path.join(workdir, entry), uid, uid, follow_symlinks=False)
    _start_uid_guard(uid)
    _drop_root(_libc(), uid, int(config["max_processes"]))
    applied = [f"uid:{config['uid_base']}+pid", "caps-dropped"] + lock_down(jailed=True, ruleset=ruleset)
    return applied + prove_hidden(config)


def _start_uid_guard(uid):
    """Fork a root guard that, once this worker ends (killed with its grader, say), kills every
    process of ``uid``: without a PID namespace, what the submission forked would otherwise live
    on under init. Student code cannot signal it (root), and it holds nothing: no open file, no
    data the worker will ever see. An orderly stop kills it with the worker's process group.
    (It watches a pidfd: the parent-death signal would be refused, sent by the worker's uid.)"""
    import select
    import time

    parent = os.getpid()
    if os.fork() != 0:
        return
    try:
        _close_other_fds(())
        os.closerange(0, 3)
        try:
            select.select([os.pidfd_open(parent)], [], [])     # readable once the worker has ended
        except ProcessLookupError:              # already gone
            pass
        except OSError:                         # no pidfd here (Linux < 5.3, or a seccomp profile): poll
            while os.getppid() == parent:
                time.sleep(0.2)
        kill_uid(uid)
    finally:
        os._exit(0)


def prove_hidden(config):
    """Without a private root the kit is hidden by file modes and Landlock: check, from inside,
    that none of what must be hidden can be opened, before any student code runs."""
    hidden = list(config.get("hide", []))
    for site in site_folders(config.get("site_dirs", [])):
        hidden += kit_copies(site)
    for path in hidden:
        readable = _a_readable_file(path)
        if readable:
            raise ConfinementError(f"{readable} is still readable by the worker")
    return ["kit-hidden"]


def _a_readable_file(path, per_folder=20):
    """A file at or below ``path`` this process can open, or None. A folder whose names can be
    listed is not yet a leak (Landlock lets site-packages be listed); its files must stay closed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            return path
        names = sorted(os.listdir(fd))[:per_folder]
    finally:
        os.close(fd)
    for name in names:
        found = _a_readable_file(os.path.join(path, name), per_folder)
        if found:
            return found
    return None


def landlock_ruleset(config, workdir):
    """What the worker may touch without a private root: read the system, the interpreter and
    the third-party packages (each entry of site-packages but the kit's), write its own folder."""
    ruleset = landlock.Ruleset(int(config.get("landlock_abi", 0)) or landlock.abi())
    site_dirs = [_normal(d) for d in config.get("site_dirs", [])]
    hidden = [_normal(p) for p in config.get("hide", [])]
    for site in site_folders(config.get("site_dirs", [])):
        hidden += kit_copies(site)
    # Landlock cannot carve a hole in a folder it allows: a kit copy inside /usr is closed to the
    # worker by its file modes instead (tiers.py seals it before any worker starts).
    for path in [*SYSTEM_DIRS, *(os.path.join("/etc", f) for f in ETC_FILES), "/proc", "/sys",
                 *python_paths([])]:
        ruleset.allow_read(path)
    for site in site_dirs:
        ruleset.allow_list(site)                # imports list it; its files are allowed entry by entry
        inside = [h for h in hidden if not _inside(site, h)]     # a kit folder holding this venv covers all: skip it
        for entry in sorted(os.listdir(site)):
            path = os.path.join(site, entry)
            if not any(_inside(path, h) for h in inside):
                ruleset.allow_read(path)
    for name in DEVICES:
        ruleset.allow_device(f"/dev/{name}")
    ruleset.allow_write(workdir)
    return ruleset


# --- the private root file system ---------------------------------------------------------

def python_paths(site_dirs):
    """What the interpreter reads: its prefix, the standard library (and its extension
    modules), and the third-party folders (numpy's and torch's)."""
    import _json  # noqa: F401  (an extension module: its folder is lib-dynload)

    paths = [sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.__file__)]
    extension = getattr(sys.modules["_json"], "__file__", None)
    if extension:
        paths.append(os.path.dirname(extension))
    return paths + list(site_dirs)


def _normal(path):
    return os.path.normpath(os.path.abspath(path))


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths):
    """Drop paths that lie inside another path of the list (binding the outer one covers them)."""
    result = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(_inside(path, kept) for kept in result):
            result.append(path)
    return result


def kit_copies(folder, names=KIT_PACKAGES, prefixes=KIT_DIST_PREFIXES):
    """Entries of a site-packages folder that are the kit: packages, .py files, dist-info, editable finders."""
    found = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return found
    for entry in entries:
        stem = entry[:-3] if entry.endswith(".py") else entry
        if stem in names or entry.lower().startswith(prefixes) or entry.endswith(".egg-link"):
            found.append(os.path.join(folder, entry))
    return found


def plan_binds(config):
    """The jail's contents, computed from the host before entering: (read-only binds, hidden
    paths, read-only binds to redo inside hidden paths), each list in mount order."""
    readonly = [p for p in SYSTEM_DIRS if os.path.lexists(p)]
    readonly += [os.path.join("/etc", f) for f in ETC_FILES if os.path.exists(os.path.join("/etc", f))]
    if os.path.isdir("/sys"):
        readonly.append("/sys")
    python = []
    for path in python_paths(config.get("site_dirs", [])):
        python += [_normal(path), os.path.realpath(path)]
    readonly = _outermost([_normal(p) for p in readonly] + python)
    hidden = [_normal(p) for p in config.get("hide", [])]
    for site in site_folders(config.get("site_dirs", [])):
        hidden += kit_copies(site)
    # A hidden path matters only inside something bound; an ancestor of a bind is simply not there.
    hidden = _outermost([h for h in hidden if any(_inside(h, b) and h != b for b in readonly)])
    # Python's own folders inside a hidden one (a venv inside a kit that lies under /usr) come back.
    rebind = _outermost([p for p in python if any(_inside(p, h) for h in hidden)])
    return readonly, hidden, rebind


def site_folders(site_dirs):
    """Every folder where an installed copy of the kit could sit: the given ones, and the
    site-packages and dist-packages of the venv, the base interpreter, /usr and /usr/local."""
    import glob

    folders = [p for d in site_dirs for p in (_normal(d), os.path.realpath(d))]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/usr/local"}:
        for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages", "lib/python3/dist-packages"):
            folders += [os.path.realpath(p) for p in glob.glob(os.path.join(prefix, pattern))]
    return sorted(set(folders))


def _make_path(root, path, mode=0o755):
    """Create ``path`` (absolute) under ``root`` as real directories."""
    current = root
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if not os.path.lexists(current):
            os.mkdir(current, mode)
            os.chmod(current, mode)         # the grader's umask (077 on Gradescope) must not close the path
    return current


def _bind(libc, fd, target, readonly, recursive=False):
    """Bind the host object open as ``fd`` onto ``target`` (created first), read-only if asked.

    In a user namespace a folder holding other mounts must be bound with them (MS_REC), and a
    remount must keep the flags the source has (nosuid, noexec, atime), which it may not drop.
    """
    source = f"/proc/self/fd/{fd}"
    if os.path.isdir(source):
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        if not os.path.lexists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    _mount(libc, source, target, None, MS_BIND | (MS_REC if recursive else 0), what=f"bind {target}")
    if readonly:
        kept = os.statvfs(source).f_flag
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        for statvfs_flag, mount_flag in ((ST_NOEXEC, MS_NOEXEC), (ST_NOATIME, MS_NOATIME),
                                         (ST_NODIRATIME, MS_NODIRATIME), (ST_RELATIME, MS_RELATIME)):
            if kept & statvfs_flag:
                flags |= mount_flag
        _mount(libc, None, target, None, flags, what=f"read-only {target}")


def _jail(config, keep_fds, userns):
    """New mount, PID, IPC and network namespaces; PID 1 there builds the private root, pivots
    into it and gives up every privilege. This process waits for it and dies the same way.

    As root the worker's own process enters the namespaces and any failure refuses grading.
    Without root a child tries a user namespace first, so that if the system refuses it, this
    process is untouched and carries on with what remains (UserNamespaceUnavailable).
    """
    workdir = os.getcwd()
    readonly, hidden, rebind = plan_binds(config)
    uid = int(config["uid_base"]) + os.getpid() if not userns else os.getuid()
    _close_other_fds(keep_fds)
    if userns:
        _enter_user_namespace(keep_fds)           # returns in the child only
    else:
        libc = _libc()
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS),
               "unshare(mount, pid, ipc, net, uts namespaces)")
        _set_hostname(libc)
    _become_pid_1(keep_fds)
    libc = _libc()
    _build_root(libc, config, workdir, readonly, hidden, rebind, userns)
    if userns:
        os.write(_USERNS_READY[0], b"1")           # the point of no return: failures now refuse
        os.close(_USERNS_READY[0])
    _pivot(libc, NEW_ROOT)
    os.chdir(workdir)
    applied = ["namespaces:" + ("user," if userns else "") + "mnt,pid,ipc,net,uts", "private-root", "kit-hidden",
               "private-tmp", "private-shm"]
    if userns:
        _drop_capabilities(libc)
        return applied + ["userns", "caps-dropped"]
    os.chown(workdir, uid, uid)
    os.chmod(workdir, 0o700)
    for entry in os.listdir(workdir):           # its copies of the submission (made under any umask)
        os.chown(os.path.join(workdir, entry), uid, uid, follow_symlinks=False)
    _drop_root(libc, uid, int(config["max_processes"]))
    # Named by its rule, not its number: the same submission must give the same results.json.
    return applied + [f"uid:{config['uid_base']}+pid", "caps-dropped"]


def _set_hostname(libc):
    """A host name of its own (in its own UTS namespace): the grading machine's is none of its business."""
    name = b"grader"
    libc.sethostname(name, len(name))


NEW_ROOT = "/tmp"                  # where the new root is assembled (a tmpfs over it, in our namespace only)
_USERNS_READY = []


def _enter_user_namespace(keep_fds):
    """Fork a child that unshares a user namespace (mapping this uid to itself) with the others.
    The child returns; this process waits: if the child never says it is jailed, it raises."""
    import signal

    ready_r, ready_w = os.pipe()
    uid, gid = os.getuid(), os.getgid()
    child = os.fork()
    if child == 0:
        os.close(ready_r)
        _USERNS_READY[:] = [ready_w]
        libc = _libc()
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)           # PR_SET_PDEATHSIG
        flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS
        if libc.unshare(flags) != 0:
            os._exit(0)
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError:
            os._exit(0)
        _set_hostname(libc)
        return
    os.close(ready_w)
    jailed = os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    if not jailed:
        os.waitpid(child, 0)
        raise UserNamespaceUnavailable()
    _wait_and_mirror(child, keep_fds)


def _become_pid_1(keep_fds):
    """Fork: the child, PID 1 of the new PID namespace, returns; this process waits for it."""
    import signal

    child = os.fork()
    if child:
        _wait_and_mirror(child, keep_fds)
    _libc().prctl(1, int(signal.SIGKILL), 0, 0, 0)          # PR_SET_PDEATHSIG, reset by fork


def _wait_and_mirror(child, keep_fds):
    """Wait for ``child`` and end the same way, so the grader can say why the worker died."""
    import signal

    for fd in keep_fds:
        os.close(fd)
    for fd in _USERNS_READY:
        try:
            os.close(fd)
        except OSError:
            pass
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _build_root(libc, config, workdir, readonly, hidden, rebind, userns):
    """Assemble the private root at NEW_ROOT (in PID 1, while the host's /proc is still there)."""
    def fail_softly(exc):
        if userns:                                  # nothing is lent without root: fall back
            os._exit(0)
        raise exc

    try:
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE, what="making / private")
    except ConfinementError as exc:
        fail_softly(exc)
    # The worker's folder becomes a size-capped tmpfs holding copies of its files, read now, before
    # /tmp (which may hold it) is covered: what the student writes never reaches the host's disk.
    work_files = {}
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                work_files[name] = f.read()
    # Open every source before covering anything: /tmp, the new root's mount point, may hold the workdir.
    opened = {}
    for path in [*readonly, *rebind, *(f"/dev/{name}" for name in DEVICES)]:
        if not (path in SYSTEM_DIRS and os.path.islink(path)):
            opened[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        _mount(libc, "tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755", what="the new root")
    except ConfinementError as exc:
        fail_softly(exc)
    try:
        # The private /tmp first: a venv or a Python that lives under /tmp is bound on top of it.
        _make_path(NEW_ROOT, "/tmp")
        _mount(libc, "tmpfs", NEW_ROOT + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={config['tmp_bytes']},mode=1777", what="private /tmp")
        for path in readonly:
            if path in opened:
                _bind(libc, opened[path], NEW_ROOT + path, True, recursive=userns)
            else:                                  # /lib -> usr/lib on merged-/usr systems
                os.symlink(os.readlink(path), NEW_ROOT + path)
        for path in hidden:                        # the kit's copies inside what is bound
            _cover(libc, NEW_ROOT, path, keep_searchable=any(_inside(p, path) for p in rebind))
        for path in rebind:
            _bind(libc, opened[path], NEW_ROOT + path, True, recursive=userns)
        for path in hidden:
            if any(_inside(p, path) for p in rebind):
                _mount(libc, None, NEW_ROOT + path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                       "mode=755", what=f"read-only cover of {path}")
        _make_path(NEW_ROOT, "/dev")
        _mount(libc, "tmpfs", NEW_ROOT + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755", what="/dev")
        for name in DEVICES:
            _bind(libc, opened[f"/dev/{name}"], f"{NEW_ROOT}/dev/{name}", False)
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                             ("stderr", "/proc/self/fd/2")):
            os.symlink(target, f"{NEW_ROOT}/dev/{name}")
        os.mkdir(NEW_ROOT + "/dev/shm")
        _mount(libc, "tmpfs", NEW_ROOT + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               f"size={config['shm_bytes']},mode=1777", what="private /dev/shm")
        _make_path(NEW_ROOT, workdir)
        _mount(libc, "tmpfs", NEW_ROOT + workdir, "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={config['work_bytes']},mode=700", what="the worker's own folder")
        for name, data in work_files.items():
            with open(os.path.join(NEW_ROOT + workdir, name), "wb") as f:
                f.write(data)
        _make_path(NEW_ROOT, "/proc")
        _mount(libc, "proc", NEW_ROOT + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               what="/proc of the new PID namespace")
        _mount(libc, None, NEW_ROOT, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
               what="read-only new root")
    except (ConfinementError, OSError) as exc:
        fail_softly(exc)
    finally:
        for fd in opened.values():
            os.close(fd)


def _cover(libc, new_root, path, keep_searchable=False):
    """Hide ``path`` inside a read-only bind: an empty tmpfs over a folder, an empty unreadable
    file over a file. A folder that Python's own folders must be bound back into stays writable
    until they are."""
    target = new_root + path
    if os.path.isdir(target):
        if keep_searchable:
            _mount(libc, "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755", what=f"hiding {path}")
        else:
            _mount(libc, "tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0",
                   what=f"hiding {path}")
        return
    empty = new_root + "/.hidden"
    if not os.path.exists(empty):
        os.close(os.open(empty, os.O_CREAT | os.O_WRONLY, 0))
    _mount(libc, empty, target, None, MS_BIND, what=f"hiding {path}")
    _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, what=f"hiding {path}")


def _pivot(libc, new_root):
    """Make ``new_root`` the root; the old one is detached, unreachable from here on."""
    number = SYSCALLS["pivot_root"][_arch_index()]
    os.chdir(new_root)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(number), b".", b".") != 0:
        raise ConfinementError(f"pivot_root failed: {os.strerror(ctypes.get_errno())}")
    _check(libc.umount2(b".", MNT_DETACH), "detaching the old root")
    os.chdir("/")


def _close_other_fds(keep):
    """Nothing the grader had open may reach the worker: only stdio and the protocol pipes stay."""
    keep = sorted({0, 1, 2, *keep})
    for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
        if high > low + 1:
            os.closerange(low + 1, high)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc):
    """Empty the bounding, ambient, effective, permitted and inheritable sets (a user namespace's
    creator holds every capability inside it, whatever its uid)."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap} from the bounding set")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)                       # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset (clearing every capability)")


def _drop_root(libc, uid, max_processes):
    """No capability in any set, no supplementary group, a uid nobody else has."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap} from the bounding set")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    # Per uid, and this uid is the worker's alone: a fork bomb stops at this many processes.
    resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)               # from uid 0 to non-zero: permitted and effective sets cleared
    # Changing uid made the process non-dumpable, which hands its /proc/self files to root:
    # /dev/stdout (/proc/self/fd/1) would fail. Only this worker's own processes share its uid.
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    # Changing uid also cleared the parent-death signal _become_pid_1 set: re-arm it, or a grader
    # killed abruptly (SIGKILL) leaves this PID 1, and the student code it runs, alive under init.
    import signal

    _check(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


# --- what holds with or without root --------------------------------------------------------

def _arch_index():
    machine = platform.machine()
    if machine not in AUDIT_ARCH:
        raise ConfinementError(f"no seccomp filter for architecture {machine}")
    return 0 if machine == "x86_64" else 1


def seccomp_program():
    """The classic BPF filter: the kernel-facing syscalls fail with EPERM, clone3 with ENOSYS
    (glibc then uses clone), clone with a namespace flag with EPERM, a socket of any family but
    AF_UNIX with EPERM (no network, whatever the tier); every other call is allowed."""
    index = _arch_index()
    arch = AUDIT_ARCH[platform.machine()]
    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    ALLOW, KILL, ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
    program = [(LD, 0, 0, 4), (JEQ, 1, 0, arch), (RET, 0, 0, KILL), (LD, 0, 0, 0)]
    if index == 0:                                      # x32 syscalls: another numbering, refused
        program += [(JGE, 0, 1, X32_SYSCALL_BIT), (RET, 0, 0, ERRNO | EPERM)]
    for name in DENIED:
        program += [(JEQ, 0, 1, SYSCALLS[name][index]), (RET, 0, 0, ERRNO | EPERM)]
    program += [(JEQ, 0, 1, SYSCALLS["clone3"][index]), (RET, 0, 0, ERRNO | ENOSYS)]
    program += [(JEQ, 0, 3, SYSCALLS["clone"][index]),
                (LD, 0, 0, 16),                        # args[0] (clone's flags), low 32 bits
                (JSET, 0, 1, NAMESPACE_FLAGS), (RET, 0, 0, ERRNO | EPERM)]
    program += [(LD, 0, 0, 0),                         # the syscall number again (clone's branch loaded args)
                (JEQ, 0, 3, SYSCALLS["socket"][index]),
                (LD, 0, 0, 16),                        # args[0] (socket's family)
                (JEQ, 1, 0, AF_UNIX), (RET, 0, 0, ERRNO | EPERM)]
    program += [(RET, 0, 0, ALLOW)]
    return program


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def lock_down(jailed, ruleset=None):
    """no_new_privs, the Landlock ``ruleset`` if given, and the seccomp filter, then proof from
    /proc/self/status; in a jail, also that no capability remains in any set and the uid is not 0."""
    libc = _libc()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    applied = ["no_new_privs"]
    if ruleset is not None:
        try:
            ruleset.restrict_self()
        except landlock.LandlockError as exc:
            raise ConfinementError(str(exc)) from None
        applied.append(ruleset.what())
    program = seccomp_program()
    filters = (_SockFilter * len(program))(*[_SockFilter(*instruction) for instruction in program])
    fprog = _SockFprog(len(program), filters)
    prctl = ctypes.CDLL(None, use_errno=True).prctl          # a pointer argument: no fixed argtypes
    _check(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "installing the seccomp filter")
    status = read_status()
    if status.get("NoNewPrivs") != "1" or status.get("Seccomp") != "2":
        raise ConfinementError("no_new_privs or seccomp is not in force")
    if jailed:
        if os.getuid() == 0 or "0" in status.get("Uid", "0").split() or "0" in status.get("Gid", "0").split():
            raise ConfinementError("still uid or gid 0 after dropping root")
        for name in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
            if int(status.get(name, "1"), 16) != 0:
                raise ConfinementError(f"{name} is not empty after dropping root: {status.get(name)}")
    return applied + ["seccomp"]


def read_status():
    """/proc/self/status as a dict of strings."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields
