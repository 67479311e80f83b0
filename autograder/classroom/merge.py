"""Combine the outputs of ``autograder batch --shard K/N`` into the output of one whole-class batch.

The merged folder is what ``autograder batch`` would have written for the whole
class on one machine: the same grades.csv and summary.md byte for byte (both
are rebuilt from the students' meta.json with the batch's own writers), the
students' folders copied, and ``merge.json`` saying which shards went in.

Grades from different kits, rubrics or hidden seeds are not one class's grades,
and a class with a shard missing, a shard given twice or a student graded in
two shards is not the class: each is refused with a one-line reason
(``MergeRefused``), before anything is written. ``allow_partial`` lets missing
shards and unfinished ones through (a look at a class still being graded);
each gap is then returned as a warning.
"""

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.classroom import shard as shards
from autograder.classroom.store import load_all_meta
from autograder.files import atomic_write_text
from autograder.reports.grades import grades_csv
from autograder.reports.questions import write_question_pages
from autograder.reports.summary import write_class_summary
from autograder.safe_text import printable

MERGE_MANIFEST = "merge.json"
STUDENT_FILES = ("meta.json", "results.json", "report.txt", "report.html")   # what the batch writes per student
IDENTITY_NAMES = {"kit": "kit version", "rubric": "rubric", "seed": "hidden seed"}


class MergeRefused(Exception):
    """The shards cannot be merged as given; the message is the one-line reason (exit 2)."""


@dataclass
class Merged:
    out: Path
    n: int
    shards: list                                    # the K of every shard merged
    students: int
    warnings: list = field(default_factory=list)   # the gaps --allow-partial let through


@dataclass
class _Part:
    folder: Path
    manifest: dict
    rows: dict                                      # {student id: meta} found in the folder

    @property
    def shard(self):
        return shards.Shard(self.manifest["k"], self.manifest["n"])

    def name(self):
        return f"{printable(self.folder)} (shard {self.shard})"


def merge_shards(folders, out, rubric, allow_partial=False):
    """Merge the shard folders into ``out``; a Merged, or MergeRefused naming the first problem."""
    folders = [Path(folder) for folder in folders]
    out = Path(out)
    _check_folders(folders, out)
    parts = []
    for folder in folders:
        try:
            manifest = shards.read_manifest(folder)
        except shards.ShardError as problem:
            raise MergeRefused(str(problem)) from None
        parts.append(_Part(folder, manifest, load_all_meta(folder)))
    _check_same_class(parts, rubric)
    warnings = _check_coverage(parts, allow_partial)
    rows = _check_students(parts, allow_partial, warnings)
    owner = {student: part for part in parts for student in part.rows}

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(out, "merging")
    try:
        for student in sorted(rows):
            source, target = owner[student].folder / "students" / student, staging / "students" / student
            target.mkdir(parents=True)
            for name in STUDENT_FILES:
                if (source / name).is_file() and not (source / name).is_symlink():
                    shutil.copy2(source / name, target / name)
        atomic_write_text(staging / "grades.csv", grades_csv(rows, rubric))
        write_class_summary(rows, rubric, staging)
        write_question_pages(rows, staging)
        first = parts[0].manifest
        atomic_write_text(staging / MERGE_MANIFEST, json.dumps({
            "format": shards.MANIFEST_FORMAT, "n": first["n"], "shards": sorted(p.shard.k for p in parts),
            **{name: first[name] for name in IDENTITY_NAMES}, "warnings": warnings,
            "students": sorted(rows)}, indent=2) + "\n")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Merged(out, first["n"], sorted(p.shard.k for p in parts), len(rows), warnings)


