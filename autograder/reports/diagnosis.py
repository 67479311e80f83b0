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


# How far past each pattern's threshold a curve must be for diagnose to name it: a strength of 1
# is the threshold itself (pattern_strengths). The answer to the plot's question is judged on these.
LAG_ERROR_RATIO = 2.0       # the unshifted error over the best shifted one
FLATLINE_SPREAD = 0.3       # the prediction's standard deviation over the truth's, at most
PEAK_REACH = 0.75           # the share of the truth's largest swings the prediction reaches, at most
NOISY_JITTER = 1.5          # the spread of step-to-step changes over the truth's, at least


def _measures(truth, pred):
    """The raw numbers behind each pattern: (lag, errors, spread_ratio, reach, jitter)."""
    lag, errors = best_lag(truth, pred)
    spread_ratio = np.std(pred) / max(np.std(truth), 1e-12)
    centre = np.mean(truth)
    peaks = np.abs(truth - centre) >= np.quantile(np.abs(truth - centre), 0.9)
    reach = np.abs(pred[peaks] - centre).mean() / max(np.abs(truth[peaks] - centre).mean(), 1e-12)
    jitter = np.std(np.diff(pred)) / max(np.std(np.diff(truth)), 1e-12)
    return lag, errors, spread_ratio, reach, jitter


def _usable(truth, pred):
    truth, pred = np.asarray(truth, dtype=float).reshape(-1), np.asarray(pred, dtype=float).reshape(-1)
    if len(truth) != len(pred) or len(truth) < 8 or not (np.all(np.isfinite(pred)) and np.all(np.isfinite(truth))):
        return None
    return truth, pred


def pattern_strengths(truth, pred):
    """{pattern: strength} where a strength above 1 means diagnose names the pattern (1 is its
    threshold, 2 twice as far past it); None when the curve cannot be read."""
    usable = _usable(truth, pred)
    if usable is None:
        return None
    lag, errors, spread_ratio, reach, jitter = _measures(*usable)
    tiny = 1e-12
    return {"lag": float(errors[0] / max(errors[lag], tiny)) / LAG_ERROR_RATIO if lag >= 1 else 0.0,
            "flatline": float(FLATLINE_SPREAD / max(spread_ratio, tiny)),
            "missed peaks": float(PEAK_REACH / max(reach, tiny)),
            "noisy": float(jitter / NOISY_JITTER)}


def diagnose(truth, pred, naive_mse=None):
    """[(name, evidence, fix)] for each problem the curve shows; empty when it looks healthy.
    With ``naive_mse``, a model more than twice as bad as the naive baseline is a finding too."""
    usable = _usable(truth, pred)
    if usable is None:
        return []
    lag, errors, spread_ratio, reach, jitter = _measures(*usable)
    findings = []
    truth, pred = usable
    mse = float(np.mean((pred - truth) ** 2))
    if naive_mse is not None and naive_mse > 0 and mse > 2 * naive_mse:
        findings.append(("worse than the baseline", f"your model's validation MSE {mse:.4g} is {mse / naive_mse:.1f}x "
                                                    f"the naive baseline's {naive_mse:.4g}", FIXES["worse"]))
    if lag >= 1 and errors[lag] < errors[0] / LAG_ERROR_RATIO:
        findings.append(("lag", f"the prediction trails the truth by {lag} step{'s' * (lag > 1)} "
                                f"(its error is {errors[0]:.4g} as it stands, {errors[lag]:.4g} shifted back "
                                f"{lag} step{'s' * (lag > 1)})", FIXES["lag"]))
    if spread_ratio < FLATLINE_SPREAD:
        findings.append(("flatline", f"the prediction's spread is {spread_ratio:.0%} of the truth's", FIXES["flatline"]))
    elif reach < PEAK_REACH:
        findings.append(("missed peaks", f"at the truth's largest swings the prediction reaches {reach:.0%} "
                                         "of their height", FIXES["missed peaks"]))
    if jitter > NOISY_JITTER:
        findings.append(("noisy", f"step-to-step changes are {jitter:.1f}x the truth's", FIXES["noisy"]))
    return findings
