"""What the grader and the worker say to each other: the messages' shapes and the names both share.

Both processes import this module (the worker from its private copy, the
grader as ``autograder.sandbox.protocol``), so the two sides of the pipe agree
by construction, not by convention. Every message is one JSON line of plain
data, its values in the forms of codec.py: nothing is pickled in either
direction, so nothing the student returns can run code in the grader.

Imports only the standard library: the worker loads it without the kit on ``sys.path``.
"""

import json

MAX_RESPONSE_BYTES = 64 * 2**20
MAX_ERROR_TEXT = 2000
# The file the worker imports the submission from, in its own folder.
SUBMISSION_FILE = "submission.py"
# The kit's own top-level packages: student code may not import them, and workers may not read them.
KIT_PACKAGES = ("solutions", "autograder", "lessons", "tests", "bench")


# --- the messages ---------------------------------------------------------------------------

def import_request(seed=0):
    """The request that imports the submission (its top-level code runs under ``seed``)."""
    return {"op": "import", "path": SUBMISSION_FILE, "seed": seed}


def ready_message(applied):
    """The worker's first line once it is confined: what confinement applied."""
    return {"ok": True, "value": "ready", "confined": applied}


def refusal_message(reason):
    """The worker's only line when it could not confine itself: it runs no student code."""
    return {"ok": False, "refused": reason}


def progress_message(function, request_id):
    """Sent while a request runs: the student function it has just entered."""
    return {"progress": function, "id": request_id}


def to_line(message, **dumps_options):
    """One message as the bytes of one line on the pipe."""
    return json.dumps(message, **dumps_options).encode("utf-8") + b"\n"


# --- reading answers (the grader's side: the pipe is the submission's to write on) ---------

def parse_answer(line):
    """A dict shaped like an answer or progress message, or None. An ``error`` is always a dict of
    plain values, so code reading it never meets a string or a list where it expects a mapping."""
    if not line.strip():
        return None
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    if "error" in answer and not isinstance(answer["error"], dict):
        answer["error"] = {"type": "MalformedAnswer", "message": "the worker sent an error that is not a record"}
    if isinstance(answer.get("error"), dict):
        answer["error"] = {str(k)[:40]: bounded(v) for k, v in list(answer["error"].items())[:20]}
    return answer


def bounded(value):
    """An error field as plain, bounded data: a 40 MB exception message must not become a 40 MB report."""
    if isinstance(value, (bool, int, float, type(None))):
        return value
    if isinstance(value, list):
        return [str(v)[:200] for v in value[:20]]
    text = str(value)
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + f" ... [{len(text) - MAX_ERROR_TEXT} more characters]"
    return text
