"""The worker's entry point: the only process that runs student code.

The grader starts it from a private copy of the worker-side modules (see
launch.py and boot.py) with ``python -I -S``, hands it two pipes, and asks it to
run student functions on inputs the grader chose. It confines itself before
any student code runs (confine.py; if that fails it says so and exits, having
run nothing), then serves: one JSON request per line in, one answer per line
out (protocol.py), each handled by the lesson's operations (lesson_ops.py).
Verdicts are never computed here.

Imports only the standard library, numpy and torch, and its siblings.
"""

import io
import json
import os
import sys

from . import confine as confinement
from .lesson_ops import ImportBlocker, LessonOps, describe_exception
from .lifecycle import become_subreaper, die_with_parent, reap_orphans
from .protocol import ready_message, refusal_message, to_line
from .runtime import load_torch


def confine(config, keep_fds):
    """Every limit the submission cannot lift, applied before any student code runs (see
    confine.py). Returns what was applied, or, after telling the grader why confinement
    failed, exits: student code must then not run at all."""
    try:
        return confinement.confine(config, keep_fds)
    except Exception as exc:          # noqa: BLE001  (any failure here means: refuse, never run unconfined)
        os.write(keep_fds[1], to_line(refusal_message(f"{type(exc).__name__}: {exc}")))
        os._exit(70)


def serve(request_fd, response_fd, applied):
    """Answer the grader's requests until it closes the pipe, then exit at once."""
    sys.meta_path.insert(0, ImportBlocker())
    os.environ.setdefault("MPLBACKEND", "Agg")
    requests = io.open(request_fd, "rb", buffering=0)
    responses = io.open(response_fd, "wb", buffering=0)
    ops = LessonOps(report=lambda message: responses.write(to_line(message)))
    responses.write(to_line(ready_message(applied)))
    for line in iter(requests.readline, b""):
        try:
            req = json.loads(line)
        except ValueError:
            break
        try:
            answer = to_line(dict(ops.handle(req), id=req.get("id")), allow_nan=True)
        except Exception as exc:          # noqa: BLE001  (an answer that cannot be encoded)
            answer = to_line({"ok": False, "id": req.get("id"), "error": describe_exception(exc)})
        sys.stdout.flush()
        responses.write(answer)
    sys.stdout.flush()
    os._exit(0)                       # the grader closed the pipe: no slow interpreter teardown


def main(argv):
    """A worker started on its own: ``REQUEST_FD RESPONSE_FD SITE_DIRS CONFINE``."""
    die_with_parent()
    request_fd, response_fd = int(argv[0]), int(argv[1])
    sys.path[:0] = json.loads(argv[2])
    applied = confine(json.loads(argv[3]), (request_fd, response_fd))
    load_torch()
    serve(request_fd, response_fd, applied)


def zygote_main(argv):
    """A zygote started on its own: ``CONTROL_FD SITE_DIRS`` (see zygote.py)."""
    import socket

    control = socket.socket(fileno=int(argv[0]))
    sys.path[:0] = json.loads(argv[1])
    zygote_loop(control)


def zygote_loop(control):
    """Serve spawn and reap requests on ``control`` until the grader closes it (zygote.py); a spawned
    child runs ``serve_forked(fds, request)``, which never returns."""
    import socket

    die_with_parent()
    become_subreaper()                    # orphans of a worker come back here, to be killed
    load_torch()
    live = set()
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        if not message:
            os._exit(0)                   # the grader went away
        req = json.loads(message)
        if req["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                control.close()
                serve_forked(fds, req)    # never returns
            for fd in fds:
                os.close(fd)
            live.add(pid)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif req["op"] == "reap":
            _, status = os.waitpid(req["pid"], 0)
            live.discard(req["pid"])
            reap_orphans(keep=live)
            control.sendall(json.dumps({"status": status}).encode())


def serve_forked(fds, req):
    """In a child of the zygote: become a worker exactly like one started on its own."""
    import signal

    request_fd, response_fd, output_fd = fds
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(req["workdir"])
    os.environ.clear()
    os.environ.update(req["env"])
    die_with_parent()
    applied = confine(req["confine"], (request_fd, response_fd))
    serve(request_fd, response_fd, applied)


def run(argv):
    """What boot.py calls: ``zygote ...`` starts a zygote, anything else a worker."""
    if argv and argv[0] == "zygote":
        zygote_main(argv[1:])
    else:
        main(argv)
