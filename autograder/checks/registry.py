"""Every grading item, declared once by ``@item`` on the check that grades it.

The declaration holds what the grader needs to know about an item besides
its check: the frozen dataclass of its numbers with their defaults, its
defaults for the rubric (name, points, visibility, whether the self-check runs
it) and flags such as ``sees_held_out_data``. The rubric only overrides these,
and the item ids, their order and the check each id runs all derive from the
declarations, so adding an item never means editing a list somewhere else.

Items are ordered as they are declared: ``autograder/checks/__init__.py``
imports the check modules in the spec's order and each module declares its
items in that order.
"""

from dataclasses import dataclass, is_dataclass


@dataclass(frozen=True)
class NoSettings:
    """The settings of an item whose check has no numbers to tune."""


@dataclass(frozen=True)
class ItemSpec:
    id: str
    function: object              # the check: CheckContext -> Outcome
    settings: type                # a frozen dataclass: the item's numbers and their defaults
    name: str                     # defaults for the rubric entry, which may override each one
    points: float
    visibility: str
    check: bool                   # whether `autograder check` (the student's self-check) runs it
    sees_held_out_data: bool      # graded after every other item (see engine.execution_order)


_SPECS = {}                       # id -> ItemSpec, in declaration order


def item(item_id, *, settings=NoSettings, name=None, points=0, visibility="visible", check=True,
         sees_held_out_data=False):
    """Declare the decorated function as the check of ``item_id``."""
    if not (is_dataclass(settings) and settings.__dataclass_params__.frozen):
        raise TypeError(f"@item({item_id!r}): settings must be a frozen dataclass, not {settings!r}")

    def declare(function):
        known = _SPECS.get(item_id)
        if known is not None and known.function.__qualname__ != function.__qualname__:
            raise ValueError(f"item {item_id!r} is declared twice: by {known.function.__module__}."
                             f"{known.function.__qualname__} and {function.__module__}.{function.__qualname__}")
        _SPECS[item_id] = ItemSpec(item_id, function, settings, name or item_id, points, visibility, check,
                                   sees_held_out_data)
        function.item_id = item_id
        function.sees_held_out_data = sees_held_out_data
        return function
    return declare


def unregister(item_id):
    """Forget an item (tests declare toy items and remove them again)."""
    _SPECS.pop(item_id, None)


def specs():
    """id -> ItemSpec for every declared item, in order; imports the check modules first."""
    import autograder.checks  # noqa: F401  (importing them runs their @item declarations)

    return dict(_SPECS)


def item_ids():
    return tuple(specs())
