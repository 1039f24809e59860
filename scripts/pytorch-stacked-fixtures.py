#!/usr/bin/env python3
"""PyTorch float64 references for stacked, bidirectional networks (fixtures/pytorch-stacked/*.json).

One file per module: an nn.LSTM, nn.GRU or nn.RNN with num_layers=2, bidirectional=True,
batch_first=True, under the name `rnn`, followed by an nn.Linear head `fc` on every step:

    class Net(nn.Module):
        def forward(self, x, h0):
            out, h_n = self.rnn(x, h0)
            return self.fc(out), out, h_n

The files `lstm`, `gru` have biases; `rnn-nobias` (tanh) and `lstm-nobias` are built with
bias=False. A file holds the state dict (`params`: `rnn.weight_ih_l0`, ..., `fc.weight`,
`fc.bias`), an input x [batch, time, input], the initial state h0 (and c0) [layers * 2, batch,
hidden] in PyTorch's order (l0, l0_reverse, l1, l1_reverse), the head's output `y` at every step,
the top layer's `outputs`, the final states h_n (and c_n), and the gradients of

    L = sum(y * R) + sum(h_n * S)  (+ sum(c_n * U) for the LSTM)

with respect to every parameter (`grads`) and x (`grad_x`); R, S, U are stored too. Seeded:
a rerun with the same torch writes the same bytes. The JSON layout is scripts/pytorch-fixtures.py's
(prettier's), imported from it.

Usage: /usr/bin/python3 scripts/pytorch-stacked-fixtures.py [OUT_DIR]   (default: fixtures/pytorch-stacked)
"""

import importlib.util
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "fixtures", "pytorch-stacked")
BATCH, TIME, INPUT, HIDDEN, OUTPUT, LAYERS = 3, 5, 3, 4, 2, 2
# name -> (module, bias, seed)
FIXTURES = {
    "lstm": ("lstm", True, 1301),
    "gru": ("gru", True, 1402),
    "rnn-nobias": ("rnn", False, 1503),
    "lstm-nobias": ("lstm", False, 1604),
}


def single_layer_script():
    """scripts/pytorch-fixtures.py as a module: its JSON writer and tensor-to-list helper."""
    spec = importlib.util.spec_from_file_location("pytorch_fixtures", os.path.join(HERE, "pytorch-fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Net(torch.nn.Module):
    def __init__(self, kind, bias):
        super().__init__()
        common = dict(
            input_size=INPUT,
            hidden_size=HIDDEN,
            num_layers=LAYERS,
            bidirectional=True,
            bias=bias,
            batch_first=True,
            dtype=torch.float64,
        )
        modules = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
        self.rnn = modules[kind](**common)
        self.fc = torch.nn.Linear(2 * HIDDEN, OUTPUT, dtype=torch.float64)

    def forward(self, x, h0):
        out, h_n = self.rnn(x, h0)
        return self.fc(out), out, h_n


def fixture(kind, bias, seed, nested):
    torch.manual_seed(seed)
    net = Net(kind, bias)
    lstm = kind == "lstm"
    randn = lambda *shape: torch.randn(*shape, dtype=torch.float64)  # noqa: E731
    states = 2 * LAYERS
    x = randn(BATCH, TIME, INPUT).requires_grad_()
    h0 = randn(states, BATCH, HIDDEN)
    c0 = randn(states, BATCH, HIDDEN) if lstm else None
    R = randn(BATCH, TIME, OUTPUT)
    S = randn(states, BATCH, HIDDEN)
    U = randn(states, BATCH, HIDDEN) if lstm else None
    y, outputs, h_n = net(x, (h0, c0) if lstm else h0)
    h_n, c_n = h_n if lstm else (h_n, None)
    loss = (y * R).sum() + (h_n * S).sum()
    if lstm:
        loss = loss + (c_n * U).sum()
    loss.backward()
    out = {
        "module": kind,
        "nonlinearity": "tanh" if kind == "rnn" else None,
        "torch_module": f"{type(net.rnn).__name__}({INPUT}, {HIDDEN}, num_layers={LAYERS}, bidirectional=True, "
        f"bias={bias}, batch_first=True) + Linear({2 * HIDDEN}, {OUTPUT})",
        "shapes": {"batch": BATCH, "time": TIME, "input": INPUT, "hidden": HIDDEN, "output": OUTPUT, "layers": LAYERS},
        "loss": "L = sum(y*R) + sum(h_n*S)" + (" + sum(c_n*U)" if lstm else ""),
        "params": {name: nested(p) for name, p in net.named_parameters()},
        "x": nested(x),
        "h0": nested(h0),
        "R": nested(R),
        "S": nested(S),
        "y": nested(y),
        "outputs": nested(outputs),
        "h_n": nested(h_n),
        "loss_value": loss.item(),
        "grads": {name: nested(p.grad) for name, p in net.named_parameters()},
        "grad_x": nested(x.grad),
    }
    if lstm:
        out.update({"c0": nested(c0), "U": nested(U), "c_n": nested(c_n)})
    return out


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out_dir = argv[1] if len(argv) == 2 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)  # one summation order, whatever the machine
    single = single_layer_script()
    for name, (kind, bias, seed) in FIXTURES.items():
        text = single.to_json(fixture(kind, bias, seed, single.nested))
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
