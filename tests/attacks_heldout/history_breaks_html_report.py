# attack: when train_model trains the student's own model (the beats_baseline pipeline, whose history the HTML report
#         plots), return a history with epochs and losses at the ends of the float range; matplotlib's layout then fails
# must hold: `grade --html` exits 0 and writes the HTML report; a batch records the student as graded (not grader_failed)
# result today: BROKEN (numpy LinAlgError "Singular matrix" from the training-curve plot: grade exits 1 with a traceback
#               after results.json; a batch turns the student into grader_failed and zeroes its results.json)
# (The test puts the reference solution between this block and the part after the marker below.)


# === after the reference ===
_reference_train_model = train_model


def train_model(model, *args, **kwargs):
    history = _reference_train_model(model, *args, **kwargs)
    if isinstance(model, LSTMForecaster):                 # the grader's probes are not: train_loop still passes
        return [{"epoch": 1e308, "train_mse": 1e-300, "val_mse": 1e300},
                {"epoch": -1e308, "train_mse": 1e300, "val_mse": 1e-300}]
    return history
