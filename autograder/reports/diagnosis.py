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
    """The shift k (0..max_lag) at which pred[t] best matches truth[t - k], by correlation."""
    scores = []
    for k in range(0, max_lag + 1):
        a, b = pred[k:], truth[: len(truth) - k]
        if len(a) < 5 or np.std(a) == 0 or np.std(b) == 0:
            scores.append(-np.inf)
            continue
        scores.append(float(np.corrcoef(a, b)[0, 1]))
    return int(np.argmax(scores)), scores


def diagnose(truth, pred):
    """[(name, evidence, fix)] for each problem the curve shows; empty when it looks healthy."""
    truth, pred = np.asarray(truth, dtype=float).reshape(-1), np.asarray(pred, dtype=float).reshape(-1)
    if len(truth) != len(pred) or len(truth) < 8 or not np.all(np.isfinite(pred)):
        return []
    findings = []
    lag, scores = best_lag(truth, pred)
    if lag >= 1 and scores[lag] - scores[0] > 0.01:
        findings.append(("lag", f"the prediction trails the truth by {lag} step{'s' * (lag > 1)} "
                                f"(correlation {scores[0]:.2f} unshifted, {scores[lag]:.2f} shifted)", FIXES["lag"]))
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
