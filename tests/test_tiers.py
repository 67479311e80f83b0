"""Confinement tiers: which one a machine gets, what the own-uid tier changes on disk, and what
Landlock lets a worker touch. Fast: no grading here (the slow tier grades in every tier,
tests/test_confinement.py and tests/test_default_container.py)."""

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import confine, landlock, tiers
from autograder.sandbox.tiers import Machine

ROOT_NS = Machine(root=True, namespaces=True, user_namespace=False, landlock_abi=6)
ROOT_DEFAULT_CONTAINER = Machine(root=True, namespaces=False, user_namespace=False, landlock_abi=7)
LAPTOP = Machine(root=False, namespaces=False, user_namespace=True, landlock_abi=3)
UBUNTU_2404 = Machine(root=False, namespaces=False, user_namespace=False, landlock_abi=4)
NOTHING = Machine(root=False, namespaces=False, user_namespace=False, landlock_abi=0)


@pytest.mark.parametrize("machine, tier", [
    (ROOT_NS, "private-root"), (ROOT_DEFAULT_CONTAINER, "own-uid"), (LAPTOP, "user-namespace"),
    (UBUNTU_2404, "landlock"),
])
def test_each_machine_gets_the_strongest_tier_it_allows(machine, tier):
    chosen = tiers.choose(machine)
    assert chosen.tier == tier and not chosen.forced
    # Landlock is recorded only where the tier applies it.
    assert chosen.landlock_abi == (machine.landlock_abi if tier in ("own-uid", "landlock") else 0)


def test_root_without_landlock_still_grades_on_file_modes_and_says_so():
    chosen = tiers.choose(Machine(root=True, namespaces=False, user_namespace=False, landlock_abi=0))
    assert chosen.tier == "own-uid" and "no Landlock" in chosen.line()


def test_no_tier_refuses_and_names_what_to_grant():
    with pytest.raises(tiers.NoConfinement) as refused:
        tiers.choose(NOTHING)
    message = str(refused.value)
    for grant in ("root", "user namespaces", "Landlock"):
        assert grant in message
    # The hand-out's self-check alone runs anyway: it holds nothing to hide.
    assert tiers.choose(NOTHING, nothing_to_hide=True).tier == "best-effort"
    assert tiers.choose(LAPTOP, nothing_to_hide=True).tier == "user-namespace"


def test_a_forced_tier_may_be_weaker_never_stronger():
    forced = tiers.choose(ROOT_NS, forced="own-uid")
    assert forced.tier == "own-uid" and forced.forced and "(forced)" in forced.line()
    assert forced.landlock_abi == 6
    for machine, stronger in ((ROOT_DEFAULT_CONTAINER, "private-root"), (UBUNTU_2404, "user-namespace"),
                              (UBUNTU_2404, "own-uid")):
        with pytest.raises(tiers.NoConfinement, match="does not allow"):
            tiers.choose(machine, forced=stronger)
    with pytest.raises(tiers.NoConfinement, match="names no tier"):
        tiers.choose(ROOT_NS, forced="none")


def test_every_tier_says_what_it_defends_in_one_line():
    for tier in tiers.TIERS:
        line = tiers.Confinement(tier, 7).line()
        assert line.startswith(tier + ": ") and "\n" not in line and "seccomp" in line
        record = tiers.Confinement(tier, 7).record()
        assert record["tier"] == tier and record["defends"] in line


# --- own-uid: file modes ---------------------------------------------------------------------------

def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def make_tree(tmp_path):
    """A kit holding its venv (as a clone with .venv does), beside a closed home holding Python."""
    kit = tmp_path / "kit"
    site = kit / ".venv" / "lib" / "site-packages"
    for folder in (kit / "solutions", kit / ".git", site / "numpy", site / "autograder", kit / ".venv" / "bin"):
        folder.mkdir(parents=True)
    (kit / "README.md").write_text("kit")
    (site / "numpy" / "__init__.py").write_text("")
    (site / "__editable___seqmodel_kit_finder.py").write_text("MAPPING = {}")
    home = tmp_path / "home"
    python = home / ".pyenv" / "versions" / "3.11"
    python.mkdir(parents=True)
    (home / "secrets.txt").write_text("x")
    (home / ".cache").mkdir()
    for path in (tmp_path, kit, home / ".pyenv", python, home / ".cache"):
        os.chmod(path, 0o755)
    os.chmod(home, 0o700)
    return kit, site, home, python


