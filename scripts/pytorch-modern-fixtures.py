#!/usr/bin/env python3
"""PyTorch float64 references for the modern cells (fixtures/pytorch-modern/*.json).

PyTorch has no minGRU, minLSTM, LRU or IndRNN module, so each is written here from its paper's
equations, as a step loop over float64 tensors with autograd (nothing in it comes from this
repository's TypeScript):

- minGRU (Feng et al. 2024):  z_t = sigmoid(W_zx x_t + b_z), h~_t = W_hx x_t + b_h,
  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
- minLSTM (Feng et al. 2024): f_t = sigmoid(W_fx x_t + b_f), i_t = sigmoid(W_ix x_t + b_i),
  h~_t = W_hx x_t + b_h, f'_t = f_t / (f_t + i_t), i'_t = i_t / (f_t + i_t),
  h_t = f'_t * h_{t-1} + i'_t * h~_t
- LRU (Orvieto et al. 2023): lambda = exp(-exp(nu_log) + i exp(theta_log)), gamma = exp(gamma_log),
  s_t = lambda * s_{t-1} + gamma * ((B_re + i B_im) x_t), h_t = Re((C_re + i C_im) s_t) + D x_t,
  in complex128; the state c_t = [Re s_t, Im s_t]
- IndRNN (Li et al. 2018): h_t = sigma(W_hx x_t + u_h * h_{t-1} + b_h), sigma ReLU or the identity

As a second, independent check the script computes minGRU and minLSTM again in the paper's
parallel (log-space) form, torch.logcumsumexp over log|.| of the positive and negative terms,
and the LRU and the linear IndRNN in closed form (s_t = sum_k a^(t-k) b_k + a^t s_0); it stops if
either differs from the loop by more than 1e-10.

A file holds the parameters by our symbols (W_zx: [units, inputSize], ...), an input x, the
initial state h0 (and c0), the outputs at every step, the final state h_T (and c_T), and the
gradients of L = sum(outputs*R) + sum(h_T*S) (+ sum(c_T*U)) with respect to every parameter, x, h0
(and c0). Seeded: a rerun with the same torch writes the same bytes, laid out as prettier would.

Usage: /usr/bin/python3 scripts/pytorch-modern-fixtures.py [OUT_DIR]  (default: fixtures/pytorch-modern)
"""

import importlib.util
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "fixtures", "pytorch-modern")
BATCH, TIME, INPUT, HIDDEN = 3, 7, 5, 4
# name -> (cell, activation, seed)
FIXTURES = {
    "mingru": ("mingru", "linear", 1601),
    "minlstm": ("minlstm", "linear", 1602),
    "lru": ("lru", "linear", 1603),
    "indrnn-relu": ("indrnn", "relu", 1604),
    "indrnn-linear": ("indrnn", "linear", 1605),
}


