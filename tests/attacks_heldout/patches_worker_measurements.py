# attack: find the worker's own ops class in sys.modules (by its ops, whatever its name) and rewrite what the worker
#         measures about the student's code (fit returned self, the model left in eval mode) to say "fine" whatever
#         the code did: _VIA = "class" wraps the class's ops, _VIA = "handle" wraps handle(), which every answer goes
#         through, and flips any verdict-like key in every answer
# must hold: the attack scores exactly what the same mistakes score without the patch (_PATCH = False), item by item
# result before the fix: BROKEN (train_loop and standardizer earned the marks the honest mistakes lose); the ops are
#         now bound before the submission is imported, and the worker reports values the grader recomputes (the
#         output after training, transforms through what fit returned), never a flag to flip
# (The test puts the reference solution between this block and the part after the marker below.)
import sys as _sys

_PATCH = True
_VIA = "class"


def _worker_class():
    for module in list(_sys.modules.values()):
        for cls in list(getattr(module, "__dict__", {}).values()):
            if isinstance(cls, type) and hasattr(cls, "op_scaler") and hasattr(cls, "op_train"):
                return cls
    return None


_FLAGS = {"returns_self": True, "training_after": False, "fit_returned": "Standardizer"}


def _flip(value):
    if isinstance(value, dict):
        return {k: _FLAGS.get(k, _flip(v)) for k, v in value.items()}
    return value


_Worker = _worker_class()
if _PATCH and _Worker is not None and _VIA == "class":
    _op_scaler, _op_train = _Worker.op_scaler, _Worker.op_train

    def _scaler(self, req):
        out = _op_scaler(self, req)
        out["returns_self"] = True
        return out

    def _train(self, req):
        out = _op_train(self, req)
        out["training_after"] = False
        return out

    _Worker.op_scaler, _Worker.op_train = _scaler, _train
if _PATCH and _Worker is not None and _VIA == "handle":
    _handle = _Worker.handle
    _Worker.handle = lambda self, req: _flip(_handle(self, req))
print("ATTACK worker class", "found" if _Worker is not None else "not found", "patched" if _PATCH else "unpatched")


# === after the reference ===
_reference_fit = Standardizer.fit
_reference_train_model = train_model


def _fit_returning_none(self, values):
    _reference_fit(self, values)               # fit should return self: this one does not


def train_model(model, *args, **kwargs):
    history = _reference_train_model(model, *args, **kwargs)
    model.train()                              # the spec leaves the model in eval mode: this one does not
    return history


Standardizer.fit = _fit_returning_none
