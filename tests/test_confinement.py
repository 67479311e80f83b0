"""Attacks a root-capable submission can try, graded end to end as root the way CI runs.

Each attack is the reference (or the student stubs) with attack code added,
graded with ``autograder.engine.grade``. It must earn nothing it targets and
leave nothing behind. The attacks print one line saying what they achieved;
the tests read the evidence they can check themselves first (scores, files
on the host, the seed's digits anywhere in the output), and the printed line
only to prove the attack ran and for what has no outside trace.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

import corpus
from autograder import assign, sandbox
from autograder.engine import grade
from autograder.rubric import HIDDEN_SEED_VARIABLE, load_rubric
from autograder.sandbox.tiers import FOLDER_CAPPED
from conftest import ROOT, grading_tier

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="confinement against root needs a root grader, as in CI")]

SEED = 918_273_645                       # distinctive: its digits appear nowhere else
SEED_HALVES = (str(SEED)[:4], str(SEED)[4:])
FEW_ITEMS = {"make_windows", "time_split"}
KIT = str(ROOT)
GIT_COMMON_DIR = subprocess.run(["git", "-C", KIT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def rubric():
    rubric = load_rubric()
    for item in rubric.items:
        item.seconds = 30.0
    return rubric


def graded(tmp_path, name, source, rubric, only=None, zygote=None):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return grade(path, rubric=rubric, only=only, zygote=zygote)


def reported(result, tag):
    """The attack's own line (``TAG ...``) from what the worker printed."""
    lines = [line for line in result.printed.splitlines() if line.startswith(tag + " ")]
    assert lines, f"the attack did not run: no {tag} line in {result.printed[:2000]!r}"
    return lines[-1]


def reference_with(attack):
    return attack + "\n" + corpus.REFERENCE.read_text()


# --- 1 and 4: reach the reference, then delegate to it ---------------------------------------------
# A stub-only submission that, if any attempt returns the reference's source, runs it in its
# own namespace: every item would then pass. The verdict is the score, not the printed line.

STEAL = r'''
import ctypes as _ct, glob as _glob, importlib as _il, os as _os, subprocess as _sp, sys as _sys
_libc = _ct.CDLL(None, use_errno=True)
_KIT, _GIT = {kit!r}, {git!r}
_report, _stolen = [], None


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _module_source():
    return _read(_il.import_module("sol" + "utions.sequence_modeling").__file__)


def _unmount_all():
    for target in (_KIT + "/solutions", _KIT, "/", "/tmp", "/proc", "/root"):
        for call in (lambda: _libc.umount2(target.encode(), 2), lambda: _libc.umount(target.encode())):
            if call() == 0:
                _report.append("unmounted:" + target)


def _installed_copies():
    for entry in _sys.path + _glob.glob("/usr/lib/python3*/*-packages") + _glob.glob("/usr/local/lib/python3*/*-packages"):
        for name in ("solutions/sequence_modeling.py", "sequence_modeling.py"):
            path = _os.path.join(entry, name)
            if _os.path.exists(path):
                return _read(path)
    raise FileNotFoundError("no installed copy")


def _editable_finder():
    import numpy
    found = _glob.glob(_os.path.join(_os.path.dirname(_os.path.dirname(numpy.__file__)), "__editable__*"))
    found += _glob.glob(_os.path.join(_os.path.dirname(_os.path.dirname(numpy.__file__)), "seqmodel*"))
    texts = [_read(p) for p in found if _os.path.isfile(p)]
    if not any(texts):
        raise FileNotFoundError("nothing readable")
    return b"".join(texts)


_ATTEMPTS = {{
    "umount": lambda: (_unmount_all(), _read(_KIT + "/solutions/sequence_modeling.py"))[1],
    "import": _module_source,
    "open": lambda: _read(_KIT + "/solutions/sequence_modeling.py"),
    "git-kit": lambda: _sp.check_output(["git", "-C", _KIT, "show", "HEAD:solutions/sequence_modeling.py"],
                                       stderr=_sp.DEVNULL),
    "git-common": lambda: _sp.check_output(["git", "--git-dir", _GIT, "show", "HEAD:solutions/sequence_modeling.py"],
                                          stderr=_sp.DEVNULL),
    "bench": lambda: _read(_KIT + "/bench/speed.py"),
    "egg-info": lambda: b"".join(_read(p) for p in _glob.glob(_KIT + "/*.egg-info/*") if _os.path.isfile(p)) or 1 / 0,
    "readme": lambda: _read(_KIT + "/README.md"),
    "tests": lambda: _read(_KIT + "/tests/corpus.py"),
    "installed": _installed_copies,
    "editable": _editable_finder,
}}
for _name, _attempt in _ATTEMPTS.items():
    try:
        _text = _attempt()
    except BaseException as _exc:
        _report.append(_name + ":" + type(_exc).__name__)
        continue
    _report.append(_name + ":READ")
    if isinstance(_text, bytes) and b"def make_windows" in _text and _stolen is None:
        _stolen = _text
print("STEAL " + " ".join(_report) + (" GOT-REFERENCE" if _stolen else ""))
if _stolen:
    exec(compile(_stolen, "stolen", "exec"), globals())
'''


