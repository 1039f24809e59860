#!/usr/bin/env python3
"""The PyTorch float64 reference fixtures (fixtures/pytorch/*.json), written from scratch.

One file per cell: rnn-tanh.json and rnn-relu.json (nn.RNN), lstm.json (nn.LSTM), gru.json
(nn.GRU), each one layer, batch_first, float64. A file holds the cell's state dict (PyTorch
layout), an input x, the initial state h0 (and c0), the outputs at every step, the final
state h_T (and c_T), and the gradients of the loss

    L = sum(outputs * R) + sum(h_T * S)  (+ sum(c_T * U) for the LSTM)

with respect to every parameter, x, h0 (and c0); R, S, U are fixed random tensors stored in
the file. Every file has its own seed, so a rerun with the same torch writes the same bytes.
The JSON is laid out as prettier lays it out (printWidth 120), so `prettier --check .` passes.

Usage: /usr/bin/python3 scripts/pytorch-fixtures.py [OUT_DIR]   (default: fixtures/pytorch)
Needs only torch (Debian: apt-get install python3-torch) and the standard library.
"""

import json
import math
import os
import sys

import torch

BATCH, TIME, INPUT, HIDDEN = 3, 7, 5, 4
LAYOUT = (
    "pytorch: weight_ih [gates*H, I], weight_hh [gates*H, H], bias_ih, bias_hh; "
    "gate order LSTM i,f,g,o; GRU r,z,n with n = tanh(W_in x + b_in + r*(W_hn h + b_hn))"
)
PRINT_WIDTH = 120
# name -> (cell, activation, seed)
FIXTURES = {
    "rnn-tanh": ("rnn", "tanh", 101),
    "rnn-relu": ("rnn", "relu", 202),
    "lstm": ("lstm", None, 303),
    "gru": ("gru", None, 404),
}
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pytorch")


def nested(t):
    """A float64 tensor as nested lists of Python floats."""
    return t.detach().to(torch.float64).tolist()


def module_for(cell, activation):
    common = dict(
        input_size=INPUT, hidden_size=HIDDEN, num_layers=1, bias=True, batch_first=True, dtype=torch.float64
    )
    if cell == "rnn":
        return torch.nn.RNN(nonlinearity=activation, **common)
    if cell == "lstm":
        return torch.nn.LSTM(**common)
    return torch.nn.GRU(**common)


def relu_margin(module, x, h0):
    """The smallest |pre-activation| of an Elman ReLU run: far from 0, float32 takes the same branch."""
    w_ih, w_hh, b_ih, b_hh = (p.detach() for p in module.parameters())
    h, smallest = h0, math.inf
    for t in range(TIME):
        pre = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        smallest = min(smallest, pre.abs().min().item())
        h = torch.relu(pre)
    return smallest


def fixture(cell, activation, seed):
    """The reference for one cell, as a dict in the files' key order."""
    torch.manual_seed(seed)
    module = module_for(cell, activation)  # PyTorch's own initialisation, U(-1/sqrt(H), 1/sqrt(H))
    lstm = cell == "lstm"
    randn = lambda *shape: torch.randn(*shape, dtype=torch.float64)  # noqa: E731
    x = randn(BATCH, TIME, INPUT).requires_grad_()
    h0 = randn(BATCH, HIDDEN).requires_grad_()
    c0 = randn(BATCH, HIDDEN).requires_grad_() if lstm else None
    R = randn(BATCH, TIME, HIDDEN)
    S = randn(BATCH, HIDDEN)
    U = randn(BATCH, HIDDEN) if lstm else None
    if activation == "relu":
        margin = relu_margin(module, x.detach(), h0.detach())
        if margin < 1e-3:
            raise SystemExit(f"rnn-relu: a pre-activation is {margin:.2e} from 0; pick another seed")

    if lstm:
        outputs, (h_n, c_n) = module(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
        h_T, c_T = h_n[0], c_n[0]
    else:
        outputs, h_n = module(x, h0.unsqueeze(0))
        h_T, c_T = h_n[0], None
    loss = (outputs * R).sum() + (h_T * S).sum()
    if lstm:
        loss = loss + (c_T * U).sum()
    loss.backward()

    out = {
        "cell": cell,
        "activation": activation,
        "shapes": {"batch": BATCH, "time": TIME, "input": INPUT, "hidden": HIDDEN},
        "layout": LAYOUT,
        "loss": "L = sum(outputs*R) + sum(h_T*S)" + (" + sum(c_T*U)" if lstm else ""),
        "params": {name: nested(p) for name, p in module.named_parameters()},
        "x": nested(x),
        "h0": nested(h0),
        "R": nested(R),
        "S": nested(S),
        "outputs": nested(outputs),
        "h_T": nested(h_T),
        "loss_value": loss.item(),
        "grads": {name: nested(p.grad) for name, p in module.named_parameters()},
        "grad_x": nested(x.grad),
        "grad_h0": nested(h0.grad),
    }
    if lstm:
        out.update({"c0": nested(c0), "U": nested(U), "c_T": nested(c_T), "grad_c0": nested(c0.grad)})
    return out


# --- JSON as prettier prints it -------------------------------------------------------------


def number(v):
    """A float as JSON: Python's shortest round-trip repr, exponent without '+' or leading zeros."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(v)
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"not finite: {v}")
    s = repr(v)
    if "e" in s:
        mantissa, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        s = f"{mantissa}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return s


def flat(v):
    """A scalar or an array of scalars on one line, or None."""
    if isinstance(v, list):
        if any(isinstance(e, (list, dict)) for e in v):
            return None
        return "[" + ", ".join(flat(e) for e in v) + "]"
    if isinstance(v, dict):
        return None
    return json.dumps(v) if v is None or isinstance(v, str) else number(v)


def emit(v, indent, prefix, suffix, lines):
    """Appends `v` (starting after `prefix`, followed by `suffix`) at `indent` spaces."""
    pad = " " * indent
    one = flat(v)
    fits = one is not None and len(pad) + len(prefix) + len(one) + len(suffix) <= PRINT_WIDTH
    if fits or not isinstance(v, (list, dict)):  # a scalar stays on its line, however long
        lines.append(pad + prefix + one + suffix)
        return
    inner = " " * (indent + 2)
    if isinstance(v, dict):
        lines.append(pad + prefix + "{")
        items = list(v.items())
        for i, (k, e) in enumerate(items):
            emit(e, indent + 2, json.dumps(k) + ": ", "," if i < len(items) - 1 else "", lines)
        lines.append(pad + "}" + suffix)
    elif all(isinstance(e, list) for e in v):
        lines.append(pad + prefix + "[")
        for i, e in enumerate(v):
            emit(e, indent + 2, "", "," if i < len(v) - 1 else "", lines)
        lines.append(pad + "]" + suffix)
    else:  # numbers that do not fit on one line: filled, as many to a line as fit
        lines.append(pad + prefix + "[")
        line = ""
        for i, e in enumerate(v):
            item = number(e) + ("," if i < len(v) - 1 else "")
            if line and len(inner) + len(line) + 1 + len(item) <= PRINT_WIDTH:
                line += " " + item
            else:
                if line:
                    lines.append(inner + line)
                line = item
        lines.append(inner + line)
        lines.append(pad + "]" + suffix)


def to_json(value):
    lines = []
    emit(value, 0, "", "", lines)
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out_dir = argv[1] if len(argv) == 2 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)  # one summation order, whatever the machine
    for name, (cell, activation, seed) in FIXTURES.items():
        text = to_json(fixture(cell, activation, seed))
        path = os.path.join(out_dir, f"{name}.json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(path)} (torch {torch.__version__}, seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
