"""Grade one submission: the rubric's items in order, each against a time limit.

The engine knows nothing of the command line. It starts the submission's
worker, runs each item's check (which computes verdicts here, in the grader),
and turns every way a submission can fail (stub, exception, hang, crash,
forbidden import) into that item's score and feedback. A lost worker is
restarted for the next item, so one hang costs one item.
"""

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import sandbox, seedplan
from autograder.rubric import load_rubric
from autograder.submission import LineMap, Submission, load_submission


@dataclass
class ItemResult:
    id: str
    name: str
    score: float
    max_score: float
    feedback: str
    visibility: str
    details: list = field(default_factory=list)
    artifacts: dict = field(default_factory=dict)
    outcome: str = "checked"        # or "not_implemented", "timed_out", "crashed", "not_imported"

    @property
    def passed(self):
        return self.score >= self.max_score - 1e-9


@dataclass
class GradeResult:
    submission: str
    mode: str
    items: list
    printed: str = ""
    import_error: str = ""
    confinement: list = field(default_factory=list)
    execution_time: float = 0.0

    @property
    def score(self):
        return round(sum(item.score for item in self.items), 2)

    @property
    def max_score(self):
        return round(sum(item.max_score for item in self.items), 2)

    @property
    def status(self):
        if self.import_error:
            return "import_failed"
        if any(item.outcome == "timed_out" for item in self.items):
            return "timed_out"
        return "graded"


class ImportFailed(Exception):
    """The submission could not be imported; every item scores 0."""