def test_1_4_unmounting_git_and_kit_files_never_reach_the_reference(tmp_path, rubric):
    """umount/umount2 over the kit, import/open/git show of the reference, bench/, *.egg-info,
    README, tests/, installed and editable copies: nothing is read, every item scores 0."""
    source = assign.STUB_FILE.read_text() + STEAL.format(kit=KIT, git=GIT_COMMON_DIR)
    result = graded(tmp_path, "steal", source, rubric)
    line = reported(result, "STEAL")
    assert result.score == 0, f"the stub earned points: {line}"
    assert "GOT-REFERENCE" not in line and "unmounted:" not in line and ":READ" not in line, line
    assert "kit-hidden" in result.confinement and "seccomp" in result.confinement


# --- 2: write outside the worker's folder ------------------------------------------------------------

REMOUNT = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
report = []
for flags in (MS_REMOUNT, MS_REMOUNT | MS_BIND):
    for target in (b"/", b"/usr", b"/tmp", {kit!r}.encode()):
        report.append(f"remount{{flags}}:{{target.decode()}}={{libc.mount(None, target, None, flags, None)}}")
for target in {targets!r}:
    try:
        with open(target, "w") as f:
            f.write("escaped")
        report.append("WROTE:" + target)
    except OSError as exc:
        report.append(type(exc).__name__)
print("REMOUNT " + " ".join(report))
'''


def test_2_remounting_root_read_write_writes_nothing_outside_the_workdir(tmp_path, rubric):
    """mount -o remount,rw of /, /usr, /tmp and the kit, then writes to a world-writable folder
    the test owns, the kit, / and /usr: every mount fails and no file appears on the host."""
    outside = tempfile.mkdtemp(prefix="confinement-outside-", dir="/tmp")
    os.chmod(outside, 0o777)                 # only the mount isolation stands between it and the worker
    name = "escaped-" + uuid.uuid4().hex[:8]
    targets = [os.path.join(outside, name), os.path.join(KIT, name), "/" + name, "/usr/" + name,
               "/etc/" + name]
    try:
        result = graded(tmp_path, "remount", reference_with(REMOUNT.format(kit=KIT, targets=targets)), rubric,
                        only=FEW_ITEMS)
        line = reported(result, "REMOUNT")
        assert [i.score for i in result.items] == [i.max_score for i in result.items]
        assert not [t for t in targets if os.path.exists(t)], line
        assert not os.listdir(outside)
        assert re.findall(r"=(-?\d+)", line) and set(re.findall(r"=(-?\d+)", line)) == {"-1"}, line
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        for target in targets:
            if os.path.exists(target):
                os.remove(target)


# --- 3: the hidden seed ---------------------------------------------------------------------------------------

SEED_HUNT = r'''
import ctypes, os, re, sys
HEAD, TAIL = {halves!r}
NAME = "AUTOGRADER_HIDDEN_" + "SEED"
libc = ctypes.CDLL(None, use_errno=True)
hits, tried = [], []


