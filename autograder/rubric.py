"""Load and validate the rubric: the instructor's overrides of the grader's numbers.

Every number has its default in one place: an item's name, points, visibility,
self_check flag and settings in its ``@item`` declaration (autograder/items/registry.py),
the tables' in the dataclasses below. The rubric file holds only what an
instructor changes (the kit's sets nothing but its hidden seed, and a test keeps
it so): a value is taken from the file only where the file sets it. It is read
strictly: an unknown table or key, or a value of the wrong type, is refused with a
one-line message naming it, since a misspelt ``tolerence`` would otherwise be
ignored without a word. Items are always in declaration order.
Points are weights: a grade is out of 100 (the spec's max_score), so points that
add up to anything else are scaled to their share of 100, and adding an item never
forces edits to the others (see ``_scale_points``).
"""

import dataclasses
import json
import math
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.toml")
HIDDEN_SEED_VARIABLE = "AUTOGRADER_HIDDEN_SEED"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
TOTAL_POINTS = 100


def __getattr__(name):
    """``ITEM_IDS``: every declared item's id, in order. Computed on first use, since it imports the
    checks (and torch), which most importers of this module never need."""
    if name == "ITEM_IDS":
        from autograder.items.registry import item_ids
        return item_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RubricError(ValueError):
    """The rubric file is malformed; the message names the problem."""


@dataclass(frozen=True)
class Limits:
    """[limits]: the worker's resources and the time limits."""
    item_seconds: float = 60             # wall clock per item, unless the item sets `seconds`
    import_seconds: float = 60           # importing the submission (and each restart after a loss)
    total_seconds: float = 300           # the whole grade, imports included
    memory_mb: int = 4096                # the worker's address space
    file_mb: int = 64                    # the largest file the submission may write
    output_kb: int = 64                  # what the report keeps of what the submission prints
    tmp_mb: int = 64                     # the worker's private /tmp
    shm_mb: int = 64                     # the worker's private /dev/shm
    workdir_mb: int = 64                 # the worker's own folder
    worker_uid_base: int = 200000        # as root, each worker runs as this + its pid
    max_processes: int = 256             # processes and threads of that uid
    notebook_margin_seconds: float = 60  # check() in a notebook: beyond the items' own limits


@dataclass(frozen=True)
class HypothesisBudget:
    """[hypothesis]: examples per property."""
    grade_examples: int = 40
    check_examples: int = 15


@dataclass(frozen=True)
class DataSeeds:
    """[data]: the seeds inputs are drawn from."""
    hidden_seed: int = 0
    public_seed: int = 7


@dataclass(frozen=True)
class PrairieLearnOptions:
    """[prairielearn]: the external grader's job. timeout_seconds is its wall clock (info.json's
    externalGradingOptions.timeout; courses use 30 to 600 s): grading the reference takes well under a
    minute, but a submission that hangs in many items can use every item's limit."""
    timeout_seconds: int = 600


@dataclass(frozen=True)
class Imports:
    """[imports]: the packages grading provides besides Python's standard library. A submission
    importing any other (pandas, sklearn...) gets one verdict from check, check() and grade alike,
    wherever they run, even where that package is installed (autograder.submission.import_verdict)."""
    provided: tuple[str, ...] = ("torch", "numpy", "matplotlib")


TABLES = {"limits": Limits, "hypothesis": HypothesisBudget, "data": DataSeeds, "prairielearn": PrairieLearnOptions,
          "imports": Imports}
SECONDS_LIMITS = ("item_seconds", "import_seconds", "total_seconds")


@dataclass
class Item:
    id: str
    name: str
    points: float
    visibility: str
    self_check: bool            # whether `autograder check` (the student's self-check) runs it
    seconds: float
    settings: object = None     # the item's numbers: an instance of the settings dataclass its check declares
    planned: str = ""           # what it draws from the seed plan (@item(planned=...)), or ""

    def get(self, key, default=None):
        return getattr(self.settings, key, default)


