"""Figures say their numbers: MSEs in titles, the naive baseline beside the model, whole-number ticks on
counted axes, and bars whose few-percent differences show (solutions/plots.py, the report's plots)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograder.reports.html import pipeline_figures  # noqa: E402
from solutions import plots  # noqa: E402


def whole_ticks(ax):
    ax.figure.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    return ticks and all(float(t).is_integer() for t in ticks)


def test_the_training_curves_count_epochs_in_whole_numbers_and_show_the_baseline():
    history = [{"epoch": e, "train_mse": 1.0 / e, "val_mse": 1.2 / e} for e in (1, 2, 3, 4)]
    fig = plots.curves_figure(history, naive_mse=0.3)          # 4 epochs: matplotlib's own ticks step by 0.5
    ax = fig.axes[0]
    assert whole_ticks(ax)
    assert "final validation MSE 0.3000" in ax.get_title()
    assert ax.get_legend().get_texts()[-1].get_text() == "naive baseline MSE 0.3000"
    plt.close(fig)


def test_window_size_bars_show_a_seven_percent_difference_and_their_values():
    fig = plots.window_sizes_figure({8: 0.0030, 16: 0.0028, 32: 0.0029})
    ax = fig.axes[0]
    bottom, top = ax.get_ylim()
    assert bottom > 0.5 * 0.0028                        # from zero, 7% would be a sliver of the bar
    assert {t.get_text() for t in ax.texts} == {"0.0030", "0.0028", "0.0029"}
    assert "best 16: 0.0028" in ax.get_title() and "not from 0" in ax.get_ylabel()
    plt.close(fig)


def test_the_lab_predictions_and_rolling_titles_hold_their_mse():
    t = np.arange(30, dtype=float)
    truth, pred = np.sin(t * 0.3), np.sin(t * 0.3) + 0.1
    fig = plots.predictions_figure(truth, pred, np.roll(truth, 1))
    assert "LSTM MSE 0.0100" in fig.axes[0].get_title() and whole_ticks(fig.axes[0])
    plt.close(fig)
    fig = plots.rolling_figure(truth, pred, pred[:6])
    assert "MSE 0.0100 over 6 steps" in fig.axes[0].get_title() and whole_ticks(fig.axes[0])
    plt.close(fig)


def test_the_reports_figures_hold_mse_the_baseline_and_whole_ticks():
    t = np.arange(12, dtype=float)
    truth = np.sin(t * 0.4)
    details = {"y_val": truth, "pred": truth + 0.1, "naive_pred": np.roll(truth, 1), "naive_mse": 0.25,
               "history": [{"epoch": e, "train_mse": 1.0 / e, "val_mse": 1.1 / e} for e in (1, 2, 3)],
               "rolling": truth[:5] + 0.2}
    figures = dict(pipeline_figures(details, render=lambda fig: fig))
    assert set(figures) == {"Validation predictions", "Training curves", "Rolling forecast"}
    for fig in figures.values():
        ax = fig.axes[0]
        assert "MSE" in ax.get_title() and whole_ticks(ax), ax.get_title()
        assert any("naive" in t.get_text() for t in ax.get_legend().get_texts())
        plt.close(fig)
    assert "the naive baseline's 0.2500" in figures["Validation predictions"].axes[0].get_title()