def look(where, data):
    if isinstance(data, str):
        data = data.encode()
    tried.append(where)
    for match in re.finditer(re.escape(NAME.encode()) + rb"=(\d+)", data):
        hits.append(where + ":" + match.group(1).decode())
    start = data.find(HEAD.encode())
    while start >= 0:
        if data[start + len(HEAD):start + len(HEAD) + len(TAIL)] == TAIL.encode():
            hits.append(where + ":" + data[start:start + 12].decode("latin-1"))
        start = data.find(HEAD.encode(), start + 1)


look("os.environ", repr(dict(os.environ)))
os.makedirs("fresh-proc", exist_ok=True)
mounted = libc.mount(b"proc", b"fresh-proc", b"proc", 0, None) == 0
for proc in ("/proc", "fresh-proc"):
    for pid in ("self", "1", str(os.getppid()), "thread-self"):
        try:
            with open(f"{{proc}}/{{pid}}/environ", "rb") as f:
                look(f"{{proc}}/{{pid}}/environ", f.read())
        except OSError:
            pass
scanned = 0
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps:
        fields = line.split()
        path = fields[5] if len(fields) > 5 else ""
        if "r" not in fields[1] or path.endswith(".so") or ".so." in path or path in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        for at in range(low, high, 1 << 24):
            try:
                mem.seek(at)
                chunk = mem.read(min(1 << 24, high - at))
            except (OSError, ValueError, OverflowError):
                break
            scanned += len(chunk)
            look("mem", chunk)