@dataclass
class Rubric:
    items: list
    limits: Limits              # the worker's resources and time limits, as the worker handle takes them
    hypothesis: dict
    hidden_seed: int
    public_seed: int
    path: Path
    text: str
    prairielearn: PrairieLearnOptions = field(default_factory=PrairieLearnOptions)
    points_scaled_from: float = None    # the points' own total, when it was not 100 and they were scaled
    imports: Imports = field(default_factory=Imports)
    seed_source: str = "rubric"         # where hidden_seed came from: "argument", "environment" or "rubric"

    @property
    def max_score(self):
        return sum(item.points for item in self.items)

    def scaling_note(self):
        """One line for an instructor when the points were scaled, else ''."""
        if self.points_scaled_from is None:
            return ""
        return (f"note: the rubric's points add up to {self.points_scaled_from:g}, so each item's points are "
                f"scaled to its share of {TOTAL_POINTS} (python -m autograder.rubric lists them)")

    def seed_warning(self):
        """One line for whoever grades with the kit's own committed seed, which every student holding
        the kit can read, else ''."""
        if self.seed_source != "rubric" or self.hidden_seed != kit_hidden_seed():
            return ""
        return (f"grading with the kit's own hidden seed from {self.path.name}, which anyone holding the "
                f"kit can read; set {HIDDEN_SEED_VARIABLE} (or hidden_seed in your own --rubric) for a real course")


def kit_hidden_seed():
    """The hidden seed committed in the kit's rubric.toml: anyone holding the kit knows it, so
    grading with it (from any rubric that copied it) is said out loud (Rubric.seed_warning)."""
    return int(tomllib.loads(DEFAULT_RUBRIC.read_text())["data"]["hidden_seed"])


# --- types ------------------------------------------------------------------------------

def _type_text(kind):
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        count = "" if args[-1] is Ellipsis else f"{len(args)} "
        return f"a list of {count}{_type_text(args[0]).split(' ', 1)[1]}s"
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}[kind]


def _conform(value, kind):
    """``value`` as a ``kind`` field holds it (a TOML list becomes a tuple), or raise TypeError.
    Numbers are kept as written: an int stays an int where a float is expected, as before."""
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if args[-1] is Ellipsis and isinstance(value, (list, tuple)):       # tuple[str, ...]: any length
            args = (args[0],) * len(value)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise TypeError
        return tuple(_conform(v, a) for v, a in zip(value, args))
    if isinstance(value, bool) != (kind is bool):
        raise TypeError
    if kind is float and isinstance(value, (int, float)):
        return value
    if isinstance(value, kind):
        return value
    raise TypeError


