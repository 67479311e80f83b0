"""Checks for the forecasters: layer types, shapes, batch invariance, and outputs
equal to the lesson's model's when the student's model is given the lesson's weights.

Loading the lesson's weights into the student's model makes the check fair to
every correct variant (``h_n[-1]`` instead of ``out[:, -1]``, other attribute
names) and exact about the rest: a missing ``batch_first=True`` or a read of
the wrong time step gives different numbers, and the feedback says which.

The lesson's weights, outputs and classic mistakes come from the reference's own
class (autograder/forecasters.py) through ``oracle.derived``: the full kit runs
it, the student hand-out replays its recorded numbers and ships no model.
"""

from dataclasses import dataclass

import numpy as np

from autograder.handout.oracle import derived
from autograder.items.base import Unmet, Criteria, arg, need_array
from autograder.items.registry import item

RECURRENT = {"lstm_forecaster": ("LSTMForecaster", "LSTM"), "gru_forecaster": ("GRUForecaster", "GRU")}


@dataclass(frozen=True)
class ForecasterSettings:
    """lstm_forecaster and gru_forecaster: the student's outputs may differ from the lesson's model with
    the same weights by this much (float32 arithmetic in another order)."""
    tolerance: float = 1e-5


def lesson_expectation(ctx, cls_name, init, seed, inputs):
    """The lesson's ``cls_name(**init)`` under ``seed``: its ``params``, its ``outputs`` on each of
    ``inputs`` and, per input, the outputs of its classic ``mistakes`` (forecasters.expectation)."""
    return derived(ctx.reference, "autograder.forecasters:expectation", cls_name, init, seed, list(inputs))


def same_shapes(params, expected):
    """Whether a student's parameters (registration order) can hold the lesson's weights."""
    return len(params) == len(expected) and all(p.shape == e.shape for p, e in zip(params, expected))


def named_mistake(mistakes, got):
    """The classic mistake whose output, with the lesson's weights, is the student's; None if none is."""
    for message, value in mistakes.items():
        if value.shape == got.shape and np.allclose(value, got, atol=1e-5):
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


def grade_forecaster(ctx, item_id):
    cls_name, layer = RECURRENT[item_id]
    tol = float(ctx.settings.tolerance)
    criteria = Criteria()
    rng = ctx.rng("inputs")
    seed = int(rng.integers(0, 10_000))
    # Every probe's inputs, drawn before any criterion runs, so they are the same whatever fails first
    # (the hand-out's recorded expectations are keyed by them): (batch, seq_len, input_size) each.
    shapes = {"defaults": (5, 7, 1), "other sizes": (4, 9, 3), "one step": (3, 1, 2), "long": (2, 40, 2),
              "order": (1, 3, 1)}
    inputs = {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}

    def probe(init, name):
        """The student's model built under the seed, then run on a batch and on each of its rows with the
        lesson's weights loaded: (inputs, the worker's answer, the lesson's expectation)."""
        X = inputs[name]
        rows = [X[i : i + 1] for i in range(X.shape[0])]
        expected = lesson_expectation(ctx, cls_name, init, seed, [X])
        answer = ctx.op("model", cls=cls_name, init=init, seed=seed, inputs=[arg(X, "tensor")] +
                        [arg(r, "tensor") for r in rows], load=[arg(p) for p in expected["params"]])
        return X, answer, expected

    def structure(answer, input_size, hidden_size):
        mismatch = layer_mismatch(answer["layers"], cls_name, layer, input_size, hidden_size)
        if mismatch:
            raise Unmet(mismatch)

    def outputs(X, answer, expected, init):
        batch = X.shape[0]
        out = need_array(answer["outputs"][0], "model(x)", kind="tensor", dtype="float32", shape=(batch, 1))
        params = [need_array(p[1], "parameter") for p in answer["params"]]
        for i in range(batch):
            row = need_array(answer["outputs"][1 + i], f"model(x[{i}:{i + 1}])", shape=(1, 1))
            if not np.allclose(row, out[i : i + 1], atol=tol, rtol=tol):
                raise Unmet(f"model(x)[{i}] = {out[i, 0]:.5g} but model(x[{i}:{i + 1}]) = {row[0, 0]:.5g}: "
                            "rows of a batch must not affect each other (batch_first=True?)")
        if not same_shapes(params, expected["params"]):
            raise Unmet(f"the parameters do not match nn.{layer}({init.get('input_size', 1)}, "
                        f"{init.get('hidden_size', 32)}) followed by nn.Linear; create the {layer} first")
        lesson = expected["outputs"][0]
        if not np.allclose(out, lesson, atol=tol, rtol=tol):
            mistake = named_mistake(expected["mistakes"][0], out)
            if mistake:
                raise Unmet(f"the output {mistake}")
            raise Unmet(f"with the same weights the output should be {lesson[0, 0]:.5g} for row 0, "
                        f"got {out[0, 0]:.5g}: feed the last time step's hidden state to the Linear layer")

    def defaults():
        X, answer, expected = probe({}, "defaults")
        structure(answer, 1, 32)
        outputs(X, answer, expected, {})

    def other_sizes():
        init = {"input_size": 3, "hidden_size": 5}
        X, answer, expected = probe(init, "other sizes")
        structure(answer, 3, 5)
        outputs(X, answer, expected, init)

    def one_step_and_long():
        init = {"input_size": 2, "hidden_size": 4}
        for name in ("one step", "long"):
            X, answer, expected = probe(init, name)
            outputs(X, answer, expected, init)

    def initialisation_order():
        _, answer, expected = probe({}, "order")
        for (name, got), lesson in zip(answer["params"], expected["params"]):
            if not np.array_equal(need_array(got, name), lesson):
                raise Unmet(f"under torch.manual_seed the weights differ from the lesson's; create "
                            f"the {layer} before the Linear layer and nothing else with random weights")

    criteria.run(f"default {cls_name}(): nn.{layer}(1, 32, batch_first=True) then Linear(32, 1)", defaults)
    criteria.run("input_size=3, hidden_size=5: shapes, batch invariance, outputs", other_sizes)
    criteria.run("sequences of length 1 and 40", one_step_and_long)
    criteria.run("layers created in the lesson's order (same weights under a seed)", initialisation_order)
    return criteria.outcome()


@item("lstm_forecaster", settings=ForecasterSettings, name="LSTMForecaster", points=9,
      functions=("LSTMForecaster",), after="Step 4")
def grade_lstm_forecaster(ctx):
    return grade_forecaster(ctx, "lstm_forecaster")
