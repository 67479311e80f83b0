"""No import cycle inside autograder/: each module's imports point one way (fast, reads the code only).

A cycle makes a module's meaning depend on which side is imported first, and makes neither
side readable alone. Every import counts, those inside functions too: a deferred import only
hides a cycle until the day it runs. Importing ``autograder.checks.pipeline`` runs
``autograder/checks/__init__.py`` first, so an import also reaches the packages above the
module it names, except the importer's own packages (a module of ``checks`` that imports its
sibling ``checks.base`` is already inside that package).
"""

import ast
from pathlib import Path

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
    above them that importing them runs. ``import autograder.checks`` names that package itself, even
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
    known = {"autograder", "autograder.checks", "autograder.checks.base", "autograder.checks.pipeline",
             "autograder.seedplan"}
    code = tmp_path / "seedplan.py"
    code.write_text("def f():\n    from autograder.checks.pipeline import make_task\n")
    assert imported("autograder.seedplan", code, known) == {"autograder.checks", "autograder.checks.pipeline"}
    sibling = tmp_path / "windows.py"
    sibling.write_text("from .base import Subchecks\nfrom autograder.checks import base\n")
    assert imported("autograder.checks.windows", sibling, known) == {"autograder.checks.base"}


def test_no_import_cycle_inside_autograder():
    assert cycles(import_graph()) == []
