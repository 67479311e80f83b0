"""The README's worked example "adding an item", followed literally in a copy of the kit.

The README promises that a new item takes three edits (the reference, one item
module, one corpus case) and `autograder assign`, and that nothing else needs to
change. This test makes exactly those edits, from the README's own code blocks,
in a copy of the repository, then runs the copy's own tests of everything an
item touches: its declaration and the lists derived from it, the rubric, the
generated hand-out, and the corpus (the reference keeps full marks, the new
case loses exactly the new item, every item is proven by a wrong case). Slow:
a fresh pytest run in the copy imports torch and grades in-process.
"""

import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

SECTION = "### Development: adding an item"
COPIED_OUT = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis")
# The copy's tests an item touches. Left out: those that start graders in subprocesses (the corpus's verdicts
# stand for them), and those that pin today's fourteen items' numbers, since a new item rescales every
# item's share of 100 as the README says (tests/test_rubric.py checks that scaling in-process).
COPY_TESTS = ["tests/test_rubric.py", "tests/test_assign.py", "tests/test_repo.py",
              "tests/test_corpus_fast.py::test_reference_scores_100",
              "tests/test_corpus_fast.py::test_every_item_is_proven_by_a_wrong_submission",
              "tests/test_corpus_fast.py::test_wrong_submission_loses_points_only_where_expected[seasonal_one_step_late]"]
SKIPPED_IN_COPY = ("cli or said_on_stderr or import_torch or exactly_the_numbers_it_had or points_that_do_not_add_up "
                   "or points_of_zero or omits_gets_its_declarations_defaults or wrong_type_is_refused_naming")


def readme_blocks():
    """The worked example's code blocks in order: the reference function, the item module, the corpus case."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ")] if "\n## " in section else section
    blocks = [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", section, re.S)]
    assert len(blocks) == 3, "the worked example should show three python blocks"
    return blocks


def add_after_naive_mse(reference, function):
    """The reference with ``function`` as the last definition of Step 3's section."""
    banner = reference.index("# ---------------------------------------------------------------------------\n# Step 4")
    return reference[:banner] + function.rstrip("\n") + "\n\n\n" + reference[banner:]


def add_item_module(items, name, source):
    (items / f"{name}.py").write_text(source)
    init = (items / "__init__.py").read_text()
    line = re.search(r"^from autograder\.items import (windows[^#\n]*?)(\s+# noqa.*)?$", init, re.M)
    assert line, "items/__init__.py should import the item modules on one line"
    (items / "__init__.py").write_text(init[:line.end(1)] + f", {name}" + init[line.end(1):])


def add_wrong_case(corpus, case):
    """corpus.py with ``case`` as the last entry of WRONG."""
    start = corpus.index("\nWRONG = [\n")
    end = corpus.index("\n]\n", start)
    return corpus[:end] + "\n" + textwrap.indent(case.rstrip("\n"), "    ") + corpus[end:]


def test_the_readme_example_adds_an_item_the_kit_grades(tmp_path):
    function, item_module, case = readme_blocks()
    kit = tmp_path / "kit"
    shutil.copytree(ROOT, kit, ignore=COPIED_OUT)

    reference = kit / "solutions" / "sequence_modeling.py"
    reference.write_text(add_after_naive_mse(reference.read_text(), function))
    add_item_module(kit / "autograder" / "items", "seasonal", item_module)
    corpus = kit / "tests" / "corpus.py"
    corpus.write_text(add_wrong_case(corpus.read_text(), case))

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AUTOGRADER_CACHE": str(tmp_path / "cache")}
    assigned = subprocess.run([sys.executable, "-m", "autograder", "assign"], cwd=kit, env=env,
                              capture_output=True, text=True, timeout=300)
    assert assigned.returncode == 0, assigned.stderr
    assert "seasonal_naive" in (kit / "lessons" / "sequence_modeling.py").read_text()
    assert 'check(\\"naive_baseline\\", \\"seasonal_naive\\")' in (kit / "lessons" / "sequence_modeling.ipynb").read_text()

    tested = subprocess.run([sys.executable, "-m", "pytest", "-v", "-n", "0", "-p", "no:cacheprovider",
                             "-k", f"not ({SKIPPED_IN_COPY})", *COPY_TESTS],
                            cwd=kit, env=env, capture_output=True, text=True, timeout=900)
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    for test in COPY_TESTS[3:]:                      # the corpus's verdicts on the copy ran, and passed
        assert f"{test} PASSED" in tested.stdout, test
    assert "test_the_lists_of_items_derive_from_the_declarations PASSED" in tested.stdout
