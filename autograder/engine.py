"""Grade one submission: the rubric's items in order, each against a time limit.

The engine knows nothing of the command line. It starts the submission's
worker, runs each item's check (which computes verdicts here, in the grader),
and turns every way a submission can fail (stub, exception, hang, crash,
forbidden import) into that item's score and feedback. A lost worker is
restarted for the next item, so one hang costs one item.

Time is budgeted twice. A student function that hung once is refused at once
afterwards (the worker names the function it is in), so an endless loop costs
one item's wait, not one per item that calls it. And the whole grade has a
total budget (``[limits] total_seconds``): item deadlines are clipped to it, and
items it leaves no time for are reported as not graded, so the result is
always complete.
"""

import re
import tempfile
import time
from pathlib import Path

from autograder import sandbox, seedplan
from autograder.notebook_reader import CELL_FAILURES, LineMap, describe_cell_failures, worker_source
from autograder.reports.results import GradeResult, ItemResult
from autograder.rubric import load_rubric
from autograder.sandbox.codec import decode
from autograder.sandbox.protocol import SUBMISSION_FILE
from autograder.submission import Submission, import_verdict, load_submission


class ImportFailed(Exception):
    """The submission could not be imported; every item scores 0."""


# How the worker handle (Session) stops an item. Raised by the Session alone and caught by the
# engine alone, which turns each into the item's result; no check names them (a check that wants a
# run that may be stopped asks Session.attempt). BaseExceptions, like sandbox.WorkerLost, so
# neither a criterion nor Hypothesis (which would shrink) takes one for a failure of its own.

class HungBefore(BaseException):
    """A request would run a student function that already hung: its item fails at once."""


class BudgetSpent(BaseException):
    """The whole grade's time budget ran out before this item could run."""


def total_seconds(rubric):
    return float(rubric.limits.total_seconds)


MISSING_NAME = "the submission does not define"          # a name the worker found missing (lesson_ops)
MISSING_AFTER_CELL_ERROR = "a notebook cell raised before defining it? The cells that raised are listed with the total"
NOT_IMPORTED = "not graded: the submission could not be imported (its error is shown once, with the total)"
# Python's own import machinery in a traceback ("<frozen importlib._bootstrap_external>"): never the student's.
_IMPORT_MACHINERY = re.compile(r'^\s*File "<frozen importlib\._bootstrap(?:_external)?>", line \d+, in \w+\n?', re.M)


def without_import_machinery(traceback_text):
    """A traceback without the frames of Python's import system, which tell a student nothing."""
    return _IMPORT_MACHINERY.sub("", traceback_text or "")


def budget_feedback(rubric):
    return f"not graded: the whole grade ran out of its {total_seconds(rubric):g} s budget"


