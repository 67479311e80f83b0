"""Read a prediction curve the way the lesson teaches: lag, flatline, missed peaks, noise.

Each finding comes with the lesson's suggested fix. The curve's numbers are
computed on the validation truth and the student's predictions only; the
pipeline's (``pipeline_findings``) on what the student's own make_windows and
time_split did to an index series, since the plotted model trained on the
grader's windows, where a lag built into the student's windows cannot show.
"""

import numpy as np

FIXES = {
    "lag": "The model mostly repeats the last value. Check that y is the value after the window, "
           "train longer or with a larger window, and compare against the naive baseline.",
    "flatline": "The model predicts close to an average. Check the learning rate and the number of epochs, "
                "and scale inputs with training statistics.",
    "missed peaks": "Peaks are cut short: the window may be too short or the model too weak. "
                    "Try a larger window_size or hidden_size.",
    "noisy": "Predictions jitter more than the truth: lower the learning rate, keep gradient clipping, "
             "or check for overfitting against the validation curve.",
    "worse": "Repeating the last value would do better: the model is not learning the series. Check that "
             "train_model really steps (lr passed on, zero_grad every epoch) and that predict returns the model's "
             "output for each window.",
}

# What the report says instead of a tuning tip when an item above shows the model or loop itself is wrong.
BROKEN_PART = "Fix {items} first (the rows above say what is wrong): until then the curve says nothing about " \
              "window size, epochs or hidden size."


def pipeline_findings(own):
    """Findings about the student's own make_windows and time_split, read from what they did to the
    index series 0, 1, 2, ... (``own``: {"window", "target_offset", "split_in_order"}, any missing)."""
    findings = []
    w, offset = own.get("window"), own.get("target_offset")
    if offset == 0:
        findings.append(("lag built into the windows",
                         f"your make_windows, given the series 0, 1, 2, ..., pairs the window 0..{w - 1} with the "
                         f"target {w - 1}, its own last value",
                         "The target must be the value right after the window (series[i + window_size]). Trained "
                         "on windows whose target is their last value, a model learns to repeat the last value: "
                         "the lag the lesson warns about, and a validation MSE that looks far too good."))
    elif offset is not None and offset != 1:
        findings.append(("target in the wrong place",
                         f"your make_windows, given the series 0, 1, 2, ..., pairs the window 0..{w - 1} with the "
                         f"target {w - 1 + offset}",
                         "The target must be the value right after the window (series[i + window_size])."))
    if own.get("split_in_order") is False:
        findings.append(("random split", "your time_split sends to validation rows that come before rows it "
                                         "keeps for training",
                         "Split in time order: training is the first int(len(X) * train_frac) rows, validation the "
                         "rest. A shuffled split trains on the future it then validates on, so its validation MSE "
                         "promises more than the model can do on new data."))
    return findings


def best_lag(truth, pred, max_lag=5):
    """The shift k (0..max_lag) at which pred[t] best matches truth[t - k], by mean squared error
    (correlation cannot tell a smooth curve from itself one step later: 0.99 either way)."""
    errors = []
    for k in range(0, max_lag + 1):
        a, b = pred[k:], truth[: len(truth) - k]
        errors.append(float(np.mean((a - b) ** 2)) if len(a) >= 5 else np.inf)
    return int(np.argmin(errors)), errors


def diagnose(truth, pred, naive_mse=None):
    """[(name, evidence, fix)] for each problem the curve shows; empty when it looks healthy.
    With ``naive_mse``, a model more than twice as bad as the naive baseline is a finding too."""
    truth, pred = np.asarray(truth, dtype=float).reshape(-1), np.asarray(pred, dtype=float).reshape(-1)
    if len(truth) != len(pred) or len(truth) < 8 or not np.all(np.isfinite(pred)):
        return []
    findings = []
    mse = float(np.mean((pred - truth) ** 2))
    if naive_mse is not None and naive_mse > 0 and mse > 2 * naive_mse:
        findings.append(("worse than the baseline", f"your model's validation MSE {mse:.4g} is {mse / naive_mse:.1f}x "
                                                    f"the naive baseline's {naive_mse:.4g}", FIXES["worse"]))
    lag, errors = best_lag(truth, pred)
    if lag >= 1 and errors[lag] < 0.5 * errors[0]:
        findings.append(("lag", f"the prediction trails the truth by {lag} step{'s' * (lag > 1)} "
                                f"(its error is {errors[0]:.4g} as it stands, {errors[lag]:.4g} shifted back "
                                f"{lag} step{'s' * (lag > 1)})", FIXES["lag"]))
    spread_ratio = np.std(pred) / max(np.std(truth), 1e-12)
    if spread_ratio < 0.3:
        findings.append(("flatline", f"the prediction's spread is {spread_ratio:.0%} of the truth's", FIXES["flatline"]))
    else:
        centre = np.mean(truth)
        peaks = np.abs(truth - centre) >= np.quantile(np.abs(truth - centre), 0.9)
        reach = np.abs(pred[peaks] - centre).mean() / max(np.abs(truth[peaks] - centre).mean(), 1e-12)
        if reach < 0.75:
            findings.append(("missed peaks", f"at the truth's largest swings the prediction reaches {reach:.0%} "
                                             "of their height", FIXES["missed peaks"]))
    jitter = np.std(np.diff(pred)) / max(np.std(np.diff(truth)), 1e-12)
    if jitter > 1.5:
        findings.append(("noisy", f"step-to-step changes are {jitter:.1f}x the truth's", FIXES["noisy"]))
    return findings
