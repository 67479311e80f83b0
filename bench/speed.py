"""Wall time and memory of the kit's commands against the plain lab script, side by side.

Every command runs ``--repeat`` times, interleaved so machine noise hits all
of them alike, with nothing sampling them; the medians are compared. Then
each runs once more while its process tree (grader, worker and anything they
start) is sampled every 50 ms for its peak memory: PSS, the physical memory
the tree uses, and the RSS sum, which counts shared pages once per process.

    python bench/speed.py [--repeat 5]

Targets (from the issues): python -m solutions <= 1.15x the plain script,
autograder grade <= 1.6x, autograder check <= 1.3x, grading tree <= 768 MiB PSS.

Where podman and runc are installed (as root), ``autograder grade`` also runs in two containers
that differ only in their powers: the engine's defaults (the own-uid tier, as on Gradescope and
PrairieLearn) and CAP_SYS_ADMIN with seccomp unconfined (the private-root tier). Both pay the
same container start, so their ratio is the tiers' own: own-uid <= 1.1x private-root. (A
container's processes are not the podman client's children: no memory is sampled for them.)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
COMMANDS = {
    "plain lab script": [PY, "bench/plain_lab.py"],
    "python -m solutions": [PY, "-m", "solutions"],
    "autograder grade": [PY, "-m", "autograder", "grade", "solutions/sequence_modeling.py"],
    "autograder check": [PY, "-m", "autograder", "check", "solutions/sequence_modeling.py"],
}
TARGETS = {"python -m solutions": 1.15, "autograder grade": 1.6, "autograder check": 1.3}
MEMORY_LIMIT_MIB = 768
OWN_UID, PRIVATE_ROOT_CONTAINER = "grade, own-uid", "grade, private-root"
CONTAINER_TARGET = 1.1          # own-uid against private-root, each in a container


def in_container(command, powers=()):
    """``command`` as root in a podman container with the host's root as image and ``powers`` added."""
    return ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", "run", "--rm", "--network", "none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", *powers, "-w", str(ROOT),
            "--rootfs", "/:O", *command]


if os.geteuid() == 0 and shutil.which("podman") and shutil.which("runc"):
    COMMANDS[OWN_UID] = in_container(COMMANDS["autograder grade"])
    COMMANDS[PRIVATE_ROOT_CONTAINER] = in_container(COMMANDS["autograder grade"],
                                                    ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined"])


def tree_pids(root_pid):
    """``root_pid`` and its descendants, walking /proc/PID/task/TID/children (no full /proc scan)."""
    members, frontier = [], [root_pid]
    while frontier:
        pid = frontier.pop()
        members.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                frontier += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return members


def tree_memory_bytes(root_pid):
    """(RSS sum, PSS sum) of a process tree. PSS splits shared pages among their users,
    so its sum is the physical memory the tree uses (what a container limit sees);
    the RSS sum counts a page shared by a forked parent and child twice."""
    rss = pss = 0
    for pid in tree_pids(root_pid):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def run(command, measure_memory=True):
    """(seconds, peak tree RSS MiB, peak tree PSS MiB) of one run."""
    peak = [0, 0]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample():
        while measure_memory and proc.poll() is None:
            rss, pss = tree_memory_bytes(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()}")
    return elapsed, peak[0] / 2**20, peak[1] / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = {name: [] for name in COMMANDS}
    rss = {name: 0.0 for name in COMMANDS}
    pss = {name: 0.0 for name in COMMANDS}
    run(COMMANDS["plain lab script"])                     # warm the file cache once
    for _ in range(args.repeat):                          # timed runs: nothing else sampling
        for name, command in COMMANDS.items():
            times[name].append(run(command, measure_memory=False)[0])
    for name, command in COMMANDS.items():                # one more run each, for memory
        if command[0] != "podman":
            _, rss[name], pss[name] = run(command)
    base = statistics.median(times["plain lab script"])
    print(f"median of {args.repeat} interleaved runs, {os.cpu_count()} cores")
    print(f"{'command':<22} {'seconds':>8} {'ratio':>7} {'target':>9}  {'tree PSS':>9} {'tree RSS':>9}")
    ok = True
    for name in COMMANDS:
        median = statistics.median(times[name])
        ratio = median / base
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if ratio <= target else "OVER")
        ok &= verdict != "OVER"
        print(f"{name:<22} {median:8.2f} {ratio:6.2f}x {('<= %.2fx' % target) if target else '':>9}  "
              f"{pss[name]:5.0f} MiB {rss[name]:5.0f} MiB  {verdict}")
    if OWN_UID in COMMANDS:
        ratio = statistics.median(times[OWN_UID]) / statistics.median(times[PRIVATE_ROOT_CONTAINER])
        verdict = "ok" if ratio <= CONTAINER_TARGET else "OVER"
        ok &= verdict == "ok"
        print(f"own-uid tier against private-root, each in a container: {ratio:.2f}x "
              f"(target <= {CONTAINER_TARGET:.2f}x)  {verdict}")
    grading_peak = max(pss["autograder grade"], pss["autograder check"])
    print(f"grading process tree peak {grading_peak:.0f} MiB PSS (limit {MEMORY_LIMIT_MIB} MiB): "
          f"{'ok' if grading_peak < MEMORY_LIMIT_MIB else 'OVER'}")
    return 0 if ok and grading_peak < MEMORY_LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
