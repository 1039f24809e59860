/**
 * PyTorch on one CPU thread beside us in the same bench run (`bench/torch-cpu.py`, run by Debian's
 * `/usr/bin/python3` where it has `torch`): a subprocess that runs one training step, forward
 * pass or streaming run per request, so that its runs alternate with ours. The times are PyTorch's
 * own (measured in Python, without the pipe): wall-clock and CPU time.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Kind, Sizes } from './models.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch-cpu.py', import.meta.url));

/** The torch version, or null where `/usr/bin/python3` has no torch. */
export function torchVersion(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** A running `torch-cpu.py`: one request, one answer. */
export class TorchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: ((line: string) => void)[] = [];

  constructor() {
    this.child = spawn(PYTHON, [SCRIPT]);
    createInterface({ input: this.child.stdout }).on('line', (line) => this.answers.shift()?.(line));
  }

  private request<T>(body: object): Promise<T> {
    return new Promise((resolve) => {
      this.answers.push((line) => resolve(JSON.parse(line) as T));
      this.child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  }

  /** Builds the model of `kind` at sizes `s` (nn.RNN/LSTM/GRU + nn.Linear, Adam). */
  async setup(kind: Kind, s: Sizes): Promise<void> {
    await this.request({ setup: { cell: kind, ...s } });
  }

  /** Milliseconds of one training step or forward pass, wall-clock and CPU time, measured in Python. */
  run(what: 'train' | 'forward'): Promise<{ ms: number; cpuMs: number }> {
    return this.request({ run: what });
  }

  /** Microseconds per step (wall-clock, CPU time) of `steps` single steps of the cell and its output layer, batch 1. */
  stream(
    kind: Kind,
    s: { input: number; units: number; output: number },
    steps: number,
  ): Promise<{ us: number; cpuUs: number }> {
    return this.request({ stream: steps, cell: kind, ...s });
  }

  close(): void {
    this.child.stdin.end();
  }
}
