"""The probe models: small torch models the grader builds and the worker hands to student code.

ProbeNet checks ``train_model`` and ``predict`` (a tanh recurrence with dropout,
so train and eval mode differ); StubForecaster, with a closed-form rule, checks rolling
forecasts. Both processes build them from this one module, so the weights the
grader initialises are the weights the worker loads.

Imports only the standard library (torch lazily, so importing this needs no torch).
"""

# What a probe adds to its output when it runs in training mode (StubForecaster) or, in eval
# mode, with gradients on (both probes): large enough that no tolerance hides it.
GRADIENT_MARK, TRAINING_MARK = 0.5, 1000.0


def _torch_modules():
    import torch
    from torch import nn

    class ProbeNet(nn.Module):
        """A small model for checking ``train_model``: a plain tanh recurrence written out step by
        step (not the lesson's forecaster: the hand-out ships none), dropout, then a linear head.
        Dropout makes train and eval mode give different outputs. ``calls`` (a list kept by the
        caller, not reachable from the model's attributes) receives one record per forward call."""

        def __init__(self, input_size=1, hidden_size=6, dropout=0.25, calls=None):
            super().__init__()
            self.read = nn.Linear(input_size, hidden_size)
            self.carry = nn.Linear(hidden_size, hidden_size, bias=False)
            self.fc = nn.Linear(in_features=hidden_size, out_features=1)
            # Dropout masks come from the model's own counter, not the global generator: a loop that
            # draws random numbers of its own (a DataLoader does, even unshuffled) stays comparable.
            # The counter is a buffer, so it is part of the model's state like its weights.
            self.dropout = dropout
            self.register_buffer("mask_draws", torch.zeros((), dtype=torch.int64))
            record = calls.append if calls is not None else (lambda _: None)
            self._record = lambda x: record({"training": self.training, "grad": torch.is_grad_enabled(),
                                             "rows": int(x.shape[0])})

        def forward(self, x):
            self._record(x)
            last = torch.zeros(x.shape[0], self.carry.in_features)          # (batch, hidden)
            for t in range(x.shape[1]):
                last = torch.tanh(self.read(x[:, t, :]) + self.carry(last))
            if self.training and self.dropout > 0:
                masks = torch.Generator().manual_seed(6_4_4_000 + int(self.mask_draws))
                self.mask_draws += 1
                keep = torch.rand(last.shape, generator=masks) >= self.dropout
                last = last * keep / (1 - self.dropout)
            out = self.fc(last)                               # (batch, 1)
            if not self.training and torch.is_grad_enabled():
                # Evaluating with gradients on shows in the numbers the grader compares, so the
                # verdict never rests on call records a submission can reach and rewrite.
                out = out + GRADIENT_MARK
            return out

    class StubForecaster(nn.Module):
        """A model with a closed-form rule, for checking rolling forecasts.

        rule "last_plus": next = last + step; "first": next = the window's first
        value; "mean": next = the window's mean. ``calls`` (kept by the caller)
        receives every input it sees.
        """

        def __init__(self, rule, step=1.0, calls=None):
            super().__init__()
            self.rule, self.step = rule, step
            self.anchor = nn.Parameter(torch.zeros(1))
            record = calls.append if calls is not None else (lambda _: None)
            self._record = lambda x: record({"training": self.training, "grad": torch.is_grad_enabled(),
                                             "shape": list(x.shape),
                                             "input": x.detach().clone().reshape(-1).tolist()})

        def forward(self, x):
            self._record(x)
            if self.rule == "last_plus":
                out = x[:, -1, :1] + self.step
            elif self.rule == "first":
                out = x[:, 0, :1]
            else:
                out = x[:, :, :1].mean(dim=1)
            # Training mode or gradients move the forecast itself (see GRADIENT_MARK).
            out = out + TRAINING_MARK * self.training + GRADIENT_MARK * torch.is_grad_enabled()
            return out + 0 * self.anchor                      # (batch, 1)

    return ProbeNet, StubForecaster


def probe_models():
    """(ProbeNet, StubForecaster), defined lazily so importing this file needs no torch."""
    global _PROBES
    if _PROBES is None:
        _PROBES = _torch_modules()
    return _PROBES


_PROBES = None


def load_params(model, arrays):
    """Copy numpy arrays into a model's parameters, in registration order."""
    import torch

    with torch.no_grad():
        for param, array in zip(model.parameters(), arrays):
            param.copy_(torch.from_numpy(array))
