#!/usr/bin/env python3
"""The GPU bench's PyTorch side (issue 14): the same train step and forward pass as bench/gpu.ts,
in PyTorch with cuDNN, on the same GPU.

Model: nn.LSTM / nn.GRU (batch_first=True) and nn.Linear(H, 1) at every step; Adam (lr 1e-3);
MSE over every step. Data: x ~ N(0, 1) [B, T, I], y ~ N(0, 1) [B, T, 1]. Each call is timed from
a synchronised device to a synchronised device (torch.cuda.synchronize); the numbers are medians
of --rounds rounds after --warmup calls, train and forward alternated round by round.

On CUDA it measures twice: with PyTorch's defaults (cuDNN may use TF32 for float32 RNNs) and
with TF32 off (strict float32, the arithmetic of WebGPU's f32), and counts the CUDA kernels of one
call with torch.profiler. Writes JSON (--out, default $OUT/gpu-torch.json or out/gpu-torch.json).

    python3 bench/gpu-torch.py                       # cuda, LSTM and GRU at both sizes
    python3 bench/gpu-torch.py --device cpu --sizes 8x10x4x16 --rounds 2
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn


def parse_size(text):
    parts = [int(p) for p in text.lower().replace("×", "x").split("x")]
    if len(parts) != 4 or min(parts) <= 0:
        raise SystemExit(f"gpu-torch: a size is BxTxIxH, e.g. 32x50x16x128; got {text}")
    batch, steps, inputs, units = parts
    return {"batch": batch, "time": steps, "input": inputs, "units": units, "output": 1}


class Net(nn.Module):
    def __init__(self, cell, inputs, units, outputs):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "elman": nn.RNN}[cell]
        self.rnn = rnn(inputs, units, batch_first=True)
        self.out = nn.Linear(units, outputs)

    def forward(self, x):
        return self.out(self.rnn(x)[0])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def set_tf32(flags):
    """flags: (cudnn.allow_tf32, cuda.matmul.allow_tf32)."""
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags


def count_kernels(device, fn):
    """CUDA kernels (or, on the CPU, operators) of one call of fn; None if the profiler fails."""
    try:
        from torch.profiler import ProfilerActivity, profile

        activity = ProfilerActivity.CUDA if device.type == "cuda" else ProfilerActivity.CPU
        with profile(activities=[activity]) as prof:
            fn()
        events = prof.events()
        if device.type == "cuda":
            kinds = [e for e in events if str(getattr(e, "device_type", "")).endswith("CUDA")]
            return len(kinds)
        return len([e for e in events if e.cpu_parent is None])
    except Exception as e:  # the profiler differs between versions; the count is extra
        print(f"gpu-torch: kernel count failed: {e}", file=sys.stderr)
        return None


def bench_row(cell, s, device, rounds, warmup, modes):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(s["batch"], s["time"], s["input"], generator=gen).to(device)
    y = torch.randn(s["batch"], s["time"], s["output"], generator=gen).to(device)
    torch.manual_seed(7)
    net = Net(cell, s["input"], s["units"], s["output"]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    mse = nn.MSELoss()
    losses = []

    def train():
        opt.zero_grad(set_to_none=True)
        loss = mse(net(x), y)
        loss.backward()
        opt.step()
        sync(device)
        return loss

    def forward():
        with torch.no_grad():
            out = net(x)
        sync(device)
        return out

    row = {"cell": cell, "sizes": s, "rounds": rounds}
    for mode, flags in modes:
        if device.type == "cuda":
            set_tf32(flags)
        for _ in range(warmup):
            train()
            forward()
        train_runs, forward_runs = [], []
        for _ in range(rounds):
            sync(device)
            start = time.perf_counter()
            loss = train()
            train_runs.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            forward()
            forward_runs.append((time.perf_counter() - start) * 1000)
            losses.append(loss.item())
        suffix = "" if mode == "default" else "NoTf32"
        row[f"trainMs{suffix}"] = statistics.median(train_runs)
        row[f"forwardMs{suffix}"] = statistics.median(forward_runs)
        row[f"trainRuns{suffix}"] = train_runs
        row[f"forwardRuns{suffix}"] = forward_runs
    if device.type == "cuda":
        set_tf32(modes[0][1])
    row["trainKernels"] = count_kernels(device, train)
    row["forwardKernels"] = count_kernels(device, forward)
    row["lossFirst"], row["lossLast"] = losses[0], losses[-1]
    if not all(map(lambda v: v == v and abs(v) < float("inf"), losses)):
        row["error"] = "non-finite loss"
    return row


def main():
    default_out = os.path.join(os.environ["OUT"], "gpu-torch.json") if os.environ.get("OUT") else "out/gpu-torch.json"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    p.add_argument("--sizes", default="32x50x16x128,256x100x16x512", help="B x T x I x H, comma-separated")
    p.add_argument("--cells", default="lstm,gru")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--tf32", choices=["both", "default", "off"], default="both", help="cuda: which settings to time")
    p.add_argument("--threads", type=int, default=0, help="cpu: torch.set_num_threads (0: leave)")
    p.add_argument("--out", default=default_out)
    a = p.parse_args()

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"gpu-torch: torch {torch.__version__} sees no CUDA device (try --device cpu)")
    device = torch.device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cudnn.benchmark = False
    defaults = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    if device.type != "cuda":
        modes = [("default", None)]
    else:
        modes = {
            "both": [("default", defaults), ("off", (False, False))],
            "default": [("default", defaults)],
            "off": [("default", (False, False))],
        }[a.tf32]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    results = {
        "command": " ".join(["python3"] + sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "device": str(device),
        "deviceName": name,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "tf32Defaults": {"cudnn": defaults[0], "matmul": defaults[1]},
        "modes": [m for m, _ in modes],
        "tf32Setting": a.tf32 if device.type == "cuda" else None,
        "rows": [],
        "failed": [],
    }
    print(f"gpu-torch: {name}, torch {torch.__version__}", file=sys.stderr)

    def save():
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)

    for size in [parse_size(t) for t in a.sizes.split(",") if t]:
        for cell in [c for c in a.cells.split(",") if c]:
            what = f"{cell} {size['batch']}x{size['time']}x{size['input']}x{size['units']}"
            try:
                row = bench_row(cell, size, device, a.rounds, a.warmup, modes)
                results["rows"].append(row)
                extra = (
                    f" (TF32 off: {row['trainMsNoTf32']:.2f} / {row['forwardMsNoTf32']:.2f})"
                    if "trainMsNoTf32" in row
                    else ""
                )
                print(
                    f"gpu-torch: {what} train {row['trainMs']:.2f} ms, forward {row['forwardMs']:.2f} ms{extra}, "
                    f"kernels {row['trainKernels']} / {row['forwardKernels']}",
                    file=sys.stderr,
                )
            except Exception as e:
                print(f"gpu-torch: {what} failed: {e!r}", file=sys.stderr)
                results["failed"].append(f"{what}: {e!r}")
            finally:
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            save()
    save()
    print(json.dumps({"out": a.out, "rows": len(results["rows"]), "failed": results["failed"]}))


if __name__ == "__main__":
    main()
