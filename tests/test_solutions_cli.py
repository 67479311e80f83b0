"""`python -m solutions` with its options, end to end."""

import subprocess
import sys

import pytest

from conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_exercises_and_plots_run_end_to_end(tmp_path, expected_output):
    out = subprocess.run([sys.executable, "-m", "solutions", "--exercises", "--plot", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.startswith(expected_output.rstrip("\n") + "\n")     # the lab comes first, unchanged
    for title in ["Exercise 1: window size", "Exercise 2: LSTM vs GRU", "Exercise 3: gradient clipping",
                  "Exercise 4: a second feature", "Exercise 5: rolling forecast", "Standardised pipeline"]:
        assert title in out.stdout
    assert "<- best" in out.stdout
    names = ["predictions.png", "training_curves.png", "rolling_forecast.png", "window_sizes.png"]
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name


def test_unknown_option_is_refused_with_usage(capsys):
    """In this process: a new interpreter would spend its time importing torch before argparse
    refuses. The command's own entry point runs in test_reference.py's byte-for-byte test."""
    from solutions.__main__ import main

    with pytest.raises(SystemExit) as refused:
        main(["--nope"])
    assert refused.value.code == 2 and "usage: python -m solutions" in capsys.readouterr().err


def test_every_column_of_the_exercise_1_table_has_a_name(monkeypatch):
    import solutions.exercises as exercises

    monkeypatch.setattr(exercises, "compare_window_sizes", lambda series: {8: 0.0029, 16: 0.003, 32: 0.0028})
    _, shown = exercises.exercise_window_sizes(series=[0.0])
    title, header, rule, *rows = shown.splitlines()
    assert header.split() == ["window", "val_mse", "best"] and len(rule.split()) == 3
    assert rows[-1].split() == ["32", "0.0028", "<-", "best"]
