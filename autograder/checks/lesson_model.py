"""The lesson's forecaster, built in the grader (see checks/models.py for why).

A module of its own so that loading the rubric (which imports every check to
read its declaration) does not import torch: the grader loads torch while the
worker starts, not before.
"""

import torch


class LessonForecaster(torch.nn.Module):
    """The spec's forecaster: nn.<layer>(batch_first=True), created first, then nn.Linear(hidden, 1),
    read at the last time step. Created in that order, its weights under a seed are the lesson's."""

    def __init__(self, layer, input_size=1, hidden_size=32):
        super().__init__()
        self.layer_name = layer.lower()                  # "lstm" or "gru", as the lesson names them
        setattr(self, self.layer_name, getattr(torch.nn, layer)(input_size, hidden_size, batch_first=True))
        self.fc = torch.nn.Linear(hidden_size, 1)

    def forward(self, x):
        sequence = getattr(self, self.layer_name)(x)[0]                 # (batch, seq_len, hidden)
        return self.fc(sequence[:, -1, :])
