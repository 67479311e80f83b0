"""Checks for the forecasters: layer types, shapes, batch invariance, and outputs
equal to the lesson's model's when that model is given the student's weights.

Loading the student's weights into the lesson's model makes the check fair to
every correct variant (``h_n[-1]`` instead of ``out[:, -1]``, other attribute
names) and exact about the rest: a missing ``batch_first=True`` or a read of
the wrong time step gives different numbers, and the feedback says which.

The lesson's model is built here (``LessonForecaster``), not taken from the
reference: its inputs are the student's weights, which no answer recorded in
advance could cover, and the student self-check ships without the reference.
The full kit and the self-check use this same class, so they agree by
construction; tests/test_release.py checks that it equals the reference's.
"""

from dataclasses import dataclass

import numpy as np

from autograder.checks.base import CheckFailed, Subchecks, arg, need_array
from autograder.checks.registry import item

RECURRENT = {"lstm_forecaster": ("LSTMForecaster", "LSTM"), "gru_forecaster": ("GRUForecaster", "GRU")}
RECURRENT_LAYER = dict(RECURRENT.values())


@dataclass(frozen=True)
class ForecasterSettings:
    """lstm_forecaster and gru_forecaster: the student's outputs may differ from the lesson's model with
    the same weights by this much (float32 arithmetic in another order)."""
    tolerance: float = 1e-5


def reference_outputs(ctx, cls_name, init, params, X):
    """The lesson's model with the student's parameters; None when shapes differ."""
    import torch

    from autograder.checks.lesson_model import LessonForecaster

    model = LessonForecaster(RECURRENT_LAYER[cls_name], **init)
    ref_params = list(model.parameters())
    if len(ref_params) != len(params) or any(tuple(p.shape) != a.shape for p, a in zip(ref_params, params)):
        return None, model
    with torch.no_grad():
        for p, a in zip(ref_params, params):
            p.copy_(torch.from_numpy(a.astype(np.float32)))
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy(), model


def diagnose_forecaster(model, X, got, layer_name):
    """Name the classic mistake whose output matches the student's."""
    import torch

    rnn = getattr(model, layer_name.lower())
    with torch.no_grad():
        x = torch.from_numpy(X)
        variants = {
            "reads the first time step, out[:, 0]; read the last one, out[:, -1]":
                model.fc(rnn(x)[0][:, 0, :]),
            "averages over time steps; read the last one, out[:, -1]":
                model.fc(rnn(x)[0].mean(dim=1)),
        }
        # Without batch_first the layer reads (seq_len, batch, features): dim 0 becomes time.
        rnn.batch_first = False
        variants["treats dim 0 as time: create the layer with batch_first=True"] = \
            model.fc(rnn(x)[0][:, -1, :])
        rnn.batch_first = True
    for message, value in variants.items():
        if value is not None and value.shape == got.shape and np.allclose(value.numpy(), got, atol=1e-5):
            return message
    return None


def layer_mismatch(layers, cls_name, layer, input_size, hidden_size):
    """What in a student model's layers (the worker's ``layers`` list) differs from nn.<layer>(input_size,
    hidden_size, batch_first=True) then nn.Linear(hidden_size, 1), in words that name it; None if nothing."""
    rnns = [l for l in layers if l["type"] in ("LSTM", "GRU", "RNN")]
    if not rnns:
        return f"{cls_name} has no nn.{layer} layer"
    rnn = rnns[0]
    if rnn["type"] != layer or not rnn["torch"]:
        return f"{cls_name} uses nn.{rnn['type']}; it should use nn.{layer}"
    if not rnn.get("batch_first"):
        return f"nn.{layer} needs batch_first=True: inputs are [batch, seq_len, input_size]"
    if (rnn.get("input_size"), rnn.get("hidden_size")) != (input_size, hidden_size):
        return (f"nn.{layer} should be ({input_size}, {hidden_size}), got ({rnn.get('input_size')}, "
                f"{rnn.get('hidden_size')}): pass the constructor's input_size and hidden_size on to it")
    if rnn.get("num_layers", 1) != 1 or len(rnns) > 1:
        stacked = f"num_layers={rnn.get('num_layers')}" if rnn.get("num_layers", 1) != 1 else f"{len(rnns)} of them"
        return (f"{cls_name} stacks recurrent layers ({stacked}): the lesson's model has one nn.{layer} layer "
                "(leave num_layers at its default, 1)")
    if rnn.get("bidirectional"):
        return f"nn.{layer} should read forwards only: drop bidirectional=True"
    linears = [l for l in layers if l["type"] == "Linear"]
    if not linears or (linears[-1].get("in_features"), linears[-1].get("out_features")) != (hidden_size, 1):
        return f"the output layer should be nn.Linear({hidden_size}, 1)"
    return None


