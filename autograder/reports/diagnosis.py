"""Read a prediction curve the way the lesson teaches: lag, flatline, missed peaks, noise.

Each finding comes with the lesson's suggested fix. The numbers are computed
on the validation truth and the student's predictions only.
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
}


def best_lag(truth, pred, max_lag=5):
    """The shift k (0..max_lag) at which pred[t] best matches truth[t - k], by mean squared error
    (correlation cannot tell a smooth curve from itself one step later: 0.99 either way)."""
    errors = []
    for k in range(0, max_lag + 1):
        a, b = pred[k:], truth[: len(truth) - k]
        errors.append(float(np.mean((a - b) ** 2)) if len(a) >= 5 else np.inf)
    return int(np.argmin(errors)), errors


def diagnose(truth, pred):
    """[(name, evidence, fix)] for each problem the curve shows; empty when it looks healthy."""
    truth, pred = np.asarray(truth, dtype=float).reshape(-1), np.asarray(pred, dtype=float).reshape(-1)
    if len(truth) != len(pred) or len(truth) < 8 or not np.all(np.isfinite(pred)):
        return []
    findings = []
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
