"""Calls inside autograder/ go one way (fast, reads the code only): no import cycle, and no check
that handles what the worker handle and the engine decide (see the second half).

A cycle makes a module's meaning depend on which side is imported first, and makes neither
side readable alone. Every import counts, those inside functions too: a deferred import only
hides a cycle until the day it runs. Importing ``autograder.items.windows`` runs
``autograder/items/__init__.py`` first, so an import also reaches the packages above the
module it names, except the importer's own packages (a module of ``checks`` that imports its
sibling ``checks.base`` is already inside that package).
"""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "autograder"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    """{dotted name: path} of every module and package of autograder/."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts}


def ancestors(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def imported(name, path, known):
    """The autograder modules ``name`` (at ``path``) imports, anywhere in its code, with the packages
    above them that importing them runs. ``import autograder.items`` names that package itself, even
    from inside it; ``from . import base`` names the sibling module."""
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    own = ancestors(name) | {name}
    named, explicit = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            explicit |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")[:len(here.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            named |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    reached = set()
    for target in named | explicit:
        while target and target not in known:          # `from m import a_function`: the module m
            target = target.rpartition(".")[0]
        if target:
            reached |= ({target} | ancestors(target)) - own
    reached |= {target for target in explicit if target in known}
    return reached - {name}


def import_graph():
    known = modules()
    return {name: imported(name, path, set(known)) for name, path in known.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_an_import_reaches_the_packages_above_the_module_it_names(tmp_path):
    known = {"autograder", "autograder.items", "autograder.items.base", "autograder.items.windows",
             "autograder.seedplan"}
    code = tmp_path / "seedplan.py"
    code.write_text("def f():\n    from autograder.items.windows import make_task\n")
    assert imported("autograder.seedplan", code, known) == {"autograder.items", "autograder.items.windows"}
    sibling = tmp_path / "windows.py"
    sibling.write_text("from .base import Criteria\nfrom autograder.items import base\n")
    assert imported("autograder.items.windows", sibling, known) == {"autograder.items.base"}


def test_no_import_cycle_inside_autograder():
    assert cycles(import_graph()) == []


# --- one direction of calls: the worker handle stops an item, the engine reports it ------------
#
# A hang, the grade's budget and a lost worker are the worker handle's to enforce (engine.Session,
# sandbox's WorkerProcess) and the engine's to turn into the item's result. A check names none of
# them: it neither raises nor catches one, nor imports the engine, nor catches everything (a bare
# except or BaseException would catch them unnamed). A check that wants a run that may be stopped
# asks ``ctx.session.attempt``, which says why instead.

STOP_SIGNALS = {"HungBefore", "BudgetSpent", "WorkerLost", "WorkerTimeout", "WorkerDied"}


def stop_signal_uses(source):
    """[(line, what)] wherever ``source`` names a stop signal (defines, imports, raises or catches one),
    imports the engine, or catches everything."""
    found = []
    for node in ast.walk(ast.parse(source)):
        named = (node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute)
                 else node.name.rpartition(".")[2] if isinstance(node, (ast.alias, ast.ClassDef)) else None)
        if named in STOP_SIGNALS:
            found.append((node.lineno, named))
        if isinstance(node, ast.Import) and any(a.name == "autograder.engine" for a in node.names) or \
                isinstance(node, ast.ImportFrom) and ((node.module or "").rpartition(".")[2] == "engine"
                                                       or any(a.name == "engine" for a in node.names)):
            found.append((node.lineno, "imports the engine"))
        if isinstance(node, ast.ExceptHandler):
            caught = [] if node.type is None else node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            if node.type is None or any(isinstance(c, ast.Name) and c.id == "BaseException" for c in caught):
                found.append((node.lineno, "catches everything"))
    return sorted(set(found))


@pytest.mark.parametrize("code,what", [
    ("try:\n    f()\nexcept (ValueError, HungBefore):\n    pass\n", "HungBefore"),
    ("def f():\n    raise BudgetSpent()\n", "BudgetSpent"),
    ("from autograder import sandbox\ntry:\n    f()\nexcept sandbox.WorkerLost as lost:\n    pass\n", "WorkerLost"),
    ("from autograder.items.base import WorkerTimeout\n", "WorkerTimeout"),
    ("class HungBefore(BaseException):\n    pass\n", "HungBefore"),
    ("def f():\n    from autograder.engine import Session\n", "imports the engine"),
    ("from .. import engine\n", "imports the engine"),
    ("try:\n    f()\nexcept:\n    pass\n", "catches everything"),
    ("try:\n    f()\nexcept (KeyError, BaseException):\n    pass\n", "catches everything"),
])
def test_the_stop_signal_finder_sees_each_way_a_check_could_handle_one(code, what):
    assert what in [found for _, found in stop_signal_uses(code)]


def test_the_stop_signal_finder_passes_a_check_that_lets_the_handle_decide():
    code = ("from autograder.items.base import Unmet, StudentRaised\n"
            "def measure(ctx):\n    try:\n        return ctx.session.attempt(lambda: ctx.call('f'))\n"
            "    except (Unmet, StudentRaised, Exception):\n        return None\n")
    assert stop_signal_uses(code) == []


def test_no_check_raises_or_catches_the_worker_handles_stop_signals():
    found = {path.name: uses for path in sorted((PACKAGE / "checks").glob("*.py"))
             if (uses := stop_signal_uses(path.read_text()))}
    assert found == {}, f"checks handle what the worker handle and the engine decide: {found}"
# --- the hand-out: the modules `autograder check` can import are the ones it ships --------------

# Imported only by the kit's other commands (which the hand-out refuses) and by the reports that only
# `grade` writes (grades.csv, the HTML page): the hand-out may leave these out.
KIT_ONLY = ("autograder.assign", "autograder.classroom", "autograder.handout.release", "autograder.platforms",
            "autograder.reports.grades", "autograder.reports.html")


def shipped_modules(modules_listed, packages):
    """The dotted names of what ``autograder release`` copies: SELF_CHECK_MODULES and every module of
    SELF_CHECK_PACKAGES."""
    shipped = {module_name(PACKAGE / name) for name in modules_listed}
    return shipped | {name for name in modules() for sub in packages
                      if name == f"autograder.{sub}" or name.startswith(f"autograder.{sub}.")}


def unshipped_imports(shipped, graph):
    """The modules that shipped code, followed from the hand-out's entry points, imports but the hand-out
    lacks (kit-only modules aside)."""
    seen, todo, missing = set(), ["autograder.cli", "autograder.notebook"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in shipped:
            missing.add(name)
            continue
        todo += sorted(graph.get(name, ()))
    return {name for name in missing if not name.startswith(KIT_ONLY)}


def test_the_hand_out_ships_every_module_the_self_check_imports():
    from autograder.handout import release

    shipped = shipped_modules(release.SELF_CHECK_MODULES, release.SELF_CHECK_PACKAGES)
    graph = import_graph()
    assert unshipped_imports(shipped, graph) == set()
    # And the rule can fail: leave one shipped module out and it is named.
    assert unshipped_imports(shipped - {"autograder.safe_text"}, graph) == {"autograder.safe_text"}