class Session:
    """The submission's worker for one grading run, with per-item deadlines."""

    def __init__(self, code_path, rubric, zygote=None, line_map=None):
        self.rubric = rubric
        self.line_map = line_map or LineMap()      # the worker's "submission.py, line N" -> notebook cells
        self.worker = sandbox.Worker(rubric.limits, code_path, zygote=zygote)
        self.deadline = None
        self.lost = None
        self.confinement = []

    def begin(self, wait=True):
        """Start the worker process; the import itself happens in ``ensure_imported``."""
        self.imported = False
        self.worker.spawn()
        if wait:
            self.wait_ready()

    def wait_ready(self):
        self.worker.wait_ready(timeout=float(self.rubric.limits["import_seconds"]))

    def ensure_imported(self):
        if self.worker.alive and self.imported:
            return
        if not self.worker.alive:
            self.worker.stop()
            self.begin()
        deadline = time.monotonic() + float(self.rubric.limits["import_seconds"])
        try:
            answer = self.worker.request({"op": "import", "path": "submission.py", "seed": 0}, deadline)
        except sandbox.WorkerTimeout:
            self.worker.stop()
            raise ImportFailed(f"importing the submission took longer than {self.rubric.limits['import_seconds']} s "
                               "(code at the top level of the file runs on import: is a loop or training left there?)")
        except sandbox.WorkerDied as lost:
            self.worker.stop()
            raise ImportFailed(f"the submission killed its process while being imported: {lost.reason}")
        if not answer.get("ok"):
            info = answer.get("error") or {}
            raise ImportFailed(self.line_map.translate(
                f"importing the submission raised {info.get('type')}: {info.get('message')}\n"
                f"{info.get('traceback', '')}".strip()))
        self.imported = True

    def start_item(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.lost = None

    def request(self, op, payload):
        if self.lost is not None:
            raise self.lost
        self.ensure_imported()
        try:
            return self.worker.request(dict(payload, op=op), self.deadline)
        except sandbox.WorkerLost as lost:
            self.lost = lost
            self.worker.stop()
            raise

    def close(self):
        self.worker.stop()


def _reference(mode, oracle=None):
    """What checks consult: ``oracle`` if given, else the live reference module, or in the
    student hand-out its recorded answers (autograder.oracle)."""
    import torch
    # Building any optimizer imports torch._dynamo (about a second); here it overlaps the worker's start.
    import torch._dynamo  # noqa: F401

    from autograder.oracle import load_reference

    torch.set_num_threads(1)                      # the same numbers whatever the machine's core count
    return oracle if oracle is not None else load_reference(mode)


def grade(path, mode="grade", rubric=None, only=None, zygote=None, oracle=None):
    """Grade the submission at ``path``. Raises UngradablePath for a path that cannot be graded.

    ``zygote`` (a sandbox.Zygote) forks workers with torch already loaded: batches pass one.
    ``oracle`` replaces the reference the checks consult (``autograder release`` records through one).
    """
    started = time.monotonic()
    rubric = rubric if rubric is not None else load_rubric()
    submission = path if isinstance(path, Submission) else load_submission(path)
    items = [item for item in rubric.items if (mode == "grade" or item.check) and (only is None or item.id in only)]
    sandbox.become_subreaper()
    sandbox.close_grader_to_workers()
    result = GradeResult(str(submission.path), mode, [])
    if submission.forbidden:
        reason = (f"the submission imports {', '.join(submission.forbidden)}: the reference and the grader are "
                  "off limits, and copying them earns nothing")
        result.items = [_zero(item, reason, "not_imported") for item in items]
        result.import_error = reason
        result.execution_time = time.monotonic() - started
        return result

    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        code_path = Path(tmp) / "submission.py"
        code_path.write_text(submission.code)
        session = Session(code_path, rubric, zygote=zygote, line_map=submission.line_map)
        try:
            try:
                session.begin(wait=False)
                reference = _reference(mode, oracle)   # torch loads here while the worker loads it there
                plan = seedplan.plan_for(result_seed(rubric, mode), rubric, mode, lambda: reference)
                session.wait_ready()
                session.ensure_imported()
            except (ImportFailed, sandbox.WorkerLost) as failure:
                reason = str(failure) if isinstance(failure, ImportFailed) else failure.reason
                result.import_error = reason
                result.items = [_zero(item, "the submission could not be imported: " + reason.splitlines()[0],
                                      "not_imported") for item in items]
                return result
            result.confinement = list(session.worker.confined)
            result.items = [_grade_item(session, item, rubric, mode, reference, plan) for item in items]
        finally:
            result.printed = session.worker.printed()
            session.close()
            result.execution_time = time.monotonic() - started
    return result


def result_seed(rubric, mode):
    """The seed a mode draws its data from: hidden when grading, public in the self-check."""
    return rubric.hidden_seed if mode == "grade" else rubric.public_seed


def _zero(item, feedback, outcome="checked"):
    return ItemResult(item.id, item.name, 0.0, item.points, feedback, item.visibility, outcome=outcome)


def _grade_item(session, item, rubric, mode, reference, plan):
    from autograder.checks import REGISTRY
    from autograder.checks.base import CheckContext, NotImplementedYet, StudentRaised, student_error_text
    from autograder.oracle import OracleMiss

    session.start_item(item.seconds)
    ctx = CheckContext(session, item, rubric, mode, reference, plan)
    try:
        outcome = REGISTRY[item.id](ctx)
    except NotImplementedYet as missing:
        return _zero(item, f"not implemented yet: {missing} raises NotImplementedError (its message is a hint)",
                     "not_implemented")
    except sandbox.WorkerTimeout:
        return _zero(item, f"timed out after {item.seconds:g} s: look for a loop that never ends "
                           "(the other items were graded on their own)", "timed_out")
    except sandbox.WorkerDied as died:
        return _zero(item, f"the submission's process died during this item: {died.reason}", "crashed")
    except ImportFailed as failed:
        return _zero(item, f"the submission could not be re-imported after a crash: {str(failed).splitlines()[0]}",
                     "crashed")
    except StudentRaised as raised:
        return _zero(item, student_error_text(raised))
    except sandbox.ConfinementFailed:
        raise                     # never graded unconfined: the whole run stops, loudly
    except OracleMiss as miss:
        return _zero(item, str(miss))
    except Exception as bug:  # noqa: BLE001  (a grader bug costs nobody else's items; report it loudly)
        return _zero(item, f"GRADER ERROR (not your fault, tell your instructor): {type(bug).__name__}: {bug}")
    score = round(item.points * outcome.score, 2)
    return ItemResult(item.id, item.name, score, item.points, outcome.feedback, item.visibility,
                      outcome.details, outcome.artifacts)