class Session:
    """The submission's worker for one grading run: per-item deadlines within a total
    budget, and the student functions that hung (refused from then on)."""

    def __init__(self, code_path, rubric, zygote=None, started=None, line_map=None, worker_factory=None):
        self.rubric = rubric
        self.line_map = line_map or LineMap()      # the worker's "submission.py, line N" -> notebook cells
        self.worker = (worker_factory or sandbox.WorkerProcess)(rubric.limits, code_path, zygote=zygote)
        self.budget_end = (time.monotonic() if started is None else started) + total_seconds(rubric)
        self.deadline = None
        self.item = None
        self.cut_by_budget = False      # the current item's deadline is the budget's end
        self.lost = None
        self.hung = {}                  # student function -> its first hang's message
        self.shared = {}                # measurements several items judge (items/answers.py): made once
        self.confinement = []

    def remaining(self):
        return self.budget_end - time.monotonic()

    def begin(self, wait=True):
        """Start the worker process; the import itself happens in ``ensure_imported``."""
        self.imported = False
        self.worker.spawn()
        if wait:
            self.wait_ready()

    def _import_seconds(self):
        """The import's time limit, clipped to the budget; BudgetSpent when nothing is left."""
        seconds = min(float(self.rubric.limits.import_seconds), self.remaining())
        if seconds <= 0:
            raise BudgetSpent()
        return seconds

    def wait_ready(self):
        seconds = self._import_seconds()
        try:
            self.worker.wait_ready(timeout=seconds)
        except sandbox.WorkerTimeout:
            if seconds < float(self.rubric.limits.import_seconds):
                self.worker.stop()
                raise BudgetSpent() from None
            raise

    def ensure_imported(self):
        if self.worker.alive and self.imported:
            return
        if not self.worker.alive:
            self.worker.stop()
            self.begin()
        seconds = self._import_seconds()
        try:
            answer = self.worker.import_submission(time.monotonic() + seconds)
        except sandbox.WorkerTimeout:
            self.worker.stop()
            if seconds < float(self.rubric.limits.import_seconds):
                raise BudgetSpent() from None
            raise ImportFailed(f"importing the submission took longer than {self.rubric.limits.import_seconds} s "
                               "(code at the top level of the file runs on import: is a loop or training left there?)")
        except sandbox.WorkerDied as lost:
            self.worker.stop()
            raise ImportFailed(f"the submission killed its process while being imported: {lost.reason}")
        if not answer.get("ok"):
            info = answer.get("error") or {}
            raise ImportFailed(self.line_map.translate(
                f"importing the submission raised {info.get('type')}: {info.get('message')}\n"
                f"{without_import_machinery(info.get('traceback', ''))}".strip()))
        self.imported = True

    def cell_failures(self):
        """A notebook's cells that raised when it was imported, as report lines (see notebook_reader.CELL_RUNNER)."""
        seconds = min(float(self.rubric.limits.import_seconds), self.remaining())
        try:
            answer = self.worker.request({"op": "call", "fn": CELL_FAILURES, "args": [], "kwargs": {}},
                                         time.monotonic() + max(seconds, 0.0))
            failures = decode(answer["value"]) if answer.get("ok") else None
        except sandbox.WorkerLost:
            self.worker.stop()
            return ["the notebook's cells could not be asked which of them raised: the process was lost"]
        except (ValueError, TypeError, KeyError, RecursionError):
            failures = None
        return describe_cell_failures(failures)

    def start_item(self, item):
        own_end = time.monotonic() + item.seconds
        self.item = item
        self.deadline = min(own_end, self.budget_end)
        self.cut_by_budget = self.budget_end < own_end
        self.lost = None

    def request(self, op, payload):
        if self.lost is not None:
            raise self.lost
        if not (self.worker.alive and self.imported):
            self.ensure_imported()
            self.start_item(self.item)          # restarting a lost worker is not the item's time
        payload = dict(payload, op=op)
        if self.hung:
            payload["refuse"] = sorted(self.hung)
        try:
            answer = self.worker.request(payload, self.deadline)
        except sandbox.WorkerLost as lost:
            self.lost = lost
            self.worker.stop()
            if isinstance(lost, sandbox.WorkerTimeout) and lost.function and not self.cut_by_budget:
                # A crash is not a hang: only a timeout within the item's own limit refuses the function.
                self.hung.setdefault(lost.function, self.hang_text(lost.function))
            raise
        if not answer.get("ok") and answer.get("known_hang") in self.hung:
            raise HungBefore(self.hung[answer["known_hang"]])
        return answer

    def attempt(self, run, slow_ok=False):
        """(run(), None), or (None, why) when this session stopped ``run``: a check's optional
        measurement, whose loss the check reports in its own words instead of losing the item.

        A student function refused because it hung before is always told as why. With ``slow_ok``
        so are a worker that died and one that ran out of the item's own time; that timeout is then
        not counted as a hang (the run was long, not known to loop: refusing the function from now
        on would cost the later items that call it). The grade's budget running out is never
        absorbed: the item ends not graded, like any other."""
        try:
            return run(), None
        except HungBefore as hang:
            return None, str(hang)
        except sandbox.WorkerLost as lost:
            if not slow_ok or self.cut_by_budget:
                raise
            if not isinstance(lost, sandbox.WorkerTimeout):
                return None, f"the submission's process died ({lost.reason})"
            if lost.function:
                self.hung.pop(lost.function, None)
            return None, f"the run did not finish within the item's {self.item.seconds:g} s"

    def hang_text(self, function):
        return f"{function} did not return within {self.item.seconds:g} s (in item {self.item.id})"

    def timeout_feedback(self, timeout):
        """What a student reads for an item that ran out of time."""
        where = f"{timeout.function} was still running" if timeout.function else "your code was still running"
        if self.cut_by_budget:
            return (f"not graded in full: {where} when the whole grade ran out of its "
                    f"{total_seconds(self.rubric):g} s budget")
        if timeout.function:
            return (f"{self.hang_text(timeout.function)}: look for a loop that never ends (later items that "
                    f"call {timeout.function} fail at once instead of waiting again)")
        return (f"timed out after {self.item.seconds:g} s: look for a loop that never ends "
                "(the other items were graded on their own)")

    def fresh_worker(self):
        """Stop the worker and return all it printed: stopping drains every byte. The next request
        starts a fresh worker, holding nothing of the items before."""
        self.worker.stop()
        return self.worker.printed()

    def close(self):
        self.worker.stop()