def json_writer():
    """scripts/pytorch-fixtures.py's JSON printer (prettier's layout), loaded from that file."""
    spec = importlib.util.spec_from_file_location("pytorch_fixtures", os.path.join(HERE, "pytorch-fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.to_json, module.nested


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def parameters(cell):
    """Initial parameters by symbol (the papers' initialisations, seeded by the caller)."""
    H, I = HIDDEN, INPUT
    if cell in ("mingru", "minlstm"):
        gates = "zh" if cell == "mingru" else "fih"
        p = {}
        for k in gates:
            p[f"W_{k}x"] = randn(H, I) / math.sqrt(I)
            p[f"b_{k}"] = 0.5 * randn(H)
        return p
    if cell == "indrnn":
        return {"W_hx": randn(H, I) / math.sqrt(I), "b_h": 0.5 * randn(H), "u_h": torch.rand(H, dtype=torch.float64)}
    n = H // 2
    r2 = torch.rand(n, dtype=torch.float64) * (0.999**2 - 0.9**2) + 0.9**2
    return {
        "nu_log": torch.log(-0.5 * torch.log(r2)),
        "theta_log": torch.log(2 * math.pi * torch.rand(n, dtype=torch.float64)),
        "gamma_log": 0.5 * torch.log(1 - r2),
        "B_re": randn(n, I) / math.sqrt(2 * I),
        "B_im": randn(n, I) / math.sqrt(2 * I),
        "C_re": randn(H, n) / math.sqrt(n),
        "C_im": randn(H, n) / math.sqrt(n),
        "D": randn(H, I) / math.sqrt(I),
    }


def linear(W, b, x):
    return x @ W.T + b


def lru_lambda(p):
    return torch.exp(torch.complex(-torch.exp(p["nu_log"]), torch.exp(p["theta_log"])))


def loop(cell, activation, p, x, h0, c0):
    """The step loop: outputs [batch, time, H], h_T, c_T (LRU) or None."""
    outs, h = [], h0
    s = torch.complex(*c0.chunk(2, dim=1)) if cell == "lru" else None
    for t in range(x.shape[1]):
        x_t = x[:, t]
        if cell == "mingru":
            z = torch.sigmoid(linear(p["W_zx"], p["b_z"], x_t))
            h = (1 - z) * h + z * linear(p["W_hx"], p["b_h"], x_t)
        elif cell == "minlstm":
            f = torch.sigmoid(linear(p["W_fx"], p["b_f"], x_t))
            i = torch.sigmoid(linear(p["W_ix"], p["b_i"], x_t))
            h = f / (f + i) * h + i / (f + i) * linear(p["W_hx"], p["b_h"], x_t)
        elif cell == "indrnn":
            pre = linear(p["W_hx"], p["b_h"], x_t) + p["u_h"] * h
            h = torch.relu(pre) if activation == "relu" else pre
        else:
            B = torch.complex(p["B_re"], p["B_im"])
            C = torch.complex(p["C_re"], p["C_im"])
            s = lru_lambda(p) * s + torch.exp(p["gamma_log"]) * (x_t.to(B.dtype) @ B.T)
            h = (s @ C.T).real + x_t @ p["D"].T
        outs.append(h)
    c_T = torch.cat([s.real, s.imag], dim=1) if cell == "lru" else None
    return torch.stack(outs, dim=1), h, c_T


def parallel(cell, p, x, h0, c0):
    """The same outputs without a step loop: log-space scan (minGRU, minLSTM) or closed form."""
    if cell in ("mingru", "minlstm"):
        if cell == "mingru":
            k = linear(p["W_zx"], p["b_z"], x)
            log_a, log_i = -torch.nn.functional.softplus(k), -torch.nn.functional.softplus(-k)
        else:
            diff = torch.nn.functional.softplus(-linear(p["W_fx"], p["b_f"], x)) - torch.nn.functional.softplus(
                -linear(p["W_ix"], p["b_i"], x)
            )
            log_a, log_i = -torch.nn.functional.softplus(diff), -torch.nn.functional.softplus(-diff)
        # Feng et al.'s log-space scan, h_t = exp(a*_t) (h_0 + sum_{k<=t} exp(log b_k - a*_k)), with
        # log|.| and the positive and negative terms summed apart (h~ and h_0 may be negative).
        v = torch.cat([h0.unsqueeze(1), torch.exp(log_i) * linear(p["W_hx"], p["b_h"], x)], dim=1)
        a_star = torch.cat([torch.zeros_like(h0).unsqueeze(1), torch.cumsum(log_a, dim=1)], dim=1)
        log_v = torch.log(v.abs()) - a_star
        none = torch.full_like(v, -math.inf)
        pos = torch.logcumsumexp(torch.where(v > 0, log_v, none), dim=1)
        neg = torch.logcumsumexp(torch.where(v < 0, log_v, none), dim=1)
        return (torch.exp(a_star + pos) - torch.exp(a_star + neg))[:, 1:]
    if cell == "indrnn":
        b, a, s0 = linear(p["W_hx"], p["b_h"], x), p["u_h"], h0
    else:
        B = torch.complex(p["B_re"], p["B_im"])
        b = torch.exp(p["gamma_log"]) * (x.to(B.dtype) @ B.T)
        a, s0 = lru_lambda(p), torch.complex(*c0.chunk(2, dim=1))
    T = x.shape[1]  # s_k = sum_{j <= k} a^(k-j) b_j + a^k s_0
    s = torch.stack([sum(a ** (k - j) * b[:, j - 1] for j in range(1, k + 1)) + a**k * s0 for k in range(1, T + 1)], 1)
    if cell == "indrnn":
        return s
    C = torch.complex(p["C_re"], p["C_im"])
    return (s @ C.T).real + x @ p["D"].T


def fixture(name, cell, activation, seed):
    torch.manual_seed(seed)
    p = {k: v.requires_grad_() for k, v in parameters(cell).items()}
    x = randn(BATCH, TIME, INPUT).requires_grad_()
    h0 = randn(BATCH, HIDDEN).requires_grad_()
    c0 = randn(BATCH, HIDDEN).requires_grad_() if cell == "lru" else None
    R, S = randn(BATCH, TIME, HIDDEN), randn(BATCH, HIDDEN)
    U = randn(BATCH, HIDDEN) if cell == "lru" else None

    outputs, h_T, c_T = loop(cell, activation, p, x, h0, c0)
    if activation == "linear":
        with torch.no_grad():
            gap = (parallel(cell, p, x, h0, c0) - outputs).abs().max().item()
        if gap > 1e-10:
            raise SystemExit(f"{name}: the parallel form differs from the step loop by {gap:.2e}")
    else:
        with torch.no_grad():
            margin, h = math.inf, h0
            for t in range(TIME):
                pre = linear(p["W_hx"], p["b_h"], x[:, t]) + p["u_h"] * h
                margin, h = min(margin, pre.abs().min().item()), torch.relu(pre)
        if margin < 1e-3:
            raise SystemExit(f"{name}: a pre-activation is {margin:.2e} from 0; pick another seed")
    loss = (outputs * R).sum() + (h_T * S).sum() + ((c_T * U).sum() if c_T is not None else 0)
    loss.backward()

    to_json, nested = json_writer()
    out = {
        "cell": cell,
        "activation": activation,
        "shapes": {"batch": BATCH, "time": TIME, "input": INPUT, "hidden": HIDDEN},
        "loss": "L = sum(outputs*R) + sum(h_T*S)" + (" + sum(c_T*U)" if c_T is not None else ""),
        "params": {k: nested(v) for k, v in p.items()},
        "x": nested(x),
        "h0": nested(h0),
        "R": nested(R),
        "S": nested(S),
        "outputs": nested(outputs),
        "h_T": nested(h_T),
        "loss_value": loss.item(),
        "grads": {k: nested(v.grad) for k, v in p.items()},
        "grad_x": nested(x.grad),
        # The LRU's h_{t-1} feeds nothing (its recurrence is on c): zeros, as autograd leaves none.
        "grad_h0": nested(h0.grad if h0.grad is not None else torch.zeros_like(h0)),
    }
    if c_T is not None:
        out.update({"c0": nested(c0), "U": nested(U), "c_T": nested(c_T), "grad_c0": nested(c0.grad)})
    return to_json(out)


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out_dir = argv[1] if len(argv) == 2 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name, (cell, activation, seed) in FIXTURES.items():
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(fixture(name, cell, activation, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
