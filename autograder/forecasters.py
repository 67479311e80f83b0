"""The reference's own forecasters, run in the grader: what the lesson's model outputs, and how far it
beats the naive baseline.

The checks never build a forecaster of their own. They ask for these results
through ``oracle.derived``: in the full kit it runs the functions below on the
reference; a release records their answers on public data; the student
hand-out replays them. So the hand-out ships no model, only numbers, and this
module stays out of it (release.SELF_CHECK_MODULES does not list it).

Every function here leaves torch's global random state as it found it
(``fork_rng``): its answer depends on its arguments alone, so a replay needs
nothing else.
"""

import numpy as np

# The mistakes a forecaster's output can be recognised by, with the reference's weights loaded into it.
FIRST_STEP = "reads the first time step, out[:, 0]; read the last one, out[:, -1]"
MEAN_OVER_TIME = "averages over time steps; read the last one, out[:, -1]"
NOT_BATCH_FIRST = "treats dim 0 as time: create the layer with batch_first=True"


def _lesson_model(reference, cls_name, init, seed):
    """``reference.<cls_name>(**init)`` created under ``torch.manual_seed(seed)`` (callers fork the RNG)."""
    import torch

    torch.manual_seed(seed)
    return getattr(reference, cls_name)(**init)


def expectation(reference, cls_name, init, seed, inputs):
    """What a correct ``cls_name(**init)`` gives, for the forecaster checks.

    ``params``: its parameters under the seed, in registration order (the check loads
    them into the student's model, so outputs are compared with the same weights).
    ``outputs``: its output for each array in ``inputs``, each (batch, seq_len, input_size).
    ``mistakes``: for each input, the output of each classic mistake with those weights.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        model = _lesson_model(reference, cls_name, init, seed).eval()
    recurrent = next(m for m in model.modules() if isinstance(m, torch.nn.RNNBase))
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    outputs, mistakes = [], []
    with torch.no_grad():
        for array in inputs:
            x = torch.from_numpy(np.asarray(array, dtype=np.float32))
            outputs.append(model(x).numpy())                                   # (batch, 1)
            steps = recurrent(x)[0]                                            # (batch, seq_len, hidden)
            wrong = {FIRST_STEP: head(steps[:, 0, :]), MEAN_OVER_TIME: head(steps.mean(dim=1))}
            recurrent.batch_first = False                # dim 0 read as time: (seq_len, batch, features)
            wrong[NOT_BATCH_FIRST] = head(recurrent(x)[0][:, -1, :])
            recurrent.batch_first = True
            mistakes.append({message: value.numpy() for message, value in wrong.items()})
    return {"params": [p.detach().numpy().copy() for p in model.parameters()], "outputs": outputs,
            "mistakes": mistakes}


def held_out_ratio(reference, X_train, y_train, X_val, y_val, X_test, y_test, model_seed, init_params=None):
    """The reference pipeline's held-out MSE over the naive forecast's (reference_pipeline.Task's fields).

    The lesson's model is created under ``model_seed`` (or given ``init_params``, in
    registration order), trained by the reference loop, and asked for ``X_test``.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        model = _lesson_model(reference, "LSTMForecaster", {"input_size": int(X_train.shape[2])}, model_seed)
        if init_params is not None:
            with torch.no_grad():
                for param, value in zip(model.parameters(), init_params):
                    param.copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))
        reference.train_model(model, X_train, y_train, X_val, y_val, log=None)
        pred = reference.predict(model, X_test)                               # (n_test, 1)
    naive = ((X_test[:, -1, :1] - y_test) ** 2).mean()
    return float(((pred - y_test) ** 2).mean()) / float(naive)
