"""The student files are generated from the reference and stay in sync with it."""

import ast
import importlib.util
import inspect

import nbformat
import numpy as np
import pytest
import torch

from autograder import assign
from autograder.items import registry
from autograder.notebook_reader import notebook_code, without_self_check
from autograder.rubric import load_rubric
from autograder.submission import forbidden_imports


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", [assign.STUB_FILE, assign.NOTEBOOK_FILE, assign.rubric.DEFAULT_RUBRIC],
                         ids=["stub file", "notebook", "rubric's defaults"])
def test_committed_generated_files_equal_what_the_generator_makes_now(path):
    expected = assign.generated_files()[path]
    assert path.read_text() == expected, f"{path.name} is stale: run `autograder assign`"


@pytest.fixture(scope="module")
def stubs():
    return load_module(assign.STUB_FILE, "lesson_stubs")


STUB_CALLS = {
    "validate_series": lambda m: m.validate_series([1.0]),
    "validate_window_size": lambda m: m.validate_window_size(2, 5),
    "validate_target_col": lambda m: m.validate_target_col(0, 1),
    "validate_windows": lambda m: m.validate_windows(torch.zeros(1, 2, 1)),
    "make_windows": lambda m: m.make_windows(np.arange(5.0), 2),
    "time_split": lambda m: m.time_split(torch.zeros(5, 2, 1), torch.zeros(5, 1)),
    "naive_forecast": lambda m: m.naive_forecast(torch.zeros(3, 2, 1)),
    "naive_mse": lambda m: m.naive_mse(torch.zeros(3, 2, 1), torch.zeros(3, 1)),
    "LSTMForecaster": lambda m: m.LSTMForecaster(),
    "GRUForecaster": lambda m: m.GRUForecaster(),
    "train_model": lambda m: m.train_model(torch.nn.Linear(1, 1), *[torch.zeros(2, 1)] * 4),
    "predict": lambda m: m.predict(torch.nn.Linear(1, 1), torch.zeros(2, 1)),
    "compare_window_sizes": lambda m: m.compare_window_sizes(np.arange(30.0)),
    "two_feature_series": lambda m: m.two_feature_series(),
    "rolling_forecast": lambda m: m.rolling_forecast(torch.nn.Identity(), torch.zeros(3), 2),
    "Standardizer.fit": lambda m: m.Standardizer().fit(np.ones(3)),
    "Standardizer.transform": lambda m: m.Standardizer().transform(np.ones(3)),
    "Standardizer.inverse_transform": lambda m: m.Standardizer().inverse_transform(np.ones(3)),
    "prepare_data": lambda m: m.prepare_data(np.arange(30.0), 3),
}