def test_sealing_closes_the_kit_but_keeps_the_way_to_its_venv(tmp_path):
    kit, site, home, python = make_tree(tmp_path)
    hidden = [str(kit), *confine.kit_copies(str(site))]
    changes = tiers.seal(hidden, [str(site)])
    assert mode(kit) == 0o711                                  # passable, not listable
    for closed in (kit / "solutions", kit / ".git", kit / "README.md", kit / ".venv" / "bin",
                   site / "autograder", site / "__editable___seqmodel_kit_finder.py"):
        assert mode(closed) & 0o077 == 0, closed
    assert mode(site) == 0o755 and mode(site / "numpy") == 0o755        # what the worker needs is untouched
    assert {path for path, _, _ in changes} >= {str(kit), str(kit / "solutions")}
    assert tiers.seal(hidden, [str(site)]) == []               # a second pass changes nothing


def test_a_closed_folder_on_the_way_to_python_opens_only_that_way(tmp_path):
    kit, site, home, python = make_tree(tmp_path)
    tiers.open_way([str(python)])
    assert mode(home) == 0o711
    assert mode(home / "secrets.txt") & 0o077 == 0 and mode(home / ".cache") & 0o077 == 0
    assert mode(home / ".pyenv") == 0o755 and mode(python) == 0o755
    assert tiers.open_way([str(python)]) == []


# --- Landlock: what a worker can touch --------------------------------------------------------------

@pytest.mark.skipif(landlock.abi() < 1, reason="this kernel offers no Landlock")
def test_landlock_lets_the_worker_read_python_and_numpy_and_write_only_its_folder(tmp_path):
    """In a child that applies the rules a worker gets: numpy and the standard library read, the
    kit and a kit copy in site-packages refused, its folder written, another folder refused."""
    import numpy

    kit = Path(__file__).resolve().parents[1]
    site = str(Path(numpy.__file__).resolve().parents[1])
    work = tmp_path / "work"
    work.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copies = confine.kit_copies(site)
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(kit)!r})
        from autograder.sandbox import confine
        os.chdir({str(work)!r})
        config = {{"site_dirs": [{site!r}], "hide": [{str(kit)!r}], "landlock_abi": {landlock.abi()}}}
        confine.lock_down(jailed=False, ruleset=confine.landlock_ruleset(config, {str(work)!r}))
        def can(action):
            try:
                action()
                return "yes"
            except OSError as exc:
                return "no"
        print("numpy", can(lambda: open({str(Path(numpy.__file__))!r}).read(1)))
        print("stdlib", can(lambda: open(os.__file__).read(1)))
        print("kit", can(lambda: open({str(kit / "README.md")!r}).read(1)))
        print("copy", confine._a_readable_file({str(kit)!r}) or "none", *[confine._a_readable_file(p) or "none"
                                                                        for p in {copies!r}])
        print("write-own", can(lambda: open("mine.txt", "w").write("x")))
        print("write-elsewhere", can(lambda: open({str(elsewhere / "x.txt")!r}, "w").write("x")))
        print("tmp", can(lambda: open("/tmp/landlock-test-" + str(os.getpid()), "w").write("x")))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert copies and seen["copy"].split() == ["none"] * (1 + len(copies)), seen["copy"]    # the worker's own proof
    seen.pop("copy")
    assert seen == {"numpy": "yes", "stdlib": "yes", "kit": "no", "write-own": "yes",
                    "write-elsewhere": "no", "tmp": "no"}, seen
    assert not (elsewhere / "x.txt").exists()
