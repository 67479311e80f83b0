# attack: two submissions. The first ("leak") records the held-out windows beats_baseline sends to predict one at a
#         time (together they hold 39 of the 40 held-out targets) and, in a later visible item, raises an exception
#         whose message (shown in that item's feedback) carries them as base64 float16. The grade is deterministic, so
#         the second submission ("use") is graded on the same hidden series: its predict looks each window up in the
#         leaked values and answers the next one, on top of a model no better than the naive baseline
# must hold: the second submission's beats_baseline scores what the same code scores without the table (_TABLE = ""),
#            even under a secret AUTOGRADER_HIDDEN_SEED
# result today: BROKEN (the lookup earns beats_baseline's 10 points; the naive twin scores 0)
# (The test puts the reference solution between this block and the part after the marker below.)
_STAGE = "leak"
_TABLE = ""


# === after the reference ===
import base64 as _base64

import numpy as _np

_reference_train_model, _reference_predict, _reference_rolling = train_model, predict, rolling_forecast
_series = []                      # per trained pipeline: the held-out stretch as predict saw it


def train_model(model, *args, **kwargs):
    if isinstance(model, LSTMForecaster) and len(_series) < 3:
        _series.append([])                                    # beats_baseline's series come first
    return _reference_train_model(model, *args, **kwargs)


def _leaked():
    data = _np.frombuffer(_base64.b64decode(_TABLE), dtype=_np.float16).astype(_np.float32)
    return [part for part in _np.split(data, 3)] if data.size else []


_LOOKUP = _leaked()


def predict(model, X):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.shape[0] == 1 and X.shape[2] == 1:
        window = X[0, :, 0].numpy()
        if _STAGE == "leak" and _series and len(_series[-1]) < 55:
            values = _series[-1]
            if not values:
                values.extend(window.tolist())
            else:
                values.append(float(window[-1]))
        if _STAGE == "use":
            w = len(window)
            for values in _LOOKUP:
                for j in range(len(values) - w):
                    if _np.allclose(values[j:j + w], window, rtol=2e-3, atol=2e-3):
                        return torch.tensor([[float(values[j + w])]])
            return torch.tensor([[float(window[-1])]])           # no better than naive without the table
    return _reference_predict(model, X)


def rolling_forecast(model, window, steps):
    full = len(_series) == 3 and all(len(s) == 55 for s in _series)
    if _STAGE == "leak" and full and type(model).__name__ != "LSTMForecaster":
        payload = _np.array(_series, dtype=_np.float16).tobytes()
        raise RuntimeError("LEAK:" + _base64.b64encode(payload).decode("ascii"))
    return _reference_rolling(model, window, steps)
