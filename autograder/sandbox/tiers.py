"""Which confinement this machine allows: probed once, chosen, prepared, and said (grader side).

Courses run the grader where they can: as root with every power (a CI
machine), as root in a container with the engine's default powers (Gradescope,
PrairieLearn: no CAP_SYS_ADMIN, so no namespaces), or as a TA without root.
The grader takes the strongest tier the machine allows and never none:

    tier             where                          the worker
    private-root     root, namespaces allowed       a private root file system without the kit (confine.py)
    own-uid          root, no namespace powers      a uid of its own; the kit, the seed and classmates made
                                                    root's alone first (seal); Landlock where offered
    user-namespace   not root, user namespaces      the private root inside a user namespace
    landlock         not root, Landlock only        Landlock limits reads to Python and numpy/torch

Not root with neither a user namespace nor Landlock, nothing can hide the kit
from code running under the grader's own uid: grading is refused, with what to
grant. The one exception is the student hand-out's self-check (``best-effort``:
rlimits, and no_new_privs and seccomp where the system has them), which holds
nothing to hide and must run on a student's laptop, macOS included. ``AUTOGRADER_CONFINEMENT=TIER`` forces a weaker tier than the machine
allows (the kit's tests use it to prove each tier on one machine); it can
never force a stronger one.
"""

import os
import sys
import stat
from dataclasses import dataclass

from . import confine as confinement
from . import landlock
from .confine import BEST_EFFORT, LANDLOCK_ONLY, OWN_UID, PRIVATE_ROOT, TIERS, USER_NAMESPACE

FORCE_VARIABLE = "AUTOGRADER_CONFINEMENT"

# What each tier defends, in one line for reports; the README's table says it at length.
DEFENDS = {
    PRIVATE_ROOT: "namespaces and a private root file system without the kit; own uid, no capabilities, "
                  "seccomp, no network",
    OWN_UID: "own uid and gid, the kit, seed and classmates closed by file modes{landlock}; no capabilities, "
             "seccomp, no sockets but AF_UNIX",
    USER_NAMESPACE: "a private root file system in a user namespace (the grader's uid); no capabilities, seccomp, "
                    "no network",
    LANDLOCK_ONLY: "the grader's uid{landlock}; a non-dumpable grader, seccomp, no sockets but AF_UNIX",
    BEST_EFFORT: "the student's own machine, nothing to hide: rlimits, and no_new_privs and seccomp where offered",
}


# Where the worker's folder is a size-capped tmpfs; elsewhere the grader measures it (process.py).
FOLDER_CAPPED = (PRIVATE_ROOT, USER_NAMESPACE)


class NoConfinement(RuntimeError):
    """No tier can hide the kit, the seed and other students on this machine."""


@dataclass(frozen=True)
class Machine:
    """What the machine allows this process, as probed."""
    root: bool
    namespaces: bool          # as root: mount, PID, IPC, network and UTS namespaces, and a tmpfs mount in them
    user_namespace: bool      # not root: a user namespace in which mounts work
    landlock_abi: int         # 0: none

    def allows(self, tier):
        return {PRIVATE_ROOT: self.root and self.namespaces, OWN_UID: self.root,
                USER_NAMESPACE: not self.root and self.user_namespace,
                LANDLOCK_ONLY: not self.root and self.landlock_abi >= 1}[tier]


@dataclass(frozen=True)
class Confinement:
    """The chosen tier: what every worker of this grader applies, and what results say."""
    tier: str
    landlock_abi: int
    forced: bool = False

    def defends(self):
        ruleset = f", Landlock ABI {self.landlock_abi} (reads, writes, TCP, signals)" if self.landlock_abi else \
            ", no Landlock (file modes alone)"
        return DEFENDS[self.tier].format(landlock=ruleset if self.tier in (OWN_UID, LANDLOCK_ONLY) else "")

    def line(self):
        """One line an instructor reads: which tier, and what it defended."""
        return f"{self.tier}{' (forced)' if self.forced else ''}: {self.defends()}"

    def record(self):
        """For results.json's extra_data, meta.json and the platforms' staff-facing fields."""
        return {"tier": self.tier, "landlock_abi": self.landlock_abi, "forced": self.forced,
                "defends": self.defends()}

    def worker_config(self):
        """The keys of confine.py's config that name this tier."""
        return {"tier": self.tier, "landlock_abi": self.landlock_abi}


def probe():
    """Probe the machine once: each question is asked in a process of its own that then exits."""
    root = os.geteuid() == 0
    if not sys.platform.startswith("linux"):
        return Machine(root=root, namespaces=False, user_namespace=False, landlock_abi=0)
    return Machine(root=root, namespaces=root and _namespaces_work(user=False),
                   user_namespace=not root and _namespaces_work(user=True), landlock_abi=landlock.abi())