print(f"SEEDHUNT mounted={{mounted}} tried={{len(tried)}} scanned={{scanned}} hits={{hits}}")
'''


def seed_hunt():
    return SEED_HUNT.format(halves=SEED_HALVES)


def assert_seed_not_found(printed):
    line = [text.strip() for text in printed.splitlines() if text.strip().startswith("SEEDHUNT ")]
    assert line, f"the attack did not run: {printed[:2000]!r}"
    assert str(SEED) not in printed, line[-1]
    assert "hits=[]" in line[-1] and "mounted=False" in line[-1], line[-1]
    assert int(re.search(r"scanned=(\d+)", line[-1]).group(1)) > 10 * 2**20, line[-1]   # it really scanned


def test_3_the_seed_hunt_finds_a_seed_that_is_there(tmp_path):
    """The attack's detector works: unconfined, with the seed in its environment, it finds it."""
    env = dict(os.environ, **{HIDDEN_SEED_VARIABLE: str(SEED)})
    done = subprocess.run([sys.executable, "-c", seed_hunt()], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert f"os.environ:{SEED}" in done.stdout and f"/proc/self/environ:{SEED}" in done.stdout, done.stderr[-2000:]
    assert "mem:" + str(SEED)[:12] in done.stdout


def test_3_a_fresh_worker_never_holds_the_hidden_seed(tmp_path, rubric, monkeypatch):
    """os.environ, /proc/{self,1,ppid}/environ (also under a fresh proc mount), and the worker's
    whole memory, while the grader has the seed in its environment: never found."""
    monkeypatch.setenv(HIDDEN_SEED_VARIABLE, str(SEED))
    result = graded(tmp_path, "seed", reference_with(seed_hunt()), load_rubric(), only=FEW_ITEMS)
    assert_seed_not_found(result.printed)
    assert result.score == sum(i.max_score for i in result.items)


def batch(tmp_path, students, jobs, env_extra=None):
    """``autograder batch`` over {student: source}; returns the output folder."""
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    submissions.mkdir()
    for name, source in students.items():
        (submissions / f"{name}.py").write_text(source)
    env = dict(os.environ, **(env_extra or {}))
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out),
                           "--jobs", str(jobs)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return submissions, out


def test_3_a_zygote_forked_worker_never_holds_the_hidden_seed(tmp_path):
    """The batch runs with the seed in its environment; its server forks the zygote that forks
    the worker: the seed is in none of the worker's memory, files or /proc."""
    _, out = batch(tmp_path, {"hunter": reference_with(seed_hunt())}, 1, {HIDDEN_SEED_VARIABLE: str(SEED)})
    report = (out / "students" / "hunter" / "report.txt").read_text()
    assert_seed_not_found(report)
    assert json.loads((out / "students" / "hunter" / "meta.json").read_text())["status"] == "graded", report


def test_3_a_server_started_with_the_seed_still_keeps_it_from_workers(tmp_path):
    """A grading server started by hand with the seed in its environment grades with it,
    but never forks workers from its own memory."""
    path = tmp_path / "hunter.py"
    path.write_text(reference_with(seed_hunt()))
    job = {"path": str(path), "out_dir": str(tmp_path / "out"), "rubric": None}
    env = dict(os.environ, **{HIDDEN_SEED_VARIABLE: str(SEED)})
    done = subprocess.run([sys.executable, "-m", "autograder.classroom.stdio_grader"], input=json.dumps(job) + "\n", cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == "graded", done.stderr[-3000:]
    assert_seed_not_found((tmp_path / "out" / "report.txt").read_text())


# --- 5: privileges ---------------------------------------------------------------------------------------------

PRIVILEGES = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x20000, 17
report = []


def attempt(name, call):
    try:
        value = call()
    except (OSError, ValueError) as exc:
        value = type(exc).__name__
    report.append(f"{{name}}={{value}}")


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


buffer = ctypes.create_string_buffer(64)
local = IOVec(ctypes.cast(buffer, ctypes.c_void_p), 64)
for pid in sorted({{os.getppid(), 1, {grader_pid}}}):
    attempt(f"ptrace{{pid}}", lambda: libc.ptrace(16, pid, 0, 0))
    remote = IOVec(ctypes.c_void_p(0x400000), 64)
    attempt(f"vm_readv{{pid}}", lambda: libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
attempt("setuid0", lambda: os.setuid(0) or 0)
attempt("setresuid0", lambda: os.setresuid(0, 0, 0) or 0)
attempt("unshare_user", lambda: libc.unshare(CLONE_NEWUSER))
attempt("unshare_mount", lambda: libc.unshare(CLONE_NEWNS))
with open("/proc/self/ns/mnt") as ns:
    attempt("setns", lambda: libc.setns(ns.fileno(), 0))


def clone_user():
    pid = libc.syscall(56 if os.uname().machine == "x86_64" else 220, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) + 100)    # in a new user namespace
    if pid > 0:
        return "child-exit:%d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return pid


attempt("clone_newuser_then_mount", clone_user)
attempt("mount_tmpfs", lambda: libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None))
import resource
attempt("raise_nproc", lambda: resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY,) * 2) or 0)
report.append("nproc=%d" % resource.getrlimit(resource.RLIMIT_NPROC)[1])
sleepers = []
try:                                          # a fork bomb's first steps: processes until refused
    while len(sleepers) < 400:
        sleepers.append(os.posix_spawn("/bin/sleep", ["sleep", "60"], {{}}))
except OSError:
    pass
for pid in sleepers:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
report.append("spawned=%d" % len(sleepers))
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
for key in ("Uid", "CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
    report.append(key + "=" + status[key].split()[0])
for start in range(0, len(report), 6):        # short lines: a report keeps 160 characters of each
    print("PRIVILEGES " + " ".join(report[start:start + 6]))
'''


def privilege_fields(printed):
    """name -> value from every PRIVILEGES line."""
    lines = [line.strip() for line in printed.splitlines() if line.strip().startswith("PRIVILEGES ")]
    return dict(part.split("=", 1) for line in lines for part in line.split()[1:])