def _check_folders(folders, out):
    seen = {}
    resolved_out = out.resolve()
    for folder in folders:
        resolved = folder.resolve()
        if resolved in seen:
            raise MergeRefused(f"{printable(folder)} is given twice (also as {printable(seen[resolved])})")
        seen[resolved] = folder
        if not folder.is_dir():
            raise MergeRefused(f"{printable(folder)}: not a folder")
        if resolved_out == resolved or resolved_out in resolved.parents or resolved in resolved_out.parents:
            raise MergeRefused(f"--out {printable(out)} overlaps the shard folder {printable(folder)}; "
                               f"merge into a folder of its own")
    if out.exists() and not out.is_dir():
        raise MergeRefused(f"--out {printable(out)} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MERGE_MANIFEST).is_file():
        raise MergeRefused(f"--out {printable(out)} is not empty and not an earlier merge's output; "
                           f"merge into a new folder")


def _check_same_class(parts, rubric):
    """One split, one kit, one rubric, one seed, and this kit and rubric are the ones that graded."""
    first = parts[0]
    for part in parts[1:]:
        if part.manifest["n"] != first.manifest["n"]:
            raise MergeRefused(f"{first.name()} and {part.name()} come from different splits of the class "
                               f"({first.manifest['n']} and {part.manifest['n']} shards)")
        for key, what in IDENTITY_NAMES.items():
            if part.manifest[key] != first.manifest[key]:
                raise MergeRefused(f"{part.name()} was graded with another {what} than {first.name()}; "
                                   f"regrade it with the same one")
    kit = shards.kit_version()
    if first.manifest["kit"] != kit:
        raise MergeRefused(f"the shards were graded with kit {first.manifest['kit']}, this is kit {kit}; "
                           f"merge with the kit that graded them")
    if first.manifest["rubric"] != shards.rubric_fingerprint(rubric.text):
        raise MergeRefused(f"the shards were graded with another rubric than {printable(rubric.path)}; "
                           f"pass the rubric they used with --rubric")


def _check_coverage(parts, allow_partial):
    """Every shard 1..N exactly once (missing ones only with allow_partial); the gaps as warnings."""
    n = parts[0].manifest["n"]
    by_k = {}
    for part in parts:
        if part.shard.k in by_k:
            raise MergeRefused(f"shard {part.shard} is given twice: {printable(by_k[part.shard.k].folder)} "
                               f"and {printable(part.folder)}")
        by_k[part.shard.k] = part
    missing = [k for k in range(1, n + 1) if k not in by_k]
    warnings = []
    if missing:
        names = ", ".join(f"{k}/{n}" for k in missing)
        if not allow_partial:
            raise MergeRefused(f"shard{'s' if len(missing) > 1 else ''} {names} missing; "
                               f"pass every shard, or --allow-partial to merge without {'them' if len(missing) > 1 else 'it'}")
        warnings.append(f"shard{'s' if len(missing) > 1 else ''} {names} missing: "
                        f"{'their' if len(missing) > 1 else 'its'} students are not in the merge")
    for part in parts:
        if not part.manifest["finished"]:
            if not allow_partial:
                raise MergeRefused(f"{part.name()} did not finish; run it again (graded students are "
                                   f"skipped) or pass --allow-partial")
            warnings.append(f"{part.name()} did not finish")
    return warnings


def _check_students(parts, allow_partial, warnings):
    """{student id: meta} of the class: each student once, in the shard that owns it, none lost."""
    owner = {}
    for part in parts:
        for student in part.rows:
            if student in owner:
                raise MergeRefused(f"student {printable(student)} is graded in two shards: "
                                   f"{owner[student].name()} and {part.name()}")
            owner[student] = part
    rows = {}
    for part in parts:
        listed = set(part.manifest["students"])
        for student in sorted(listed | set(part.rows)):
            if not part.shard.owns(student):
                raise MergeRefused(f"{part.name()} holds student {printable(student)}, who belongs to shard "
                                   f"{shards.shard_of(student, part.shard.n)}/{part.shard.n}")
        unlisted = sorted(set(part.rows) - listed)
        if unlisted:
            raise MergeRefused(f"{part.name()} holds student {printable(unlisted[0])}, whom its "
                               f"{shards.MANIFEST} does not list; run the shard again")
        ungraded = sorted(listed - set(part.rows))
        if ungraded:
            gap = (f"{part.name()} has no grade for {len(ungraded)} of its students "
                   f"(first: {printable(ungraded[0])})")
            if not allow_partial:
                raise MergeRefused(f"{gap}; run it again or pass --allow-partial")
            warnings.append(gap)
        rows.update(part.rows)
    return rows


def _replace(staging, out):
    """Put the finished merge at ``out`` in one rename; an earlier merge there goes only after."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = _sibling(out, "old")
    os.replace(out, old / "merged")
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _sibling(out, purpose):
    """A new hidden folder beside ``out`` (same file system, so renames are atomic), made with the umask."""
    folder = out.parent / f".{out.name}.{purpose}-{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder
