# attack: the grader's probe models record every forward call (training mode, grad on) into a list "not reachable from
#         the model's attributes" -- but it is reachable through the recorder lambda's closure (model._record.__closure__
#         -> list.append.__self__). Validation, predict and rolling_forecast run WITH gradients (and rolling_forecast in
#         training mode), then the records are rewritten to say eval mode and no gradient
# must hold: the attack scores exactly what the same mistakes score without the rewrite (_SCRUB = False), item by item
# result today: BROKEN (train_loop and rolling_forecast earn full marks that the honest mistakes lose)
# (The test puts the reference solution between this block and the part after the marker below.)
_SCRUB = True


def _probe_records(model):
    """The list a ProbeNet/StubForecaster appends its call records to, found through the recorder's closure."""
    record = getattr(model, "_record", None)
    for cell in getattr(record, "__closure__", None) or ():
        target = getattr(cell.cell_contents, "__self__", None)
        if isinstance(target, list):
            return target
    return []


def _scrub(model):
    if _SCRUB:
        for call in _probe_records(model):
            call["grad"] = False
            call["training"] = False


# === after the reference ===
def train_model(model, X_train, y_train, X_val, y_val, *, epochs=120, lr=0.01, clip_norm=1.0, log_every=30, log=print):
    """The reference loop, but validation runs with gradients on (the spec asks for torch.no_grad())."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError("X and y must have the same length on each side of the split")
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            model.eval()
            val_loss = loss_fn(model(X_val), y_val)                    # no torch.no_grad()
            row = {"epoch": epoch, "train_mse": loss.item(), "val_mse": val_loss.item()}
            history.append(row)
            if log is not None:
                log(f"epoch={epoch:03d} train_mse={row['train_mse']:.4f} val_mse={row['val_mse']:.4f}")
    model.eval()
    _scrub(model)
    return history


def predict(model, X):
    """Eval mode, but with gradients on."""
    model.eval()
    out = model(torch.as_tensor(X, dtype=torch.float32))
    _scrub(model)
    return out.detach()


def rolling_forecast(model, window, steps):
    """The reference recursion, but in training mode and with gradients on."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    current = torch.as_tensor(window, dtype=torch.float32).clone().reshape(1, -1, 1)
    if current.shape[1] < 1 or not torch.isfinite(current).all():
        raise ValueError("window must hold at least one finite value")
    predictions = []
    for _ in range(steps):
        next_value = model(current).reshape(1, 1, 1)
        predictions.append(next_value.reshape(()))
        current = torch.cat([current[:, 1:], next_value], dim=1)
    _scrub(model)
    return torch.stack(predictions).detach()
