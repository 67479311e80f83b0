"""Fast checks of the confinement's parts: what the jail holds, and the seccomp filter's effect.

The end-to-end attacks are in test_confinement.py (slow, root only).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from autograder.sandbox import confine


def make_site(folder):
    """A site-packages folder holding numpy-like packages and every kind of kit copy."""
    folder.mkdir(parents=True)
    for name in ("numpy", "torch", "solutions", "autograder", "seqmodel_kit-0.1.0.dist-info"):
        (folder / name).mkdir()
    for name in ("__editable___seqmodel_kit_0_1_0_finder.py", "__editable__.seqmodel_kit-0.1.0.pth", "bench.py",
                 "six.py"):
        (folder / name).write_text("")
    return folder


def test_the_kit_and_its_installed_copies_are_hidden_but_not_the_libraries(tmp_path):
    kit = tmp_path / "kit"
    site = make_site(kit / ".venv" / "lib" / "site-packages")
    readonly, hidden, rebind = confine.plan_binds({"site_dirs": [str(site)], "hide": [str(kit)]})
    assert str(site) in readonly and not any(p == str(kit) or str(kit) + "/.git" == p for p in readonly)
    names = sorted(os.path.basename(p) for p in hidden)
    assert names == ["__editable__.seqmodel_kit-0.1.0.pth", "__editable___seqmodel_kit_0_1_0_finder.py",
                     "autograder", "bench.py", "seqmodel_kit-0.1.0.dist-info", "solutions"]
    assert rebind == []
    assert "/usr" in readonly and not any(p.startswith(("/home", "/work", "/tmp/")) and p != str(site)
                                          for p in readonly if not p.startswith(str(tmp_path)))


def test_a_kit_inside_a_bound_folder_is_covered_and_its_venv_bound_back(tmp_path):
    outer = tmp_path / "usr-like"
    kit = outer / "src" / "kit"
    site = make_site(kit / ".venv" / "site-packages")
    readonly, hidden, rebind = confine.plan_binds({"site_dirs": [str(outer), str(site)], "hide": [str(kit)]})
    assert str(outer) in readonly and str(site) not in readonly
    assert str(kit) in hidden
    assert rebind == [str(site)]


def test_the_seccomp_filter_refuses_what_it_must_and_keeps_threads_and_processes(tmp_path):
    """In a child: after lock_down, mount/unshare/ptrace fail with EPERM (even as root, so the
    filter is what refuses), clone3 with ENOSYS, a namespace clone with EPERM, an AF_INET socket
    with EPERM; threads, fork, subprocess and AF_UNIX sockets still work."""
    script = textwrap.dedent(f"""
        import ctypes, errno, os, socket, subprocess, sys, threading
        sys.path.insert(0, {str(Path(confine.__file__).parents[2])!r})
        from autograder.sandbox import confine as c
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        index = 0 if os.uname().machine == "x86_64" else 1
        print(c.lock_down(False))
        def call(name, *args):
            ctypes.set_errno(0)
            result = libc.syscall(c.SYSCALLS[name][index], *args)
            return result, errno.errorcode.get(ctypes.get_errno(), "0")
        print("mount", call("mount", b"tmpfs", b"{tmp_path}", b"tmpfs", 0, None))
        print("umount2", call("umount2", b"/", 2))
        print("unshare", call("unshare", 0x20000))
        print("ptrace", call("ptrace", 16, os.getppid(), 0, 0))
        print("clone3", call("clone3", None, 0))
        print("clone_ns", call("clone", 0x10000000 | 17, 0, 0, 0, 0))
        box = []
        thread = threading.Thread(target=lambda: box.append(1)); thread.start(); thread.join()
        print("thread", box)
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            print("inet", "allowed")
        except OSError as exc:
            print("inet", errno.errorcode[exc.errno])
        print("unix", len(socket.socketpair()))
        print("shmget", call("shmget", 0, 4096, 0o1666))          # IPC_PRIVATE | IPC_CREAT
        print("msgget", call("msgget", 0, 0o1666))
        print("memfd", call("memfd_create", b"x", 0))
        print("subprocess", subprocess.run(["true"]).returncode)
        print("status", c.read_status()["Seccomp"], c.read_status()["NoNewPrivs"])
    """)
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert done.returncode == 0, done.stderr
    for name in ("mount", "umount2", "unshare", "ptrace", "clone_ns", "shmget", "msgget", "memfd"):
        assert out[name] == "(-1, 'EPERM')", (name, out)
    assert out["clone3"] == "(-1, 'ENOSYS')"
    assert out["thread"] == "[1]" and out["subprocess"] == "0" and out["status"] == "2 1"
    assert out["inet"] == "EPERM" and out["unix"] == "2"          # no network, but pipes and AF_UNIX work
    assert not os.path.ismount(tmp_path)
