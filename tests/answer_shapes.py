"""Answer shapes: code that does what a stub asks, whatever its names and formatting.

tests/test_release.py's answer-key detector finds the reference's own statements;
this finds the same answers written any other way, by their shape in the syntax
tree:

- a recurrent forecaster: ``nn.LSTM`` or ``nn.GRU`` named (called, or looked up
  by name) in a file that also reads a layer's output at the last time step
  (``out[:, -1...]``);
- a windowing loop: windows ``x[i : i + w]`` collected over a loop variable ``i``
  (a comprehension, or ``append`` in a ``for``), or numpy's ``sliding_window_view`` /
  torch's ``unfold``;
- clipping before a step: ``clip_grad_norm_(...)`` called before ``.step()`` in one
  function.

Code in strings and comments is not code, so feedback that names these calls is fine.
"""

import ast

RECURRENT = {"LSTM", "GRU"}
WINDOWING_CALLS = {"sliding_window_view", "unfold"}


def _name(func):
    """The last name of a called thing: ``nn.LSTM`` -> "LSTM", ``clip`` -> "clip"."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_minus_one(node):
    return (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and node.operand.value == 1) or (isinstance(node, ast.Constant) and node.value == -1)


def _computed_names(tree):
    """Names assigned from a call's result (``out, _ = self.lstm(x)``): a layer's output, not an input."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(n, ast.Call) for n in ast.walk(node.value)):
            names |= set().union(*(_targets(t) for t in node.targets))
    return names


def _last_step_reads(tree):
    """Lines of every ``out[:, -1...]`` on a layer's output (a name assigned from a call, or a call's
    result itself): a full slice over the batch, then the last time step. An input's last value
    (``x[:, -1]``, the naive forecast) is not a recurrent read."""
    computed, found = _computed_names(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) >= 2:
            first, second = node.slice.elts[:2]
            output = (isinstance(node.value, ast.Name) and node.value.id in computed) or \
                any(isinstance(n, ast.Call) for n in ast.walk(node.value))
            if output and isinstance(first, ast.Slice) and first.lower is None and first.upper is None \
                    and _is_minus_one(second):
                found.append(node.lineno)
    return found


def _targets(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _window_slices(node, loops):
    """Lines of ``x[i : i + w]`` inside ``node``: ``i`` one of ``loops``, ``w`` anything but a constant
    (``x[i : i + 1]`` is one row of a batch, not a window)."""
    found = []
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Subscript):
            continue
        for part in (sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [sub.slice]):
            if isinstance(part, ast.Slice) and isinstance(part.lower, ast.Name) and part.lower.id in loops \
                    and isinstance(part.upper, ast.BinOp) and isinstance(part.upper.op, ast.Add) \
                    and part.lower.id in _targets(part.upper) and not isinstance(part.upper.right, ast.Constant):
                found.append(sub.lineno)
    return found


def _windowing(tree):
    """Lines where windows are collected: ``[x[i : i + w] for i in ...]``, or ``.append(x[i : i + w])``
    in a ``for i`` loop; and numpy's or torch's windowing calls. A loop that only compares one
    window at a time (a check) is not an answer's shape."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in WINDOWING_CALLS:
            found.append(node.lineno)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            loops = set().union(*(_targets(g.target) for g in node.generators))
            found += _window_slices(node.elt, loops)
        if isinstance(node, ast.For):
            loops = _targets(node.target)
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and _name(call.func) == "append":
                    found += [line for arg in call.args for line in _window_slices(arg, loops)]
    return found


def _clips_before_step(tree):
    """Lines of every ``clip_grad_norm_`` call followed by a ``.step()`` call in the same function."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = [(n.lineno, _name(n.func)) for n in ast.walk(function) if isinstance(n, ast.Call)]
        clips = [line for line, name in calls if name == "clip_grad_norm_"]
        steps = [line for line, name in calls if name == "step"]
        found += [line for line in clips if any(step > line for step in steps)]
    return found


def _nn_by_name(node):
    """``getattr(torch.nn, layer)`` or ``getattr(nn, layer)``: a layer type chosen by a variable."""
    return isinstance(node, ast.Call) and _name(node.func) == "getattr" and node.args and \
        _name(node.args[0]) == "nn"


def answer_shapes(source):
    """[(shape, line)] for every answer shape in ``source`` (Python text); [] when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    shapes = []
    # nn.LSTM(...) called, or named at all (getattr(torch.nn, "LSTM"), a layer type held in a variable)
    builds_recurrent = any((isinstance(n, ast.Attribute) and n.attr in RECURRENT) or
                           (isinstance(n, ast.Constant) and n.value in RECURRENT) or _nn_by_name(n)
                           for n in ast.walk(tree))
    if builds_recurrent:
        shapes += [("recurrent layer read at the last step", line) for line in _last_step_reads(tree)]
    shapes += [("windowing loop", line) for line in _windowing(tree)]
    shapes += [("clip before step", line) for line in _clips_before_step(tree)]
    return sorted(set(shapes), key=lambda s: (s[1], s[0]))


def find_answer_shapes(folder):
    """(file, shape, line) for every answer shape in the Python files and notebook code cells under
    ``folder`` (a notebook's line is counted in its cells' joined code)."""
    import json
    from pathlib import Path

    found = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix == ".py":
            source = path.read_text(errors="replace")
        elif path.suffix == ".ipynb":
            cells = json.loads(path.read_text()).get("cells", [])
            source = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
            source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        else:
            continue
        found += [(path.relative_to(folder).as_posix(), shape, line) for shape, line in answer_shapes(source)]
    return found
