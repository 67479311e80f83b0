"""``from autograder.notebook import check``: the name the lesson's notebook cells import.

Every lesson notebook handed out spells the import this way, so the name stays; the
self-check in a notebook itself is autograder/handout/notebook.py.
"""

from autograder.handout.notebook import CheckError, check

__all__ = ["check", "CheckError"]