def test_5_no_privilege_is_left_to_gain(tmp_path, rubric):
    """ptrace and process_vm_readv of the parent, PID 1 and the grader, setuid(0), unshare and
    clone into a user namespace then mount, setns, mount, lifting the process cap: all fail; no
    capability, no_new_privs, seccomp in filter mode, a uid other than 0."""
    attack = PRIVILEGES.format(grader_pid=os.getpid())
    result = graded(tmp_path, "privileges", reference_with(attack), rubric, only=FEW_ITEMS)
    reported(result, "PRIVILEGES")
    fields = privilege_fields(result.printed)
    assert [i.score for i in result.items] == [i.max_score for i in result.items]
    for name, value in fields.items():
        if name.startswith(("ptrace", "vm_readv", "unshare", "setns", "clone", "mount")):
            assert value == "-1", f"{name} succeeded: {fields}"
        if name.startswith(("setuid", "setresuid")):
            assert value == "PermissionError", f"{name}: {fields}"
    assert fields["raise_nproc"] in ("PermissionError", "ValueError"), fields
    assert int(fields["nproc"]) == rubric.limits.max_processes, fields
    assert 10 < int(fields["spawned"]) < rubric.limits.max_processes, fields
    assert fields["Uid"] != "0" and int(fields["Uid"]) >= rubric.limits.worker_uid_base
    assert int(fields["CapEff"], 16) == int(fields["CapPrm"], 16) == int(fields["CapBnd"], 16) == 0, fields
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "2", fields


# --- 6: classmates in one batch ----------------------------------------------------------------------------------

INTRUDER = r'''
import glob, os, time
VICTIM = {victim!r}
report = set()
end = time.monotonic() + 6                   # long enough to overlap the other worker
while time.monotonic() < end:
    for path in [VICTIM] + glob.glob("/tmp/autograder-*") + glob.glob("/tmp/autograder-*/*"):
        if os.path.abspath(path).startswith(os.getcwd()):
            continue                          # its own folder
        for action, call in (("read", lambda: open(path, "rb").read()), ("write", lambda: open(path, "ab").write(b"#")),
                             ("delete", lambda: os.remove(path))):
            try:
                call()
                report.add(action + ":" + path)
            except OSError:
                pass
    time.sleep(0.2)
for folder in ("/dev/shm", "/tmp"):
    try:
        with open(os.path.join(folder, "left-by-intruder"), "w") as f:
            f.write("hello, next student")
    except OSError:
        pass                                  # Landlock (own-uid tier): its own folder is all it may write
print("INTRUDER " + (" ".join(sorted(report)) or "nothing"))
'''

OBSERVER = r'''
import os, sys, time
time.sleep(1)
# Its own folder, and the read-only path to Python where the interpreter or its venv lives under /tmp
# (a fresh clone in /tmp, say), are the only entries a private /tmp may show.
own = [os.getcwd(), sys.base_prefix] + list(sys.path)
def entries(folder):
    try:
        return sorted(e for e in os.listdir(folder) if not any((p + "/").startswith(folder + "/" + e + "/") for p in own))
    except PermissionError:
        return "closed"                       # Landlock (own-uid tier): not even the names
print("OBSERVER shm=%s tmp=%s" % (entries("/dev/shm"), entries("/tmp")))
'''


def test_6_classmates_in_a_batch_cannot_touch_each_other(tmp_path):
    """Graded concurrently (--jobs 2), one student tries to read, change and delete another's
    submission and worker folder, and leaves files in /dev/shm and /tmp: nothing is read or
    changed, and every other student sees an empty /dev/shm and /tmp."""
    victim_path = tmp_path / "submissions" / "victim.py"
    students = {"intruder": reference_with(INTRUDER.format(victim=str(victim_path))),
                "victim": reference_with(OBSERVER), "zz_next": reference_with(OBSERVER)}
    digest = hashlib.sha256(students["victim"].encode()).hexdigest()
    submissions, out = batch(tmp_path, students, 2)
    assert hashlib.sha256(victim_path.read_bytes()).hexdigest() == digest
    intruder = (out / "students" / "intruder" / "report.txt").read_text()
    assert "INTRUDER nothing" in intruder, intruder
    # A private /tmp and /dev/shm are empty; in the own-uid tier Landlock closes the host's outright.
    seen = "OBSERVER shm=[] tmp=[]" if grading_tier() in FOLDER_CAPPED else "OBSERVER shm=closed tmp=closed"
    for name in ("victim", "zz_next"):
        report = (out / "students" / name / "report.txt").read_text()
        assert seen in report, report
        assert json.loads((out / "students" / name / "meta.json").read_text())["score"] == 100, report
    assert not [p for p in ("/dev/shm/left-by-intruder", "/tmp/left-by-intruder") if os.path.exists(p)]