def _reference(mode, oracle=None):
    """What checks consult: ``oracle`` if given, else the live reference module, or in the
    student hand-out its recorded answers (autograder.handout.oracle)."""
    sandbox.load_torch()                  # as the worker does; here it overlaps the worker's start
    from autograder.handout.oracle import load_reference

    return oracle if oracle is not None else load_reference(mode)


def grade(path, mode="grade", rubric=None, only=None, zygote=None, oracle=None, progress=None, worker_factory=None):
    """Grade the submission at ``path``. Raises UngradablePath for a path that cannot be graded,
    SeedError for a hidden seed no valid draw exists for, ConfinementFailed when student code
    cannot be confined.

    ``zygote`` (a sandbox.Zygote) forks workers with torch already loaded: batches pass one.
    ``oracle`` replaces the reference the checks consult (``autograder release`` records through one).
    ``worker_factory`` replaces the worker process handle: the kit's fast tests pass
    InProcessWorker (tests/inprocess.py) (unconfined: never for student code).
    ``progress(number, total, item_result)`` is called as each item finishes (the CLI
    shows it, so a long grade is never silent); the engine knows nothing of terminals.
    """
    started = time.monotonic()
    rubric = rubric if rubric is not None else load_rubric()
    submission = path if isinstance(path, Submission) else load_submission(path)
    items = [item for item in rubric.items
             if (mode == "grade" or item.self_check) and (only is None or item.id in only)]
    sandbox.become_subreaper()
    sandbox.close_grader_to_workers()
    if worker_factory is None:
        from autograder.handout.oracle import is_release

        sandbox.confinement_in_force(nothing_to_hide=is_release())    # probed once; refuses where none holds
        sandbox.hide_from_workers([rubric.path, seedplan.cache_dir()])
    result = GradeResult(str(submission.path), mode, [])
    reason = import_verdict(submission, rubric.imports.provided)
    if reason:
        result.items = [_zero(item, reason, "not_imported") for item in items]
        _report_all(result.items, progress)
        result.import_error = reason
        result.execution_time = time.monotonic() - started
        return result

    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        code_path = Path(tmp) / SUBMISSION_FILE
        code_path.write_text(worker_source(submission))
        session = Session(code_path, rubric, zygote=zygote, started=started, line_map=submission.line_map,
                          worker_factory=worker_factory)
        printed_before_held_out = None
        try:
            try:
                session.begin(wait=False)
                reference = _reference(mode, oracle)   # torch loads here while the worker loads it there
                plan = seedplan.plan_for(result_seed(rubric, mode), rubric, mode, lambda: reference)
                session.wait_ready()
                result.confinement = list(session.worker.confined)       # import failures ran confined too
                result.tier = session.worker.tier_record()
                session.ensure_imported()
                if submission.kind == "ipynb":
                    result.cell_errors = session.cell_failures()
            except BudgetSpent:
                result.items = [_zero(item, budget_feedback(rubric), "not_graded") for item in items]
                _report_all(result.items, progress)
                return result
            except (ImportFailed, sandbox.WorkerLost) as failure:
                reason = str(failure) if isinstance(failure, ImportFailed) else failure.reason
                result.import_error = reason
                # The error itself is shown once, with the total (result.import_error), not once per item.
                result.items = [_zero(item, NOT_IMPORTED, "not_imported") for item in items]
                _report_all(result.items, progress)
                return result
            graded = {}
            for item in execution_order(items):
                if sees_held_out_data(item) and printed_before_held_out is None:
                    # Nothing printed from here on is shown (see HELD_OUT_SILENCE).
                    printed_before_held_out = session.fresh_worker()
                graded[item.id] = _grade_item(session, item, rubric, mode, reference, plan)
                if progress is not None:
                    progress(len(graded), len(items), graded[item.id])
            result.items = [graded[item.id] for item in items]        # reported in the rubric's order
            if result.cell_errors:
                for item in result.items:
                    if MISSING_NAME in item.feedback:
                        item.feedback += f" ({MISSING_AFTER_CELL_ERROR})"
        finally:
            session.close()                       # the worker's output is complete only once it has ended
            printed = session.worker.printed() if printed_before_held_out is None else \
                _before_held_out(printed_before_held_out)
            result.printed = session.line_map.translate(printed)      # no temporary folder in the report
            result.execution_time = time.monotonic() - started
    return result


