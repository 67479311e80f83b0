"""One module per grading concern; ``REGISTRY`` maps each rubric item id to its check."""

from autograder.checks import exercises, models, scaling, training, windows

REGISTRY = {
    "make_windows": windows.check_make_windows,
    "make_windows_multifeature": windows.check_make_windows_multifeature,
    "input_validation": windows.check_input_validation,
    "time_split": windows.check_time_split,
    "naive_baseline": windows.check_naive_baseline,
    "lstm_forecaster": models.check_lstm_forecaster,
    "gru_forecaster": models.check_gru_forecaster,
    "train_loop": training.check_train_loop,
    "grad_clipping": training.check_grad_clipping,
    "beats_baseline": training.check_beats_baseline,
    "window_comparison": exercises.check_window_comparison,
    "two_feature": exercises.check_two_feature,
    "rolling_forecast": exercises.check_rolling_forecast,
    "standardizer": scaling.check_standardizer,
}