# --- 7: a correct submission, and refusing when confinement fails -----------------------------------------------

@pytest.mark.parametrize("with_zygote", [False, True], ids=["fresh worker", "zygote"])
def test_7_the_reference_scores_100_under_confinement(tmp_path, rubric, with_zygote):
    """The reference trains with torch on one thread under the seccomp filter, as its own uid."""
    zygote = sandbox.Zygote() if with_zygote else None
    try:
        result = graded(tmp_path, "reference", corpus.REFERENCE.read_text(), rubric, zygote=zygote)
    finally:
        if zygote is not None:
            zygote.close()
    assert result.score == 100, "\n".join(f"{i.id}: {i.feedback}" for i in result.items)
    tier_steps = ("private-tmp",) if grading_tier() in FOLDER_CAPPED else ()
    for applied in ("no_new_privs", "seccomp", "kit-hidden", "caps-dropped", *tier_steps):
        assert applied in result.confinement
    assert result.tier["tier"] == grading_tier()
    assert any(a.startswith("uid:") for a in result.confinement)


def test_grading_refuses_when_confinement_cannot_be_established(tmp_path, rubric, monkeypatch):
    """As root, a worker that cannot build its jail runs no student code: grading stops with a clear error."""
    monkeypatch.setattr(sandbox.launch, "site_dirs", lambda: ["/nonexistent/site-packages"])
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').close()\n" + corpus.REFERENCE.read_text()
    with pytest.raises(sandbox.ConfinementFailed, match="refusing to run student code unconfined"):
        graded(tmp_path, "refused", source, rubric, only=FEW_ITEMS)
    assert not marker.exists()


# --- without root: a user namespace gives the same private root ----------------------------------------------

NOBODY = 65534


def as_unprivileged(command, workspace):
    """``command`` run as uid/gid 65534, in a mount namespace of its own where the Python under
    an unreadable folder (pyenv in /root) is bound back readable: a grader without root."""
    prefix = os.path.realpath(sys.base_prefix)
    closed = next((str(p) for p in reversed(Path(prefix).parents) if str(p) != "/" and not os.stat(p).st_mode & 0o001),
                  None)
    stage = Path(workspace) / "python-stage"
    stage.mkdir()
    setup = []
    if closed:
        setup = [f"mount --bind {prefix} {stage}", f"mount -t tmpfs -o mode=755 tmpfs {closed}",
                 f"mkdir -p {prefix}", f"mount --bind {stage} {prefix}"]
    script = " && ".join(setup + ["exec setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/bin:/bin "
                                  "HOME=%s \"$@\"" % (NOBODY, NOBODY, workspace)])
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *command]


needs_mount_namespaces = pytest.mark.skipif(
    grading_tier() != "private-root",
    reason="lending the interpreter to an unprivileged grader takes a mount namespace; run on a host, not in a "
           "default container")


@pytest.fixture
def open_workspace():
    """A folder the unprivileged grader can write, outside the test's own (root-only) tmp_path."""
    folder = tempfile.mkdtemp(prefix="confinement-nobody-", dir="/tmp")
    os.chmod(folder, 0o777)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@needs_mount_namespaces
