"""Load and validate the rubric: the one file holding every grading number.

The item ids are the contract of ``../shared/spec/lesson-api.md``; a rubric
that drops one, repeats one, or whose points do not add up to 100 is refused
before anything is graded.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.toml")
ITEM_IDS = (
    "make_windows", "make_windows_multifeature", "input_validation", "time_split",
    "naive_baseline", "lstm_forecaster", "train_loop", "grad_clipping", "beats_baseline",
    "gru_forecaster", "window_comparison", "two_feature", "rolling_forecast", "standardizer",
)
HIDDEN_SEED_VARIABLE = "AUTOGRADER_HIDDEN_SEED"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class RubricError(ValueError):
    """The rubric file is malformed; the message names the problem."""


@dataclass
class Item:
    id: str
    name: str
    points: float
    visibility: str
    check: bool
    seconds: float
    settings: dict = field(default_factory=dict)   # the item's own numbers (thresholds, epochs...)

    def get(self, key, default=None):
        return self.settings.get(key, default)


@dataclass
class Rubric:
    items: list
    limits: dict
    hypothesis: dict
    hidden_seed: int
    public_seed: int
    path: Path
    text: str

    @property
    def max_score(self):
        return sum(item.points for item in self.items)


def load_rubric(path=None, hidden_seed=None):
    """The rubric at ``path`` (the kit's own by default). The hidden seed is, first found:
    ``hidden_seed`` (a batch passes it in each job, so its servers never hold it in their
    environment), AUTOGRADER_HIDDEN_SEED, the file's [data] hidden_seed."""
    path = Path(path) if path else DEFAULT_RUBRIC
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except OSError as exc:
        raise RubricError(f"cannot read rubric {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"rubric {path} is not valid TOML: {exc}") from None

    limits = {"item_seconds": 60, "import_seconds": 60, "total_seconds": 300, "memory_mb": 4096, "file_mb": 64,
              "output_kb": 64, "tmp_mb": 64, "shm_mb": 64, "workdir_mb": 64, "worker_uid_base": 200000, "max_processes": 256,
              "notebook_margin_seconds": 60}
    limits.update(raw.get("limits", {}))
    for key in ("item_seconds", "import_seconds", "total_seconds"):
        if isinstance(limits[key], bool) or not isinstance(limits[key], (int, float)) or limits[key] <= 0:
            raise RubricError(f"rubric [limits] {key} must be a positive number of seconds, got {limits[key]!r}")
    hypothesis = {"grade_examples": 40, "check_examples": 15}
    hypothesis.update(raw.get("hypothesis", {}))
    data = raw.get("data", {})
    if hidden_seed is None:
        hidden_seed = os.environ.get(HIDDEN_SEED_VARIABLE, data.get("hidden_seed", 0))
    try:
        hidden_seed = int(hidden_seed)
    except (TypeError, ValueError):
        raise RubricError(f"the hidden seed must be an integer, not {hidden_seed!r}") from None

    items, seen = [], set()
    for entry in raw.get("items", []):
        entry = dict(entry)
        item_id = entry.pop("id", None)
        if item_id not in ITEM_IDS:
            raise RubricError(f"rubric item {item_id!r} is not one of the lesson's item ids")
        if item_id in seen:
            raise RubricError(f"rubric item {item_id!r} appears twice")
        seen.add(item_id)
        visibility = entry.pop("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise RubricError(f"rubric item {item_id!r}: visibility must be one of {', '.join(VISIBILITIES)}")
        points = entry.pop("points", None)
        if not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"rubric item {item_id!r}: points must be a non-negative number")
        items.append(Item(
            id=item_id, name=entry.pop("name", item_id), points=points, visibility=visibility,
            check=bool(entry.pop("check", True)), seconds=float(entry.pop("seconds", limits["item_seconds"])),
            settings=entry,
        ))
    missing = [i for i in ITEM_IDS if i not in seen]
    if missing:
        raise RubricError(f"rubric has no item for: {', '.join(missing)}")
    rubric = Rubric(items, limits, hypothesis, hidden_seed, int(data.get("public_seed", 7)), path, text)
    if abs(rubric.max_score - 100) > 1e-9:
        raise RubricError(f"rubric points add up to {rubric.max_score}, not 100")
    return rubric
