"""The kit as files: where it is, the packages that grade, and what its pyproject.toml declares.

The one reader of pyproject.toml: the student hand-out, the platform bundles and a
shard's kit version all take the kit's version and dependency ranges from here.
"""

import re
from pathlib import Path

from autograder.rubric import tomllib

KIT_ROOT = Path(__file__).resolve().parent.parent
# The grader and the reference: the code a grading copy of the kit needs (a bundle ships these, and a
# shard's kit version hashes them).
GRADING_PACKAGES = ("autograder", "solutions")
_NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)")


def declared(root=KIT_ROOT):
    """pyproject.toml's [project] table under ``root``; {} where the file is missing or unreadable."""
    try:
        return tomllib.loads((Path(root) / "pyproject.toml").read_text()).get("project", {})
    except (OSError, ValueError):
        return {}


def version(root=KIT_ROOT):
    """The kit's declared version, or None."""
    value = declared(root).get("version")
    return None if value is None else str(value)


def dependencies(names, root=KIT_ROOT):
    """The declared dependency specifiers (with their version ranges) of the packages in ``names``."""
    return [spec for spec in declared(root).get("dependencies", []) if _NAME.match(spec).group(1).lower() in names]