def check_forecaster(ctx, item_id):
    import torch

    from autograder.checks.lesson_model import LessonForecaster

    cls_name, layer = RECURRENT[item_id]
    tol = float(ctx.settings.tolerance)
    checks = Subchecks()
    rng = ctx.rng("inputs")
    seed = int(rng.integers(0, 10_000))

    def probe(init, batch, seq_len):
        input_size = init.get("input_size", 1)
        X = rng.normal(size=(batch, seq_len, input_size)).astype(np.float32)
        rows = [X[i : i + 1] for i in range(batch)]
        answer = ctx.op("model", cls=cls_name, init=init, seed=seed, inputs=[arg(X, "tensor")] +
                        [arg(r, "tensor") for r in rows])
        return X, answer

    def structure(answer, input_size, hidden_size):
        mismatch = layer_mismatch(answer["layers"], cls_name, layer, input_size, hidden_size)
        if mismatch:
            raise CheckFailed(mismatch)

    def outputs(X, answer, init):
        batch = X.shape[0]
        out = need_array(answer["outputs"][0], "model(x)", kind="tensor", dtype="float32", shape=(batch, 1))
        params = [need_array(p[1], "parameter") for p in answer["params"]]
        for i in range(batch):
            row = need_array(answer["outputs"][1 + i], f"model(x[{i}:{i + 1}])", shape=(1, 1))
            if not np.allclose(row, out[i : i + 1], atol=tol, rtol=tol):
                raise CheckFailed(f"model(x)[{i}] = {out[i, 0]:.5g} but model(x[{i}:{i + 1}]) = {row[0, 0]:.5g}: "
                                  "rows of a batch must not affect each other (batch_first=True?)")
        expected, model = reference_outputs(ctx, cls_name, init, params, X)
        if expected is None:
            raise CheckFailed(f"the parameters do not match nn.{layer}({init.get('input_size', 1)}, "
                              f"{init.get('hidden_size', 32)}) followed by nn.Linear; create the {layer} first")
        if not np.allclose(out, expected, atol=tol, rtol=tol):
            mistake = diagnose_forecaster(model, X, out, layer)
            if mistake:
                raise CheckFailed(f"the output {mistake}")
            raise CheckFailed(f"with the same weights the output should be {expected[0, 0]:.5g} for row 0, "
                              f"got {out[0, 0]:.5g}: feed the last time step's hidden state to the Linear layer")

    def defaults():
        X, answer = probe({}, 5, 7)
        structure(answer, 1, 32)
        outputs(X, answer, {})

    def other_sizes():
        init = {"input_size": 3, "hidden_size": 5}
        X, answer = probe(init, 4, 9)
        structure(answer, 3, 5)
        outputs(X, answer, init)

    def one_step_and_long():
        init = {"input_size": 2, "hidden_size": 4}
        for batch, seq_len in ((3, 1), (2, 40)):
            X, answer = probe(init, batch, seq_len)
            outputs(X, answer, init)

    def initialisation_order():
        _, answer = probe({}, 1, 3)
        torch.manual_seed(seed)
        model = LessonForecaster(layer)
        for (name, got), expected in zip(answer["params"], model.parameters()):
            if not np.array_equal(need_array(got, name), expected.detach().numpy()):
                raise CheckFailed(f"under torch.manual_seed the weights differ from the lesson's; create "
                                  f"the {layer} before the Linear layer and nothing else with random weights")

    checks.run(f"default {cls_name}(): nn.{layer}(1, 32, batch_first=True) then Linear(32, 1)", defaults)
    checks.run("input_size=3, hidden_size=5: shapes, batch invariance, outputs", other_sizes)
    checks.run("sequences of length 1 and 40", one_step_and_long)
    checks.run("layers created in the lesson's order (same weights under a seed)", initialisation_order)
    return checks.outcome()


@item("lstm_forecaster", settings=ForecasterSettings, name="LSTMForecaster", points=9,
      functions=("LSTMForecaster",), after="Step 4")
def check_lstm_forecaster(ctx):
    return check_forecaster(ctx, "lstm_forecaster")