# Once student code holds data a verdict is measured on (an item declared with
# sees_held_out_data), nothing it makes reaches a report: not its printed output, not its
# exception text, not its values. Its item's feedback is the grader's words only
# (items/base.py: GraderWords, a quiet Criteria, HELD_OUT_QUIET).
HELD_OUT_SILENCE = ("[what your code printed after it received held-out data is not shown: "
                    "the grade is measured on that data]")


def _before_held_out(printed):
    """What the code printed before it received held-out data, with a note that the rest is not
    shown. The note depends on that earlier output alone: whether the code printed afterwards
    would be a bit of the held-out data."""
    return printed.rstrip("\n") + "\n" + HELD_OUT_SILENCE if printed.strip() else printed


def sees_held_out_data(item):
    from autograder.items import REGISTRY

    return bool(getattr(REGISTRY[item.id], "sees_held_out_data", False))


def execution_order(items):
    """The rubric's items, those whose checks show the worker held-out data last: once the worker
    has seen values it must not know, no later item runs in it whose feedback could carry them out."""
    return sorted(items, key=sees_held_out_data)


def result_seed(rubric, mode):
    """The seed a mode draws its data from: hidden when grading, public in the self-check."""
    return rubric.hidden_seed if mode == "grade" else rubric.public_seed


def _report_all(results, progress):
    for number, item_result in enumerate(results, start=1):
        if progress is not None:
            progress(number, len(results), item_result)


def _zero(item, feedback, outcome="checked"):
    return ItemResult(item.id, item.name, 0.0, item.points, feedback, item.visibility, outcome=outcome)


def _grade_item(session, item, rubric, mode, reference, plan):
    """The item's result; for an item that hands student code held-out data, every way it can end
    other than the check's own verdict is reported in fixed words (HELD_OUT_QUIET)."""
    result, how = _check(session, item, rubric, mode, reference, plan)
    if sees_held_out_data(item) and how not in ("verdict", "not_graded"):
        from autograder.items.base import HELD_OUT_QUIET

        result.feedback, result.details = QUIET_FEEDBACK[how] + HELD_OUT_QUIET, []
    return result


QUIET_FEEDBACK = {
    "not_implemented": "not implemented yet: a function this item uses raises NotImplementedError",
    "hung_before": "a function this item uses hung in an earlier item: not run again",
    "timed_out": "timed out: look for a loop that never ends, or training far longer than the lesson's",
    "crashed": "the submission's process died during this item",
    "raised": "your code raised an exception",
    "grader_error": "GRADER ERROR (not your fault, tell your instructor)",
}


def _check(session, item, rubric, mode, reference, plan):
    """(the item's result, how it ended: "verdict" when the check judged, else why it did not)."""
    from autograder.handout.oracle import OracleMiss
    from autograder.items import REGISTRY
    from autograder.items.base import ItemContext, NotImplementedYet, StudentRaised, student_error_text

    def zero(feedback, outcome, how=None):
        return _zero(item, feedback, outcome), how or outcome

    if session.remaining() <= 0:
        return zero(budget_feedback(rubric), "not_graded")
    session.start_item(item)
    ctx = ItemContext(session, item, rubric, mode, reference, plan)
    try:
        outcome = REGISTRY[item.id](ctx)
    except NotImplementedYet as missing:
        return zero(f"not implemented yet: {missing} raises NotImplementedError (its message is a hint)",
                    "not_implemented")
    except HungBefore as hang:
        return zero(f"{hang}: not run again", "hung_before")
    except BudgetSpent:
        return zero(budget_feedback(rubric), "not_graded")
    except sandbox.WorkerTimeout as timeout:
        return zero(session.timeout_feedback(timeout), "timed_out")
    except sandbox.WorkerDied as died:
        return zero(f"the submission's process died during this item: {died.reason}", "crashed")
    except ImportFailed as failed:
        return zero(f"the submission could not be re-imported after a crash: {str(failed).splitlines()[0]}",
                    "crashed")
    except StudentRaised as raised:
        return zero(student_error_text(raised), "checked", "raised")
    except sandbox.ConfinementFailed:
        raise                     # never graded unconfined: the whole run stops, loudly
    except OracleMiss as miss:
        return zero(str(miss), "checked", "grader_error")
    except Exception as bug:  # noqa: BLE001  (a grader bug costs nobody else's items; report it loudly)
        return zero(f"GRADER ERROR (not your fault, tell your instructor): {type(bug).__name__}: {bug}",
                    "checked", "grader_error")
    score = round(item.points * outcome.score, 2)
    return ItemResult(item.id, item.name, score, item.points, outcome.feedback, item.visibility,
                      outcome.details, outcome.artifacts), "verdict"