def calls_with_nothing():
    """A stub function the table above does not list (a new item's, say) is called with None for each
    argument: a stub whose whole body is its solution region raises before it looks at them."""
    stubs = load_module(assign.STUB_FILE, "lesson_stubs_listed")
    calls = {}
    for name, function in vars(stubs).items():
        if (name in STUB_CALLS or name.startswith("_") or not inspect.isfunction(function)
                or function.__module__ != stubs.__name__ or "raise NotImplementedError(" not in inspect.getsource(function)):
            continue
        required = [p for p in inspect.signature(function).parameters.values()
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        calls[name] = lambda m, name=name, count=len(required): getattr(m, name)(*[None] * count)
    return calls


ALL_STUB_CALLS = STUB_CALLS | calls_with_nothing()


@pytest.mark.parametrize("name", sorted(ALL_STUB_CALLS))
def test_every_stub_raises_not_implemented_with_a_hint(stubs, name):
    with pytest.raises(NotImplementedError) as raised:
        ALL_STUB_CALLS[name](stubs)
    assert len(str(raised.value)) > 20                      # a hint, not an empty error


def test_every_solution_region_became_a_stub():
    reference = assign.REFERENCE.read_text()
    assert reference.count("# BEGIN SOLUTION") == len(ALL_STUB_CALLS) + 2   # two forward() bodies are stubs too
    stub = assign.STUB_FILE.read_text()
    assert "BEGIN SOLUTION" not in stub and "HINT:" not in stub
    assert stub.count("raise NotImplementedError(") == reference.count("# BEGIN SOLUTION")


def test_stubs_keep_every_public_signature_and_the_given_code(reference, stubs):
    for name, obj in vars(reference).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != reference.__name__:
            continue
        assert hasattr(stubs, name), f"the stub file lost {name}"
        if inspect.isfunction(obj):
            assert inspect.signature(getattr(stubs, name)) == inspect.signature(obj)
    assert np.array_equal(stubs.make_series(), reference.make_series())


def test_notebook_code_cells_hold_the_whole_stub_module_and_its_run_cell_is_guarded():
    notebook = nbformat.read(assign.NOTEBOOK_FILE, as_version=4)
    nbformat.validate(notebook)
    code = notebook_code(assign.NOTEBOOK_FILE.read_text())
    ast.parse(code)
    for line in assign.STUB_FILE.read_text().splitlines():
        if line.startswith(("def ", "class ")):
            assert line in code
    run_cells = [c for c in notebook.cells if c.cell_type == "code" and 'if __name__ == "__main__":' in c.source]
    assert len(run_cells) == 1 and "run_lab()" in run_cells[0].source
    assert sum(c.cell_type == "markdown" for c in notebook.cells) >= 8


def test_the_notebook_has_a_check_cell_after_each_step_that_grading_skips():
    notebook = nbformat.read(assign.NOTEBOOK_FILE, as_version=4)
    check_cells = [c.source for c in notebook.cells if "autograder.notebook" in c.source]
    assert len(check_cells) == len(registry.checks_after()) + 1 and check_cells[-1].endswith("check()")
    checked = {item for items in registry.checks_after().values() for item in items}
    self_check_items = {item.id for item in load_rubric().items if item.self_check}
    assert checked <= self_check_items and self_check_items - checked == {"input_validation"}   # in the last check()
    code = notebook_code(assign.NOTEBOOK_FILE.read_text())
    assert "autograder.notebook" not in code and code.count("pass  # self-check removed for grading") == 2 * len(check_cells)
    assert forbidden_imports(code) == []


def test_only_the_self_check_statements_are_removed_for_grading():
    cells = ["import numpy as np", 'from autograder.notebook import check\ncheck("time_split")',
             'x = 1; check("time_split")', 'check(\n    "make_windows")\ny = 2', "import autograder.engine",
             "def f(:"]
    out = without_self_check(cells)
    assert out[0] == cells[0] and out[4] == cells[4] and out[5] == cells[5]
    assert out[1] == "pass  # self-check removed for grading\npass  # self-check removed for grading"
    assert out[2] == cells[2]                                    # shares its line with other code: kept
    assert out[3].splitlines() == ["pass  # self-check removed for grading"] * 2 + ["y = 2"]
    assert forbidden_imports("\n".join(out[:5])) == ["autograder"]    # the other import is still refused
    assert without_self_check(['check("time_split")']) == ['check("time_split")']   # no import: not ours


def test_unbalanced_markers_are_refused():
    with pytest.raises(assign.MarkerError, match="never closed"):
        assign.make_stub_source('"""doc"""\ndef f():\n    # BEGIN SOLUTION\n    # HINT: x\n    return 1\n')
    with pytest.raises(assign.MarkerError, match="without BEGIN"):
        assign.make_stub_source('"""doc"""\ndef f():\n    return 1\n    # END SOLUTION\n')
    with pytest.raises(assign.MarkerError, match="no HINT"):
        assign.make_stub_source('"""doc"""\ndef f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n')


def test_hints_with_quotes_stay_valid_python():
    out = assign.make_stub_source('"""doc"""\ndef f():\n    # BEGIN SOLUTION\n    # HINT: use "x" and \'y\' \\n\n'
                                  '    return 1\n    # END SOLUTION\n')
    namespace = {}
    exec(compile(out, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="use \"x\" and 'y'"):
        namespace["f"]()