def choose(machine, forced=None, nothing_to_hide=False):
    """The strongest tier ``machine`` allows, or ``forced`` where it allows that one.
    ``nothing_to_hide`` (the student hand-out) accepts best-effort where no tier is allowed."""
    if forced:
        if forced not in TIERS:
            raise NoConfinement(f"{FORCE_VARIABLE}={forced!r} names no tier; the tiers are {', '.join(TIERS)}")
        if not machine.allows(forced):
            raise NoConfinement(f"{FORCE_VARIABLE}={forced} asks for a tier this machine does not allow "
                                f"({_missing(machine)})")
        return Confinement(forced, _landlock_of(forced, machine), forced=True)
    for tier in TIERS:
        if machine.allows(tier):
            return Confinement(tier, _landlock_of(tier, machine))
    if nothing_to_hide:
        return Confinement(BEST_EFFORT, 0)
    raise NoConfinement(
        "no confinement can hide the kit, the hidden seed and other students here: the grader is not root, "
        "the system refuses user namespaces, and the kernel offers no Landlock. Grant one: run the grader as "
        "root (a container's default powers are enough), allow unprivileged user namespaces (sysctl "
        "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), "
        "or use a kernel with Landlock (Linux 5.13 or newer, 'landlock' in its lsm= list)")


def _landlock_of(tier, machine):
    """The Landlock ABI a tier's workers apply: the kernel's, in the tiers that use it."""
    return machine.landlock_abi if tier in (OWN_UID, LANDLOCK_ONLY) else 0


def _missing(machine):
    if machine.root:
        return "root without namespace powers" if not machine.namespaces else "root"
    return ("not root; " + ("user namespaces allowed" if machine.user_namespace else "no user namespace")
            + (f", Landlock ABI {machine.landlock_abi}" if machine.landlock_abi else ", no Landlock"))


_chosen = []


def current(nothing_to_hide=False):
    """This grader's tier, probed and chosen once per process (the first call decides)."""
    if not _chosen:
        _chosen.append(choose(probe(), os.environ.get(FORCE_VARIABLE) or None, nothing_to_hide))
    return _chosen[0]


# The probe runs in a fresh interpreter, not a fork of the grader: a fork would hold the grader's
# memory (the hidden seed), and without root it would have to be dumpable to write its uid_map.
NAMESPACE_PROBE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
flags, user = int(sys.argv[1]), sys.argv[2] == "user"
uid, gid = os.getuid(), os.getgid()
if libc.unshare(flags) != 0:
    sys.exit(1)
if user:
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000
if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
    sys.exit(1)
sys.exit(0 if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4k") == 0 else 1)
"""


def _namespaces_work(user):
    """What confine._jail needs: the namespaces, / made private, and a tmpfs mounted in them."""
    import subprocess

    flags = (confinement.CLONE_NEWNS | confinement.CLONE_NEWPID | confinement.CLONE_NEWIPC
             | confinement.CLONE_NEWNET | confinement.CLONE_NEWUTS | (confinement.CLONE_NEWUSER if user else 0))
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", NAMESPACE_PROBE, str(flags),
                               "user" if user else "root"], env={}, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# --- own-uid: what file modes must hide before any worker starts -----------------------------

def prepare(paths_to_hide, site_dirs):
    """In the own-uid tier, seal ``paths_to_hide`` (the kit, installed copies of it, the rubric,
    the seed plans, a batch's submissions and output) and open a way to what the worker must read
    (``site_dirs`` and the interpreter). Other tiers change nothing on the host. Returns the
    changes made, as (path, old mode, new mode)."""
    if current().tier != OWN_UID:
        return []
    needed = []
    for path in confinement.python_paths(site_dirs):
        needed += [confinement._normal(path), os.path.realpath(path)]
    hidden = [confinement._normal(p) for p in paths_to_hide]
    for site in confinement.site_folders(site_dirs):
        hidden += confinement.kit_copies(site)
    changes = open_way(needed)
    return changes + seal(hidden, needed)


def _on_way(path, needed):
    """``path`` is a needed path or lies on the way to one."""
    return any(confinement._inside(n, path) for n in needed)


def _set_mode(path, mode, changes):
    old = stat.S_IMODE(os.lstat(path).st_mode)
    if old != mode:
        os.chmod(path, mode)
        changes.append((path, old, mode))


def _close_entries(folder, needed, changes):
    """Every entry of ``folder`` off the way to a needed path: closed to all but its owner."""
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if os.path.islink(path) or _on_way(path, needed):
            continue
        _set_mode(path, stat.S_IMODE(os.lstat(path).st_mode) & ~0o077, changes)


def open_way(needed):
    """A folder the worker's uid cannot pass on the way to a needed path (Python under /root)
    gets search rights only, no listing, and its other entries close: only the way opens."""
    changes = []
    for path in sorted(set(needed)):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            folder = "/" + "/".join(parts[:depth])
            mode = stat.S_IMODE(os.stat(folder).st_mode)
            if not mode & stat.S_IXOTH:
                _close_entries(folder, needed, changes)
                _set_mode(folder, (mode & ~0o066) | 0o011, changes)
    return changes


def seal(hidden, needed):
    """Close each hidden path to all but root; one that holds a needed path (a venv inside the
    kit) keeps search rights only, and every entry of it off the way closes in turn."""
    changes = []
    for path in sorted(set(hidden)):
        if not os.path.lexists(path) or os.path.islink(path):
            continue
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        if not any(confinement._inside(n, path) and n != path for n in needed):
            if not any(n == path for n in needed):
                _set_mode(path, mode & ~0o077, changes)
            continue
        _set_mode(path, (mode & ~0o066) | 0o011, changes)
        _close_entries(path, needed, changes)
        for entry in sorted(os.listdir(path)):
            inner = os.path.join(path, entry)
            if not os.path.islink(inner) and any(confinement._inside(n, inner) and n != inner for n in needed):
                changes += seal([inner], needed)
    return changes
