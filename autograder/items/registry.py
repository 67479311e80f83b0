"""Every grading item, declared once by ``@item`` on the function that grades it.

The declaration is the only description of an item: its id, its defaults for the
rubric (name, points, visibility, whether the self-check runs it), the frozen
dataclass of its numbers, the student functions it grades, the lesson step after
which the notebook checks it, whether it grades on planned series
(autograder/seedplan.py) and whether it hands student code held-out data. The
rubric file only overrides the rubric's defaults; every list of items elsewhere
(the rubric's order, the notebook's check cells, the seed plan's items, the
names a notebook's check() collects) derives from the declarations, so adding an
item never means editing a list somewhere else.

Items are ordered as they are declared: ``autograder/items/__init__.py``
imports the item modules in the spec's order and each module declares its
items in that order.
"""

from dataclasses import dataclass, is_dataclass

# What a planned item draws (autograder/seedplan.py): a random series with a held-out stretch,
# or the length and seed of the lesson's two_feature_series.
PLANNED_DRAWS = ("series", "two_feature_series")


@dataclass(frozen=True)
class NoSettings:
    """The settings of an item whose grading has no numbers to tune."""


@dataclass(frozen=True)
class ItemSpec:
    id: str
    function: object              # grades the item: ItemContext -> Outcome
    settings: type                # a frozen dataclass: the item's numbers and their defaults
    name: str                     # defaults for the rubric entry, which may override each one
    points: float
    visibility: str
    self_check: bool              # whether `autograder check` (the student's self-check) runs it
    sees_held_out_data: bool      # graded after every other item (see engine.execution_order)
    functions: tuple = ()         # the student functions it grades (the spec's "which code each item grades")
    after: str = ""               # the lesson section after which the notebook checks it ("" for none)
    planned: str = ""             # what it draws from the seed plan: one of PLANNED_DRAWS, or "" for nothing
    seconds: float = 0            # its wall-clock limit; 0 for the rubric's [limits] item_seconds


_SPECS = {}                       # id -> ItemSpec, in declaration order


def item(item_id, *, settings=NoSettings, name=None, points=0, visibility="visible", self_check=True,
         sees_held_out_data=False, functions=(), after="", planned="", seconds=0):
    """Declare the decorated function as the one that grades ``item_id``."""
    if not (is_dataclass(settings) and settings.__dataclass_params__.frozen):
        raise TypeError(f"@item({item_id!r}): settings must be a frozen dataclass, not {settings!r}")
    if planned and planned not in PLANNED_DRAWS:
        raise ValueError(f"@item({item_id!r}): planned must be one of {', '.join(PLANNED_DRAWS)}, not {planned!r}")
    if isinstance(functions, str):
        raise TypeError(f"@item({item_id!r}): functions must be a tuple of names, not the string {functions!r}")

    def declare(function):
        known = _SPECS.get(item_id)
        if known is not None and known.function.__qualname__ != function.__qualname__:
            raise ValueError(f"item {item_id!r} is declared twice: by {known.function.__module__}."
                             f"{known.function.__qualname__} and {function.__module__}.{function.__qualname__}")
        _SPECS[item_id] = ItemSpec(item_id, function, settings, name or item_id, points, visibility, self_check,
                                   sees_held_out_data, tuple(functions), after, planned, seconds)
        function.item_id = item_id
        function.sees_held_out_data = sees_held_out_data
        return function
    return declare


def unregister(item_id):
    """Forget an item (tests declare toy items and remove them again)."""
    _SPECS.pop(item_id, None)


def specs():
    """id -> ItemSpec for every declared item, in order. Importing this module runs
    ``autograder/items/__init__.py`` first, which imports every item module: all are declared."""
    return dict(_SPECS)


def item_ids():
    return tuple(specs())


def checks_after():
    """{lesson section title: the ids of the items the notebook checks after it}, in declaration order."""
    steps = {}
    for spec in specs().values():
        if spec.after:
            steps.setdefault(spec.after, []).append(spec.id)
    return {title: tuple(ids) for title, ids in steps.items()}


def graded_functions():
    """Every student function some item grades, in the order items declare them."""
    return tuple(dict.fromkeys(name for spec in specs().values() for name in spec.functions))
