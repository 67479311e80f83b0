"""The answer-shape detector (tests/answer_shapes.py) that the hand-out's leak test runs: each shape is
found in code that has it, written other ways than the reference, and not in code that only looks alike."""

import textwrap

from answer_shapes import answer_shapes, find_answer_shapes
from corpus import REFERENCE

STUBS = REFERENCE.parent.parent / "lessons"


def shapes(code):
    return {shape for shape, _ in answer_shapes(textwrap.dedent(code))}


def test_the_reference_has_every_shape_and_the_students_stubs_none():
    assert shapes(REFERENCE.read_text()) == {"recurrent layer read at the last step", "windowing loop",
                                             "clip before step"}
    assert find_answer_shapes(STUBS) == []               # the stub file, and the notebook's code cells


def test_a_recurrent_forecaster_is_found_however_it_is_written():
    assert shapes("""
        class M(nn.Module):
            def forward(self, x):
                h = self.gru(x)[0]
                return self.out(h[:, -1])
        layer = nn.GRU(1, 8, batch_first=True)
    """) == {"recurrent layer read at the last step"}
    assert shapes("""
        class M(torch.nn.Module):
            def __init__(self, kind):
                self.rnn = getattr(torch.nn, kind)(1, 8, batch_first=True)
            def forward(self, x):
                return self.fc(self.rnn(x)[0][:, -1, :])
    """) == {"recurrent layer read at the last step"}


def test_an_inputs_last_value_is_not_a_recurrent_read():
    assert shapes("""
        layer = nn.LSTM(1, 8)
        def naive(X):
            return X[:, -1, :1]
    """) == set()


def test_windows_collected_are_found_a_window_compared_is_not():
    assert shapes("X = np.stack([v[k : k + size] for k in range(len(v) - size)])") == {"windowing loop"}
    assert shapes("""
        def windows(v, w):
            out = []
            for start in range(len(v) - w):
                out.append(v[start : start + w])
            return out
    """) == {"windowing loop"}
    assert shapes("X = sliding_window_view(values, w, axis=0)") == {"windowing loop"}
    assert shapes("""
        def check(X, v, w):
            for i in range(len(X)):
                if not np.array_equal(X[i], v[i : i + w]):
                    raise AssertionError(i)
            rows = [X[i : i + 1] for i in range(len(X))]
    """) == set()


def test_clipping_before_a_step_is_found_in_code_not_in_words():
    assert shapes("""
        def train(model, opt, loss):
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    """) == {"clip before step"}
    assert shapes("""
        def feedback():
            return "clip the total norm with clip_grad_norm_(...) after backward() and before step()"
        def late(model, opt):
            opt.step()
            clip_grad_norm_(model.parameters(), 1.0)
    """) == set()