def _fill(cls, table, where):
    """An instance of dataclass ``cls`` from the TOML ``table``, refusing unknown keys and wrong types."""
    if not isinstance(table, dict):
        raise RubricError(f"rubric {where} must be a table of settings, got {table!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in table.items():
        if key not in hints:
            raise RubricError(f"rubric {where}: unknown key {key!r} (known: {', '.join(known) or 'none'})")
        try:
            values[key] = _conform(value, hints[key])
        except TypeError:
            raise RubricError(f"rubric {where}: {key} must be {_type_text(hints[key])}, got {value!r}") from None
    try:
        return cls(**values)
    except ValueError as bad:            # a settings class's own __post_init__ refusal
        raise RubricError(f"rubric {where}: {bad}") from None


# --- loading ------------------------------------------------------------------------------

ENTRY_KEYS = {"id": str, "name": str, "points": float, "visibility": str, "self_check": bool, "seconds": float}


def load_rubric(path=None, hidden_seed=None):
    """The rubric at ``path`` (the kit's own by default). The hidden seed is, first found:
    ``hidden_seed`` (a batch passes it in each job, so its grading processes never hold it in their
    environment), AUTOGRADER_HIDDEN_SEED, the file's [data] hidden_seed."""
    from autograder.items.registry import specs

    path = Path(path) if path else DEFAULT_RUBRIC
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except OSError as exc:
        raise RubricError(f"cannot read rubric {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"rubric {path} is not valid TOML: {exc}") from None
    for table in raw:
        if table not in TABLES and table != "items":
            raise RubricError(f"rubric: unknown table {table!r} (known: {', '.join(TABLES)}, items)")

    limits = _limits(raw.get("limits", {}))
    hypothesis = dataclasses.asdict(_fill(HypothesisBudget, raw.get("hypothesis", {}), "[hypothesis]"))
    data = _fill(DataSeeds, raw.get("data", {}), "[data]")
    prairielearn = _fill(PrairieLearnOptions, raw.get("prairielearn", {}), "[prairielearn]")
    imports = _fill(Imports, raw.get("imports", {}), "[imports]")
    seed_source = "argument"
    if hidden_seed is None:
        seed_source = "environment" if HIDDEN_SEED_VARIABLE in os.environ else "rubric"
        hidden_seed = os.environ.get(HIDDEN_SEED_VARIABLE, data.hidden_seed)
    try:
        hidden_seed = int(hidden_seed)
    except (TypeError, ValueError):
        raise RubricError(f"the hidden seed must be an integer, not {hidden_seed!r}") from None

    declared = specs()
    items = _items(raw.get("items", []), declared, limits)
    scaled_from = _scale_points(items)
    return Rubric(items, limits, hypothesis, hidden_seed, data.public_seed, path, text, prairielearn, scaled_from,
                  imports, seed_source)


def _limits(table):
    """[limits], with the time limits also positive (and the message a test and the CLI rely on)."""
    for key in SECONDS_LIMITS:
        value = table.get(key, 1) if isinstance(table, dict) else 1
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise RubricError(f"rubric [limits] {key} must be a positive number of seconds, got {value!r}")
    return _fill(Limits, table, "[limits]")


def _items(entries, declared, limits):
    """Every declared item, in declaration order, each with the overrides of its [[items]] entry if
    the file has one and its declaration's defaults for everything the entry does not set."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RubricError("rubric items must be [[items]] tables")
    listed = {}
    for entry in entries:
        item_id = entry.get("id")
        if item_id not in declared:
            raise RubricError(f"rubric item {item_id!r} is not one of the lesson's item ids "
                              f"(known: {', '.join(declared)})")
        if item_id in listed:
            raise RubricError(f"rubric item {item_id!r} appears twice")
        listed[item_id] = entry
    return [_item(spec, listed.get(item_id, {"id": item_id}), limits) for item_id, spec in declared.items()]


def _item(spec, entry, limits):
    where = f"item {spec.id!r}"
    own = {f.name for f in dataclasses.fields(spec.settings)}
    overrides = {}
    for key, value in entry.items():
        if key in ENTRY_KEYS:
            try:
                overrides[key] = _conform(value, ENTRY_KEYS[key])
            except TypeError:
                raise RubricError(f"rubric {where}: {key} must be {_type_text(ENTRY_KEYS[key])}, "
                                  f"got {value!r}") from None
        elif key not in own:
            known = [*ENTRY_KEYS][1:] + [f.name for f in dataclasses.fields(spec.settings)]
            raise RubricError(f"rubric {where}: unknown key {key!r} (known: {', '.join(known)})")
    visibility = overrides.get("visibility", spec.visibility)
    if visibility not in VISIBILITIES:
        raise RubricError(f"rubric {where}: visibility must be one of {', '.join(VISIBILITIES)}")
    points = overrides.get("points", spec.points)
    if points < 0:
        raise RubricError(f"rubric {where}: points must be a non-negative number")
    seconds = overrides.get("seconds", spec.seconds or limits.item_seconds)
    if seconds <= 0:
        raise RubricError(f"rubric {where}: seconds must be a positive number of seconds, got {seconds!r}")
    settings = _fill(spec.settings, {k: v for k, v in entry.items() if k in own}, where)
    return Item(id=spec.id, name=overrides.get("name", spec.name), points=points, visibility=visibility,
                self_check=overrides.get("self_check", spec.self_check), seconds=float(seconds), settings=settings,
                planned=spec.planned)


def _scale_points(items):
    """Points as shares of 100; returns their own total when it was not 100, else None.

    Points that add up to 100 are used as written (the kit's do). Otherwise each item
    gets points * 100 / total, in hundredths, the rounding's leftover hundredths going to
    the largest remainders (ties in rubric order): the maxima then add up to exactly
    100, and the same rubric always gives the same points.
    """
    total = sum(item.points for item in items)
    if abs(total - TOTAL_POINTS) <= 1e-9:
        return None
    if total <= 0:
        raise RubricError("rubric points add up to 0: give at least one item points")
    exact = [item.points * TOTAL_POINTS * 100 / total for item in items]      # in hundredths of a point
    hundredths = [math.floor(share) for share in exact]
    leftover = TOTAL_POINTS * 100 - sum(hundredths)
    by_remainder = sorted(range(len(items)), key=lambda i: (hundredths[i] - exact[i], i))
    for i in by_remainder[:leftover]:
        hundredths[i] += 1
    for item, share in zip(items, hundredths):
        item.points = share / 100
    return total


# --- showing what a rubric grades with -----------------------------------------------------

def describe(rubric):
    """Every number ``rubric`` grades with, defaults included, in the rubric file's own form."""
    def toml(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (tuple, list)):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        return json.dumps(value) if isinstance(value, str) else f"{value}"

    lines = [f"# {rubric.scaling_note()}", ""] if rubric.points_scaled_from is not None else []
    for table, values in (("limits", dataclasses.asdict(rubric.limits)), ("hypothesis", rubric.hypothesis),
                          ("data", {"public_seed": rubric.public_seed}),
                          ("prairielearn", dataclasses.asdict(rubric.prairielearn)),
                          ("imports", dataclasses.asdict(rubric.imports))):
        lines += [f"[{table}]"] + [f"{key} = {toml(value)}" for key, value in values.items()] + [""]
    for item in rubric.items:
        lines += ["[[items]]", f"id = {toml(item.id)}", f"name = {toml(item.name)}", f"points = {toml(item.points)}",
                  f"visibility = {toml(item.visibility)}", f"self_check = {toml(item.self_check)}",
                  f"seconds = {item.seconds:g}"]
        lines += [f"{key} = {toml(value)}" for key, value in dataclasses.asdict(item.settings).items()] + [""]
    return "\n".join(lines)


# --- editing a rubric's text ------------------------------------------------------------------

_SEED_LINE = re.compile(r"^[ \t]*hidden_seed[ \t]*=.*$\n?", re.MULTILINE)
_DATA_TABLE = re.compile(r"^\[data\][ \t]*$", re.MULTILINE)


def with_hidden_seed(text, seed):
    """The rubric's ``text`` with ``[data] hidden_seed`` set to ``seed`` (added when absent), or removed when
    ``seed`` is None (the hand-out's copy). The one editor of the seed: the text keeps its comments."""
    if seed is None:
        text = _SEED_LINE.sub("", text)
    elif _SEED_LINE.search(text):
        text = _SEED_LINE.sub(f"hidden_seed = {seed}\n", text, count=1)
    elif _DATA_TABLE.search(text):
        text = _DATA_TABLE.sub(f"[data]\nhidden_seed = {seed}", text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n[data]\nhidden_seed = {seed}\n"
    if tomllib.loads(text).get("data", {}).get("hidden_seed") != seed:
        verb = "remove" if seed is None else "set"
        raise ValueError(f"cannot {verb} the hidden seed in this rubric: write it as a `hidden_seed = N` line "
                         "under [data]")
    return text


DEFAULTS_SHOWN = "# --- the defaults"       # rubric.toml's closing comment block starts with this line


def with_defaults_shown(text):
    """``text``, a rubric file's, with its closing comment block (from the DEFAULTS_SHOWN line on) showing
    every default as declared now; `autograder assign` keeps the kit's current."""
    head = text[:text.index(DEFAULTS_SHOWN)] if DEFAULTS_SHOWN in text else text.rstrip("\n") + "\n\n"
    shown = describe(load_rubric(os.devnull)).rstrip("\n").split("\n")
    return (head + DEFAULTS_SHOWN + ", as `python -m autograder.rubric --rubric /dev/null` prints them "
            "(`autograder assign` rewrites this) ---\n"
            + "\n".join(f"# {line}" if line else "#" for line in shown) + "\n")


def main(argv=None):
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m autograder.rubric",
                                     description="Print every number a rubric grades with (the hidden seed left out).")
    parser.add_argument("--rubric", help="a rubric file (default: the kit's)")
    args = parser.parse_args(argv)
    try:
        print(describe(load_rubric(args.rubric)), end="")
    except RubricError as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
