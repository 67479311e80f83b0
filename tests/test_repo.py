"""The repository's promises: the README's two commands, and CI running the second."""

import re

from conftest import ROOT


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < 200, "README.md must open with its command block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "autograder grade" in commands[0] and "pytest" in commands[1]
    assert all("-c constraints.txt" in c for c in commands)


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_torch_is_pinned_for_installs_and_a_range_for_the_package():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"torch>=[\d.]+,<\d+"', pyproject)


def test_every_wrong_case_names_its_function_and_loses_only_what_the_spec_allows():
    """The corpus itself obeys the spec's table: each single mistake lives in one function
    and may cost only the items that grade that function (plus input_validation)."""
    import corpus

    for case in corpus.WRONG:
        assert case.function in corpus.ITEMS_OF_FUNCTION, case.name
        assert case.loses and case.loses <= corpus.items_of(case.function), case.name


def _pytest_config(markexpr, numprocesses=None, worker=False):
    """A stand-in for the pytest config the fast tier's hook in conftest.py reads."""
    from types import SimpleNamespace

    option = SimpleNamespace(markexpr=markexpr, numprocesses=numprocesses, dist="no", tx=[], usepdb=False)
    config = SimpleNamespace(option=option, pluginmanager=SimpleNamespace(hasplugin=lambda name: True))
    if worker:
        config.workerinput = {}
    return config


def test_every_tier_runs_on_two_workers_unless_told_otherwise(monkeypatch):
    import os

    import conftest

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    for markexpr in ("not  slow", "", "slow"):
        config = _pytest_config(markexpr)
        conftest.pytest_cmdline_main(config)
        assert (config.option.numprocesses, config.option.dist) == (2, "worksteal"), markexpr

    for untouched in (_pytest_config("not slow", numprocesses=0), _pytest_config("", numprocesses=1),
                      _pytest_config("not slow", worker=True)):
        before = untouched.option.numprocesses
        conftest.pytest_cmdline_main(untouched)
        assert untouched.option.numprocesses == before

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    one_core = _pytest_config("not slow")
    conftest.pytest_cmdline_main(one_core)
    assert one_core.option.numprocesses is None
