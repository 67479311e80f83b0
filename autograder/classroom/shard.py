"""One machine's share of a class: which students shard K of N owns, and the manifest saying what graded them.

A course that outgrows one machine runs ``autograder batch ... --shard K/N``
as the K-th task of its own job array (Slurm, Kubernetes Indexed Jobs). Each
task must pick the same students wherever and with whatever Python it runs,
and the N tasks together must grade every student exactly once, without
talking to each other. So a student's shard is a pure function of the id:
the first 8 bytes of sha256(id in UTF-8), big-endian, modulo N, plus one
(``hash()`` would change with PYTHONHASHSEED).

Each shard's output folder holds ``shard.json``: K, N, the kit version, a
hash of the rubric text, a slow hash of the hidden seed (so a merge can tell
shards graded under different seeds apart, and nobody can read the seed back
from it), whether the run finished, and the student ids the folder owns.
``autograder merge`` (autograder/classroom/merge.py) refuses shards whose manifests
disagree.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder import project
from autograder.files import atomic_write_text
from autograder.safe_text import printable

MANIFEST = "shard.json"
MANIFEST_FORMAT = 1
KIT_ROOT = project.KIT_ROOT
SOURCE_PACKAGES = project.GRADING_PACKAGES
SOURCE_SUFFIXES = (".py", ".toml", ".json")
# The seed's fingerprint is PBKDF2, not one sha256: a seed may be short (grade and batch only warn),
# and one fast hash of it would give the seed back to anyone who tries them all.
SEED_SALT = b"seqmodel-kit shard manifest: hidden seed"
SEED_ITERATIONS = 600_000          # OWASP's figure for PBKDF2-HMAC-SHA256
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


class ShardError(ValueError):
    """A bad --shard value, a manifest that cannot be used, or an output folder of another kind."""


@dataclass(frozen=True)
class Shard:
    k: int
    n: int

    def __str__(self):
        return f"{self.k}/{self.n}"

    def owns(self, student):
        return shard_of(student, self.n) == self.k


def parse_shard(text):
    """``"K/N"`` as a Shard; ShardError naming the problem unless 1 <= K <= N."""
    match = _SHARD.fullmatch(str(text))
    if not match:
        raise ShardError(f"--shard {printable(text)}: expected K/N, two whole numbers such as 2/8")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1:
        raise ShardError(f"--shard {k}/{n}: N, the number of shards, must be at least 1")
    if not 1 <= k <= n:
        raise ShardError(f"--shard {k}/{n}: K must be between 1 and N ({n}); shards are numbered from 1")
    return Shard(k, n)


def shard_of(student, n):
    """The shard (1..n) that owns ``student``: the same on every machine and every Python."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def kit_version():
    """``VERSION+src.HASH``: the kit's declared version and a hash of the grader's and reference's sources.

    Two copies that grade differently (an edited check, another reference) differ here even
    when nobody bumped the version number.
    """
    digest = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        folder = KIT_ROOT / package
        files = sorted(p for p in folder.rglob("*")
                       if p.suffix in SOURCE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            digest.update(path.relative_to(KIT_ROOT).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{_declared_version()}+src.{digest.hexdigest()[:16]}"


def _declared_version():
    declared = project.version(KIT_ROOT)
    if declared is not None:
        return declared
    import importlib.metadata

    try:
        return importlib.metadata.version("seqmodel-kit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def rubric_fingerprint(rubric_text):
    return "sha256:" + hashlib.sha256(rubric_text.encode()).hexdigest()


def seed_fingerprint(hidden_seed):
    key = hashlib.pbkdf2_hmac("sha256", str(int(hidden_seed)).encode(), SEED_SALT, SEED_ITERATIONS)
    return f"pbkdf2-sha256:{SEED_ITERATIONS}:{key.hex()}"


def grading_identity(rubric):
    """What must be equal for two shards' grades to belong to one class: kit, rubric, seed."""
    return {"kit": kit_version(), "rubric": rubric_fingerprint(rubric.text),
            "seed": seed_fingerprint(rubric.hidden_seed)}


def manifest(shard, identity, students, finished):
    return {"format": MANIFEST_FORMAT, "shard": str(shard), "k": shard.k, "n": shard.n, **identity,
            "finished": bool(finished), "students": sorted(students)}


def write_manifest(out, data):
    atomic_write_text(Path(out) / MANIFEST, json.dumps(data, indent=2) + "\n")


def read_manifest(out):
    """The manifest in ``out``, checked for shape; ShardError with a one-line reason otherwise."""
    path = Path(out) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShardError(f"{printable(out)}: no {MANIFEST}, so not the output of "
                         f"`autograder batch --shard K/N`") from None
    except (OSError, ValueError) as exc:
        raise ShardError(f"{printable(path)}: unreadable ({type(exc).__name__})") from None
    fields = {"k": int, "n": int, "kit": str, "rubric": str, "seed": str, "finished": bool, "students": list}
    if not (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT
            and all(isinstance(data.get(name), kind) for name, kind in fields.items())
            and all(isinstance(s, str) for s in data["students"]) and 1 <= data["k"] <= data["n"]):
        raise ShardError(f"{printable(path)}: not a shard manifest this kit writes (format {MANIFEST_FORMAT})")
    return data


def claim_output(out, shard):
    """The manifest already in ``out`` (or None), after checking ``out`` may receive this run.

    A shard's folder takes only the same shard again, and a whole-class folder takes no shard:
    one typo in a job array's --out must not mix two classes' grades in one folder.
    """
    out = Path(out)
    has_manifest = (out / MANIFEST).exists()
    if shard is None:
        if has_manifest:
            raise ShardError(f"{printable(out)} holds one shard of a class ({MANIFEST}); "
                             f"grade the whole class into another folder")
        return None
    if has_manifest:
        previous = read_manifest(out)
        if (previous["k"], previous["n"]) != (shard.k, shard.n):
            raise ShardError(f"{printable(out)} holds shard {previous['k']}/{previous['n']}, not {shard}; "
                             f"give each shard its own --out")
        return previous
    if any((out / "students").glob("*/meta.json")):
        raise ShardError(f"{printable(out)} holds a whole-class batch; give shard {shard} its own --out")
    return None
