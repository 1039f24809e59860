#!/usr/bin/env python3
"""Train a network exported by rt.interop.toPyTorch with PyTorch's DistributedDataParallel.

Reads IN.json, written by JavaScript:

    {"kind": "lstm" | "gru" | "rnn", "nonlinearity": "tanh" | "relu" (rnn only),
     "state_dict": rt.interop.toPyTorch(net),           # rnn.weight_ih_l0, ..., fc.weight, fc.bias
     "x": [batch][time][input], "y": [batch][time][output],
     "steps": 20, "lr": 0.1}

builds the module the keys describe (sizes, num_layers, bidirectional and bias read from the
state dict itself), loads the weights with load_state_dict(strict=True), and trains it for
`steps` SGD steps on the mean squared error with DistributedDataParallel: `world_size` processes
(default 2, CPU, gloo backend, on this machine), each on its half of the batch; DDP averages the
gradients, so every step equals a step on the whole batch. Rank 0 writes OUT.json:

    {"state_dict": the trained weights, "y": the trained module's predictions on x,
     "losses": the loss per step, "world_size": 2,
     "max_difference_from_one_process": max |DDP weights - the same training in one process|}

Usage: /usr/bin/python3 scripts/ddp-roundtrip.py IN.json OUT.json [WORLD_SIZE]
Needs torch with torch.distributed and gloo (Debian: apt-get install python3-torch).
"""

import json
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class Net(torch.nn.Module):
    """The recurrent module `rnn` (batch first) and the Linear head `fc` on every step: the document's y_t."""

    def __init__(self, kind, nonlinearity, state_dict):
        super().__init__()
        w = state_dict["rnn.weight_ih_l0"]
        hidden = state_dict["rnn.weight_hh_l0"].shape[1]
        layers = 1 + max(int(k.split("_l")[-1].split("_")[0]) for k in state_dict if k.startswith("rnn."))
        extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        self.rnn = MODULES[kind](
            input_size=w.shape[1],
            hidden_size=hidden,
            num_layers=layers,
            bidirectional="rnn.weight_ih_l0_reverse" in state_dict,
            bias="rnn.bias_ih_l0" in state_dict,
            batch_first=True,
            dtype=torch.float64,
            **extra,
        )
        fc = state_dict["fc.weight"]
        self.fc = torch.nn.Linear(fc.shape[1], fc.shape[0], bias="fc.bias" in state_dict, dtype=torch.float64)
        self.load_state_dict(state_dict, strict=True)

    def forward(self, x):
        return self.fc(self.rnn(x)[0])


def tensors(state_dict):
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in state_dict.items()}


def train(model, x, y, steps, lr):
    """SGD on the mean squared error; the losses per step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def worker(rank, world_size, port, spec, out_path):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    torch.set_num_threads(1)
    try:
        model = DistributedDataParallel(Net(spec["kind"], spec.get("nonlinearity"), tensors(spec["state_dict"])))
        x = torch.tensor(spec["x"], dtype=torch.float64)
        y = torch.tensor(spec["y"], dtype=torch.float64)
        shard = x.shape[0] // world_size  # equal shards: DDP's mean of the shards' gradients is the whole batch's
        rows = slice(rank * shard, (rank + 1) * shard)
        losses = train(model, x[rows], y[rows], spec["steps"], spec["lr"])
        gathered = [None] * world_size
        dist.all_gather_object(gathered, losses)
        if rank == 0:
            trained = model.module
            with torch.no_grad():
                prediction = trained(x)
            with open(out_path, "w", encoding="utf-8") as f:
                json.dump(
                    {
                        "state_dict": {k: v.tolist() for k, v in trained.state_dict().items()},
                        "y": prediction.tolist(),
                        "losses": [sum(step) / world_size for step in zip(*gathered)],
                        "world_size": world_size,
                    },
                    f,
                )
    finally:
        dist.destroy_process_group()
    # Leave without tearing down the DDP model: in torch 1.13 its destructor, run after the process
    # group is gone, can wait forever (seen here about one run in five). The output is written.
    os._exit(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv):
    if len(argv) not in (3, 4) or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    world_size = int(argv[3]) if len(argv) == 4 else 2
    if len(spec["x"]) % world_size:
        raise SystemExit(f"the batch ({len(spec['x'])} rows) must split evenly over {world_size} processes")
    mp.spawn(worker, args=(world_size, free_port(), spec, argv[2]), nprocs=world_size, join=True)
    # The same training in one process, on the whole batch: DDP must have computed the same steps.
    with open(argv[2], encoding="utf-8") as f:
        out = json.load(f)
    torch.set_num_threads(1)
    single = Net(spec["kind"], spec.get("nonlinearity"), tensors(spec["state_dict"]))
    x = torch.tensor(spec["x"], dtype=torch.float64)
    y = torch.tensor(spec["y"], dtype=torch.float64)
    train(single, x, y, spec["steps"], spec["lr"])
    trained = tensors(out["state_dict"])
    out["max_difference_from_one_process"] = max(
        (trained[k] - v).abs().max().item() for k, v in single.state_dict().items()
    )
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)
    print(
        f"DDP ({world_size} processes, gloo): loss {out['losses'][0]:.6f} -> {out['losses'][-1]:.6f}; "
        f"max |DDP - one process| {out['max_difference_from_one_process']:.2e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
