"""One module per grading concern. Each check declares its item with ``@item`` (items/registry.py),
the only description of that item; ``REGISTRY`` maps every item id to its check, derived from those
declarations, as is every other list of items (the rubric's, the notebook's, the seed plan's).

The modules are imported in the spec's order of items: the registry keeps declaration order.
"""

from collections.abc import Mapping

from autograder.items import registry
from autograder.items import windows, models, training, exercises, scaling, answers  # noqa: F401,I001  (spec order)


class _Checks(Mapping):
    """A live view, item id -> check function, of the declared items."""

    def __getitem__(self, item_id):
        return registry._SPECS[item_id].function

    def __iter__(self):
        return iter(registry._SPECS)

    def __len__(self):
        return len(registry._SPECS)


REGISTRY = _Checks()
