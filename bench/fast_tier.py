"""Where the fast tier's time goes, in CPU seconds: a figure other work on the machine barely moves.

Runs ``python -m pytest -m "not slow"`` as the README says (two xdist workers on two cores)
with a copy of this file as a pytest plugin that records each test's CPU time: its own
process's and that of the processes it started and waited for (a subprocess's torch import
counts where it was paid). Prints the run's wall time, its CPU time, the CPU per test file
and the costliest tests.

    python bench/fast_tier.py [--top 20] [pytest arguments, e.g. tests/test_corpus_fast.py]

Target (issue 19): the fast tier under 60 s on 2 cores. On a shared machine the wall time says
little; the whole run's CPU time halved (two busy workers) is close to the wall time of an idle
machine, so keep it under 120 s. A test that costs seconds should say what only it proves.

The course machines' virtual CPUs also change speed by up to 1.7x from one minute to the next, idle
or not, and CPU seconds stretch with them. So a speed probe (a fixed piece of Python and torch work,
timed in its own thread's CPU seconds, which time-slicing does not stretch) runs before the tier and
every few seconds while it runs: the median probe over the fastest one is how much slower than its
full speed the machine ran, and the tier's times divided by it are what the tier takes at full speed.
That figure is a little kind: the probes beside the tier's two busy workers share the cores' caches
with them, so a part of their slowness is the tier's own. Read the raw wall time beside it.
"""

import argparse
import collections
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS_DIR = "FAST_TIER_BENCH_ROWS"          # where each pytest process writes its rows (set by main)


def _cpu_seconds():
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def _waited_cpu_seconds():
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return waited.ru_utime + waited.ru_stime


# --- the plugin: loaded into each pytest process by ``-p fast_tier_plugin`` ---------------------

_rows = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Setup, call and teardown of one test, timed around pytest's own runner."""
    before = _cpu_seconds()
    yield
    _rows.append((_cpu_seconds() - before, item.nodeid))


def pytest_sessionfinish(session):
    folder = os.environ.get(ROWS_DIR)
    if folder:
        name = getattr(session.config, "workerinput", {}).get("workerid", "main")
        Path(folder, f"{name}.tsv").write_text("".join(f"{cpu:.3f}\t{nodeid}\n" for cpu, nodeid in _rows))


# --- the speed probe ---------------------------------------------------------------------------------

def _probe_seconds():
    """The CPU seconds of a fixed piece of work like the tier's (Python loops and a small LSTM's
    training steps on one thread), counted for this thread alone."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    lstm, x = torch.nn.LSTM(1, 16, batch_first=True), torch.randn(64, 16, 1)
    optimizer = torch.optim.Adam(lstm.parameters())
    started = time.thread_time()
    total = 0
    for i in range(300_000):
        total += i * i
    for _ in range(40):
        optimizer.zero_grad()
        lstm(x)[0].pow(2).mean().backward()
        optimizer.step()
    return time.thread_time() - started


def _probe_while(running, found, every=3.0):
    """Probe every ``every`` seconds until ``running`` is cleared (about 2% of one core)."""
    while running.is_set():
        found.append(_probe_seconds())
        time.sleep(every)


# --- the report ------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20, help="how many of the costliest tests to list")
    args, pytest_args = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="fast-tier-bench-") as rows:
        # Only this file goes on the tests' import path (a copy in the rows' folder), not bench/ itself.
        shutil.copyfile(__file__, Path(rows) / "fast_tier_plugin.py")
        env = dict(os.environ, **{ROWS_DIR: rows})
        env["PYTHONPATH"] = os.pathsep.join([rows, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        before_run = [_probe_seconds() for _ in range(5)]
        during, running = [], threading.Event()
        running.set()
        prober = threading.Thread(target=_probe_while, args=(running, during), daemon=True)
        started, before = time.monotonic(), _waited_cpu_seconds()
        prober.start()
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "fast_tier_plugin",
                               *pytest_args], cwd=ROOT, env=env, capture_output=True, text=True)
        running.clear()
        wall = time.monotonic() - started
        prober.join()
        cpu = _waited_cpu_seconds() - before             # the tier's processes', not the probes'
        tests = [line.split("\t") for f in Path(rows).glob("*.tsv") for line in f.read_text().splitlines()]
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:])
    per_file = collections.Counter()
    for seconds, nodeid in tests:
        per_file[nodeid.split("::")[0]] += float(seconds)
    in_tests = sum(per_file.values())
    print(f"wall {wall:.0f} s; CPU {cpu:.0f} s (tests {in_tests:.0f} s, the rest collection and start-up); "
          f"CPU / 2 cores = {cpu / 2:.0f} s (target: under 60)")
    fastest, typical = min(before_run + during), sorted(during or before_run)[len(during or before_run) // 2]
    slower = typical / fastest
    print(f"speed probe: {fastest:.3f} s at its fastest, {typical:.3f} s the median of {len(during)} while the "
          f"tier ran: the machine ran {slower:.2f}x slower than its full speed")
    print(f"at full speed: wall {wall / slower:.0f} s; CPU / 2 cores = {cpu / 2 / slower:.0f} s (target: under 60)")
    print("\nCPU seconds per file:")
    for name, seconds in per_file.most_common():
        if seconds >= 0.5:
            print(f"  {seconds:6.1f}  {name}")
    print(f"\nthe {args.top} costliest tests:")
    for seconds, nodeid in sorted(tests, key=lambda row: -float(row[0]))[: args.top]:
        print(f"  {float(seconds):6.2f}  {nodeid}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
