"""The grading processes of a batch: one ``stdio_grader`` per job slot, each student sent to a free one.

A process that dies or overruns costs only its current student; the next job starts a new one
(stdio_grader.py says why the grading runs in processes of their own).
"""

import json
import os
import queue
import subprocess
import sys
import threading

from autograder import sandbox
from autograder.rubric import HIDDEN_SEED_VARIABLE


class GraderProcess:
    """One ``autograder.classroom.stdio_grader`` process, replaced whenever it dies or overruns."""

    def __init__(self):
        self.proc = None

    def start(self):
        # The hidden seed travels in each job, never in the environment: the process forks its
        # zygote (and so every worker) from its own memory, which holds its initial environment.
        env = {name: value for name, value in os.environ.items() if name != HIDDEN_SEED_VARIABLE}
        env["OMP_NUM_THREADS"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.classroom.stdio_grader"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)

    def grade(self, job, timeout):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answers = queue.Queue()
        threading.Thread(target=lambda: answers.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = answers.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            return {"status": "grader_failed", "reason": f"grading took longer than the batch limit of {timeout:.0f} s"}
        if not line:
            self.kill()
            return {"status": "grader_failed", "reason": "the grading process died"}
        return json.loads(line)

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self, wait=True):
        """End of input: the process exits. With wait=False, only say so (close several at once)."""
        if self.proc is None:
            return
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        if wait:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def student_limit(rubric):
    """A safety net far above what per-item limits allow: every item lost and re-imported."""
    per_item = [item.seconds + float(rubric.limits.import_seconds) for item in rubric.items]
    return sum(per_item) + float(rubric.limits.import_seconds) + 60


class GraderPool:
    """``size`` grader processes, started now (torch loads in them while the batch goes on)."""

    def __init__(self, size, limit):
        self.limit = limit                  # seconds one student may take (student_limit)
        self.idle = queue.Queue()
        self.all = []
        self.lock = threading.Lock()
        for _ in range(size):
            grader = GraderProcess()
            grader.start()
            self.idle.put(grader)
            self.all.append(grader)

    def grade(self, job):
        """The answer of the first free grader to ``job``; the orphans a student left are reaped after."""
        grader = self.idle.get()
        try:
            return grader.grade(job, self.limit)
        finally:
            self.idle.put(grader)
            with self.lock:
                sandbox.reap_orphans(keep=self.live_pids())

    def live_pids(self):
        return {g.proc.pid for g in self.all if g.proc is not None and g.proc.poll() is None}

    def close(self):
        """Tell every grader first, then wait: they exit together."""
        for grader in self.all:
            grader.close(wait=False)
        for grader in self.all:
            grader.close()
