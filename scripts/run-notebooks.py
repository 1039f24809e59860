#!/usr/bin/python3
"""Executes Jupyter notebooks headlessly on the repository's own tslab kernelspec.

    /usr/bin/python3 scripts/run-notebooks.py [--in-place] [notebooks/x.ipynb ...]   (default: notebooks/*.ipynb)

A notebook passes when every cell runs without error, nothing reports `UncaughtException:` or
`UnhandledPromiseRejection:` (tslab reports errors thrown after a cell finished only there), and
at least one cell shows a picture (an image/svg+xml or image/png output). Executed notebooks are
written to out/notebooks/ even when they fail; a failure prints the cell and its stderr. Ends
with `N passed, N failed` and exits 1 when any failed. With --in-place, a notebook that passed is
also written back over its source with its outputs (without timing metadata), so that the
committed notebooks show their pictures.
"""
import argparse
import os
import pathlib
import queue
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The kernelspec lives in the repository (jupyter/kernels/tslab), never in a global location.
os.environ["JUPYTER_PATH"] = str(ROOT / "jupyter")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402
from nbclient.util import run_sync  # noqa: E402

ASYNC_ERROR = re.compile(r"^.*(UncaughtException|UnhandledPromiseRejection):.*$", re.M)
IMAGE_TYPES = ("image/svg+xml", "image/png")
# How long to wait after the last cell for errors thrown by work it left running.
SETTLE_S = 1.0


class Failure(Exception):
    pass


def cell_stderr(cell):
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


class StderrWatch:
    """Keeps every stderr text the kernel sends, also the text nbclient drops.

    tslab forwards what a cell writes to stderr after the cell has finished (an error thrown in a
    timer, a rejected promise) under that cell's request; nbclient, by then polling for the next
    cell, discards it. This wraps the client's execute and iopub reads to keep it per cell."""

    def __init__(self, client):
        self.kc = client.kc
        self.cell_of = {}  # request msg_id -> cell index
        self.current = None
        self.text = {}  # cell index -> stderr text
        execute, get_msg = self.kc.execute, self.kc.iopub_channel.get_msg

        def traced_execute(*args, **kwargs):
            msg_id = execute(*args, **kwargs)
            self.cell_of[msg_id] = self.current
            return msg_id

        async def traced_get_msg(*args, **kwargs):
            msg = await get_msg(*args, **kwargs)
            if msg["msg_type"] == "stream" and msg["content"].get("name") == "stderr":
                index = self.cell_of.get(msg["parent_header"].get("msg_id"))
                self.text[index] = self.text.get(index, "") + msg["content"].get("text", "")
            return msg

        self.kc.execute = traced_execute
        self.kc.iopub_channel.get_msg = traced_get_msg

    def drain(self):
        """Reads what the kernel sent after the last cell."""
        while True:
            try:
                run_sync(self.kc.iopub_channel.get_msg)(timeout=0.2)
            except queue.Empty:
                return


def execute(path, out_dir, timeout):
    """Runs one notebook; returns it executed, or raises Failure with the reason it did not pass."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="tslab",
        resources={"metadata": {"path": str(path.parent)}},
    )
    out = out_dir / path.name
    error = watch = None
    try:
        with client.setup_kernel():
            watch = StderrWatch(client)
            for index, cell in enumerate(nb.cells):
                watch.current = index
                client.execute_cell(cell, index)
            time.sleep(SETTLE_S)
            watch.drain()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = e
    finally:
        nbformat.write(nb, out)

    def report(reason, index):
        lines = [f"{reason} (during cell {index}); executed notebook: {os.path.relpath(out, ROOT)}"]
        if index is not None and index < len(nb.cells):
            lines += ["--- cell source:", nb.cells[index].source]
        stderr = (watch.text.get(index) if watch else None) or (cell_stderr(nb.cells[index]) if index is not None else "")
        if stderr.strip():
            lines += ["--- cell stderr:", stderr.rstrip()[-4000:]]
        return Failure("\n".join(lines))

    if error is not None:
        summary = str(error).strip().splitlines() or [""]
        # tslab's error replies carry no message (`<Error>:`); the cell's stderr below has the stack.
        reason = "the cell failed" if isinstance(error, CellExecutionError) else f"{type(error).__name__}: {summary[-1]}"
        raise report(reason, watch.current if watch else None)
    for index, text in sorted(watch.text.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        m = ASYNC_ERROR.search(text)
        if m:
            raise report(m.group(0).strip(), index)
    if not any(t in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", []) for t in IMAGE_TYPES):
        raise Failure(f"no cell shows a picture (an {' or '.join(IMAGE_TYPES)} output)")
    return nb


def write_back(nb, path):
    """Writes the executed notebook over its source, without the per-cell timing metadata."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "out" / "notebooks")
    parser.add_argument("--in-place", action="store_true", help="write passing notebooks back with their outputs")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    passed = failed = 0
    for path in notebooks:
        shown = os.path.relpath(path)
        t0 = time.time()
        try:
            nb = execute(path.resolve(), args.out, args.timeout)
            if args.in_place:
                write_back(nb, path)
            passed += 1
            print(f"ok      {shown} ({time.time() - t0:.1f} s)", flush=True)
        except Failure as e:
            failed += 1
            print(f"FAILED  {shown} ({time.time() - t0:.1f} s): {e}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
