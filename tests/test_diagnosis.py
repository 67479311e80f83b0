"""The report's diagnosis (autograder/reports/diagnosis.py, html.py): each finding proven by input that must
produce it and input that must not. End to end, on graded corpus cases: tests/test_corpus_fast.py."""

import numpy as np

from autograder.reports.diagnosis import diagnose, pattern_strengths, pipeline_findings
from autograder.reports.html import findings_for
from autograder.reports.results import ItemResult


def names(findings):
    return [name for name, _, _ in findings]


def test_the_students_own_windows_and_split_are_read_from_the_index_series():
    assert names(pipeline_findings({"window": 16, "target_offset": 0})) == ["lag built into the windows"]
    assert names(pipeline_findings({"window": 16, "target_offset": 2})) == ["target in the wrong place"]
    assert names(pipeline_findings({"split_in_order": False})) == ["random split"]
    assert pipeline_findings({"window": 16, "target_offset": 1, "split_in_order": True}) == []
    assert pipeline_findings({}) == []                    # the student's functions raised: no claim at all


def test_a_model_more_than_twice_as_bad_as_the_naive_baseline_is_said():
    truth = np.sin(np.arange(60) * 0.2)
    off = truth + 0.3                                     # MSE 0.09
    assert "worse than the baseline" in names(diagnose(truth, off, naive_mse=0.04))
    assert "worse than the baseline" not in names(diagnose(truth, off, naive_mse=0.05))
    assert "worse than the baseline" not in names(diagnose(truth, off))


def test_a_curve_with_a_nan_in_its_targets_or_predictions_has_no_pattern_strengths():
    """answer_plot judges PLOT_SHOWS by these strengths: a NaN among them would pass every "reject if
    below" test, so a curve that is not all numbers has none (the claim is then not judged)."""
    truth = np.sin(np.arange(60) * 0.2)
    strengths = pattern_strengths(truth, 0.6 * truth)
    assert strengths is not None and all(np.isfinite(list(strengths.values())))
    for broken_truth, broken_pred in ((np.where(np.arange(60) == 7, np.nan, truth), 0.6 * truth),
                                      (truth, np.where(np.arange(60) == 7, np.inf, 0.6 * truth))):
        assert pattern_strengths(broken_truth, broken_pred) is None


def _result(failing):
    ids = ("lstm_forecaster", "train_loop", "beats_baseline")
    return type("Result", (), {"items": [ItemResult(i, i, 0.0 if i in failing else 1.0, 1.0, "x", "visible") for i in ids]})()


def test_no_tuning_tip_while_the_model_or_loop_item_is_failing():
    truth = np.sin(np.arange(60) * 0.2)
    details = {"y_val": truth, "pred": 0.6 * truth, "naive_mse": 1.0, "own": {}}    # missed peaks
    healthy = findings_for(_result(set()), details)
    assert names(healthy) == ["missed peaks"] and "larger window_size" in healthy[0][2]
    broken = findings_for(_result({"lstm_forecaster"}), details)
    assert names(broken) == ["missed peaks"] and "window_size" not in broken[0][2]
    assert broken[0][2].startswith("Fix lstm_forecaster first")