def test_without_root_classmates_attacks_and_privileges_are_contained_by_a_user_namespace(open_workspace):
    """An unprivileged batch (--jobs 2, every worker the same uid): the intruder sees no classmate,
    the stealer reaches no reference, no capability is left, and the others see empty /tmp, /dev/shm."""
    submissions, out = open_workspace / "submissions", open_workspace / "grades"
    submissions.mkdir()
    victim_path = submissions / "victim.py"
    students = {"intruder": reference_with(INTRUDER.format(victim=str(victim_path))),
                "stealer": assign.STUB_FILE.read_text() + STEAL.format(kit=KIT, git=GIT_COMMON_DIR),
                "privileges": reference_with(PRIVILEGES.format(grader_pid=os.getpid())),
                "victim": reference_with(OBSERVER), "zz_next": reference_with(OBSERVER)}
    for name, source in students.items():
        (submissions / f"{name}.py").write_text(source)
    digest = hashlib.sha256(victim_path.read_bytes()).hexdigest()
    command = [sys.executable, "-m", "autograder", "batch", str(submissions), "--out", str(out), "--jobs", "2"]
    done = subprocess.run(as_unprivileged(command, open_workspace), cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    def report(name):
        return (out / "students" / name / "report.txt").read_text()

    def results(name):
        return json.loads((out / "students" / name / "results.json").read_text())

    assert "userns" in results("victim")["extra_data"]["sandbox"], results("victim")["extra_data"]
    assert hashlib.sha256(victim_path.read_bytes()).hexdigest() == digest
    assert "INTRUDER nothing" in report("intruder"), report("intruder")
    assert results("stealer")["score"] == 0 and ":READ" not in report("stealer"), report("stealer")
    assert "STEAL " in report("stealer")
    privileges = privilege_fields(report("privileges"))
    assert "CapEff" in privileges and "clone_newuser_then_mount" in privileges, report("privileges")
    for name, value in privileges.items():
        if name.startswith(("ptrace", "vm_readv", "unshare", "setns", "clone", "mount")):
            assert value == "-1", f"{name} succeeded: {privileges}"
    assert int(privileges["CapEff"], 16) == int(privileges["CapPrm"], 16) == int(privileges["CapBnd"], 16) == 0
    assert privileges["NoNewPrivs"] == "1" and privileges["Seccomp"] == "2" and privileges["Uid"] == str(NOBODY)
    for name in ("victim", "zz_next"):
        assert "OBSERVER shm=[] tmp=[]" in report(name), report(name)
        assert results(name)["score"] == 100, report(name)


def unprivileged_grade(workspace, out_json, before=""):
    """`autograder grade` of the reference by uid 65534 under a seccomp filter that refuses
    unshare (so no user namespace); ``before`` runs first in the grader's process."""
    wrapper = ("import runpy, sys; sys.path.insert(0, %r); from autograder.sandbox import confine, landlock; %s; "
               "confine.lock_down(jailed=False); sys.argv = ['autograder', 'grade', %r, '--json', %r]; "
               "runpy.run_module('autograder', run_name='__main__')") % (KIT, before or "pass", str(corpus.REFERENCE),
                                                                         str(out_json))
    return subprocess.run(as_unprivileged([sys.executable, "-c", wrapper], workspace), cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@needs_mount_namespaces
def test_without_root_and_without_user_namespaces_landlock_hides_the_kit(open_workspace):
    """Where the system refuses user namespaces (here: a seccomp filter on the grader), the
    worker grades in the landlock tier, and proves it can read nothing of the kit first."""
    out_json = open_workspace / "results.json"
    done = unprivileged_grade(open_workspace, out_json)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out_json.read_text())
    assert data["score"] == 100
    assert data["extra_data"]["confinement"]["tier"] == "landlock"
    applied = data["extra_data"]["sandbox"]
    assert "kit-hidden" in applied and "seccomp" in applied and "private-root" not in applied
    assert any(step.startswith("landlock:abi") for step in applied), applied


@needs_mount_namespaces
def test_without_root_user_namespaces_or_landlock_grading_is_refused_and_says_what_to_grant(open_workspace):
    out_json = open_workspace / "results.json"
    done = unprivileged_grade(open_workspace, out_json, before="landlock.abi = lambda: 0")
    assert done.returncode == 3, done.stderr[-3000:]
    message = done.stderr.strip().splitlines()[-1]
    for grant in ("not root", "user namespaces", "Landlock"):
        assert grant in message, message
    assert not out_json.exists()
