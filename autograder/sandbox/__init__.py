"""The sandbox: everything that runs student code, and the grader's handle on it.

One concern per module. Worker side (run in the confined worker from a private
copy, without the kit: the standard library, numpy, torch and each other only):

- ``codec``: values as JSON data and back, for both sides (and the self-check's recorded answers);
- ``protocol``: the messages' shapes and the names both sides share;
- ``confine``: the jail, limits and seccomp filter applied before student code runs, by tier;
- ``landlock``: the kernel's unprivileged file-system, TCP and signal limits (ctypes);
- ``lesson_ops``: the lesson's operations on an imported submission (``LessonOps``);
- ``probes``: the probe models both sides build;
- ``standins``: the reference's step, as recorded indices, for a student part that raised in a composition;
- ``runtime``: torch loaded once, on one thread (the grader's reference uses it too);
- ``lifecycle``: dying with the parent, subreaping, killing orphans;
- ``zygote``: the warm process that forks workers, and the grader's handle on it;
- ``worker``: the entry point, which confines itself and serves; ``boot``: its script.

Grader side: ``tiers`` (which confinement the machine allows, chosen once, and
the file modes the own-uid tier needs), ``launch`` (the private copy, command
lines, environment) and ``process`` (``WorkerProcess``, one worker with its
deadlines).
"""

from .launch import kit_paths_to_hide, site_dirs
from .lifecycle import become_subreaper, close_grader_to_workers, reap_orphans
from .process import (ConfinementFailed, WorkerDied, WorkerLost, WorkerProcess, WorkerTimeout, confinement_in_force,
                      hide_from_workers)
from .runtime import load_torch
from .zygote import Zygote

__all__ = ["ConfinementFailed", "WorkerDied", "WorkerLost", "WorkerProcess", "WorkerTimeout", "Zygote",
           "become_subreaper", "confinement_in_force", "hide_from_workers", "close_grader_to_workers", "kit_paths_to_hide", "load_torch", "reap_orphans",
           "site_dirs"]
