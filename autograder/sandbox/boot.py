"""The script a fresh worker or zygote runs, copied as ``_grading_worker.py`` beside ``_grading/``.

``python -I -S`` puts no folder on ``sys.path`` (not even the script's), so this
loads the folder ``_grading/`` next to it as the package ``_grading``, by path,
and hands over to its worker module. Nothing else of the kit is reachable.

``_grading_worker.py REQUEST_FD RESPONSE_FD SITE_DIRS CONFINE`` starts a worker;
``_grading_worker.py zygote CONTROL_FD SITE_DIRS`` starts a zygote.
"""

import importlib
import importlib.util
import os
import sys

PACKAGE_NAME = "_grading"


def load_package(folder, name=PACKAGE_NAME):
    """Import ``folder`` as the package ``name`` (its modules then import each other relatively)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


if __name__ == "__main__":
    load_package(os.path.join(os.path.dirname(os.path.abspath(__file__)), PACKAGE_NAME))
    importlib.import_module(PACKAGE_NAME + ".worker").run(sys.argv[1:])
