"""PyTorch on one CPU thread, driven by bench/torch.ts one request at a time (so that its runs
alternate with ours in the same bench run).

Reads JSON lines on stdin and answers one JSON line each:
  {"setup": {"cell": "lstm", "batch": 32, "time": 50, "input": 16, "units": 128, "output": 1}}
      -> {"ok": true}   builds nn.LSTM/GRU/RNN(tanh) + nn.Linear, Adam 1e-3, seeded data
  {"run": "train"}   -> {"ms": ..., "cpuMs": ...}  one training step: forward, MSE at every step,
                                                 backward, Adam
  {"run": "forward"} -> {"ms": ..., "cpuMs": ...}  one forward pass without gradients
  {"stream": 1000, "cell": "lstm", "input": 1, "units": 128, "output": 1}
      -> {"us": ..., "cpuUs": ...}  microseconds per step (wall-clock, CPU time) of a cell
                       (nn.LSTMCell/GRUCell/RNNCell) plus the output layer, batch 1, state
                       carried, without gradients
Times are measured here, without the pipe: wall-clock (time.perf_counter) and CPU time of this
process (time.process_time; on a shared machine the less disturbed of the two).
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

LAYERS = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELLS = {"elman": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}

state = {}


def setup(s):
    torch.manual_seed(7)
    rnn = LAYERS[s["cell"]](s["input"], s["units"], batch_first=True)
    out = torch.nn.Linear(s["units"], s["output"])
    params = list(rnn.parameters()) + list(out.parameters())
    state.update(
        rnn=rnn,
        out=out,
        optimizer=torch.optim.Adam(params, lr=1e-3),
        x=torch.randn(s["batch"], s["time"], s["input"]),
        y=torch.randn(s["batch"], s["time"], s["output"]),
    )


def train():
    rnn, out, optimizer = state["rnn"], state["out"], state["optimizer"]
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(out(rnn(state["x"])[0]), state["y"])
    loss.backward()
    optimizer.step()
    return loss.item()


def forward():
    with torch.no_grad():
        return state["out"](state["rnn"](state["x"])[0]).sum().item()


def stream(r):
    torch.manual_seed(7)
    cell = CELLS[r["cell"]](r["input"], r["units"])
    out = torch.nn.Linear(r["units"], r["output"])
    h = torch.zeros(1, r["units"])
    c = torch.zeros(1, r["units"])
    x = torch.full((1, r["input"]), 0.5)
    with torch.no_grad():
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(r["stream"]):
            if r["cell"] == "lstm":
                h, c = cell(x, (h, c))
            else:
                h = cell(x, h)
            y = out(h)
        float(y[0, 0])
        return {
            "us": (time.perf_counter() - start) / r["stream"] * 1e6,
            "cpuUs": (time.process_time() - cpu) / r["stream"] * 1e6,
        }


for line in sys.stdin:
    request = json.loads(line)
    if "setup" in request:
        setup(request["setup"])
        answer = {"ok": True}
    elif "stream" in request:
        answer = stream(request)
    else:
        run = {"train": train, "forward": forward}[request["run"]]
        start, cpu = time.perf_counter(), time.process_time()
        run()
        answer = {"ms": (time.perf_counter() - start) * 1000, "cpuMs": (time.process_time() - cpu) * 1000}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
