/**
 * Ours against tfjs's own layers, one backend and one cell at a time: milliseconds per training
 * step and per forward pass (medians of alternated runs), kernels per time step, peak tensor
 * memory of a training step, and achieved GFLOP/s against a large matMul on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { sequenceModule } from '../src/fast/wasm/module.js';
import { forwardFlops, trainFlops } from './flops.js';
import { alternate, median, profile, type Runs, type Task } from './measure.js';
import { makeData, ours, tfLayers, type Contender, type Kind, type Sizes } from './models.js';
import type { TorchProcess } from './torch.js';

/** Numbers for each contender, by name (`ours`, `tfLayers`; `oursPlain`, `oursOneThread` and `pytorch` when asked for). */
export type ByContender = Record<string, number>;

export interface CompareRow {
  backend: string;
  cell: Kind;
  sizes: Sizes;
  rounds: number;
  /** Median ms of a training step. */
  trainMs: ByContender;
  /** Median ms of a forward pass. */
  forwardMs: ByContender;
  /** tfLayers' median over ours: how many times faster we are. */
  trainSpeedup: number;
  forwardSpeedup: number;
  /** The same ratios of median CPU time (this process), less disturbed on a shared machine. */
  trainCpuSpeedup: number;
  forwardCpuSpeedup: number;
  /** Median CPU ms of a training step and a forward pass, by contender (PyTorch's its subprocess's). */
  trainCpuMs: ByContender;
  forwardCpuMs: ByContender;
  /** Every run (wall-clock and CPU ms), for the record. */
  trainRuns: Runs;
  forwardRuns: Runs;
  /** Kernels tfjs dispatched per time step. */
  trainKernelsPerStep: ByContender;
  forwardKernelsPerStep: ByContender;
  /** Peak tensor memory of a training step above what existed before it, MB. */
  trainPeakMB: ByContender;
  /** MatMul FLOPs of the step over its median time. */
  trainGflops: ByContender;
  forwardGflops: ByContender;
  /** GFLOP/s of a 512x512 matMul on this backend. */
  matMulGflops: number;
  /** Training step time at matMulGflops: the FLOP bound. */
  trainFlopBoundMs: number;
  /** Our training step over the FLOP bound. */
  oursOverFlopBound: number;
  /** Parts of jobs our kernels' helper threads ran during this row (0 where they had none to run). */
  helperParts: number;
}

export interface CompareOptions {
  rounds: number;
  /** Also time our plain per-step graph (`unroll(..., { fast: false })`). */
  plain: boolean;
  /** Also time PyTorch on one thread (its own times, alternated with ours). */
  torch?: TorchProcess;
  /** Also time ours with the kernels on one thread (`oursOneThread`), where they run on more. */
  oneThread: boolean;
}

/** `c` with our whole-sequence kernels on the calling thread alone while it runs. */
function onOneThread(c: Contender): Contender {
  const alone = (run: () => Promise<void>) => async () => {
    const kernels = sequenceModule();
    kernels?.setParts(1);
    try {
      await run();
    } finally {
      kernels?.setParts(rt.backends.kernelThreads());
    }
  };
  return { train: alone(c.train), forward: alone(c.forward), dispose: c.dispose };
}

/** Benchmarks one cell kind on the current backend. */
export async function compareCell(kind: Kind, s: Sizes, matMulGflops: number, o: CompareOptions): Promise<CompareRow> {
  const data = makeData(s);
  const served = () => sequenceModule()?.served() ?? 0;
  const servedBefore = served();
  const contenders: Record<string, Contender> = { ours: ours(kind, s, data), tfLayers: tfLayers(kind, s, data) };
  if (o.plain) contenders.oursPlain = ours(kind, s, data, false);
  if (o.oneThread) contenders.oursOneThread = onOneThread(ours(kind, s, data));
  // PyTorch's runs: the times it measured, in the order of the rounds (the first is the warm-up).
  const torchMs = { train: [] as { ms: number; cpuMs: number }[], forward: [] as { ms: number; cpuMs: number }[] };
  const torch = o.torch;
  if (torch) {
    await torch.setup(kind, s);
    const run = (what: 'train' | 'forward') => async () => void torchMs[what].push(await torch.run(what));
    contenders.pytorch = { train: run('train'), forward: run('forward'), dispose: () => undefined };
  }
  const pick = (what: 'train' | 'forward') =>
    Object.fromEntries(Object.entries(contenders).map(([name, c]) => [name, c[what]])) as Record<string, Task>;
  try {
    const trainRuns = await alternate(pick('train'), o.rounds);
    const forwardRuns = await alternate(pick('forward'), o.rounds);
    if (torch) {
      for (const [runs, ms] of [
        [trainRuns, torchMs.train],
        [forwardRuns, torchMs.forward],
      ] as const) {
        runs.wall.pytorch = ms.slice(1).map((r) => r.ms);
        runs.cpu.pytorch = ms.slice(1).map((r) => r.cpuMs);
      }
    }
    const each = async <T>(f: (c: Contender, name: string) => Promise<T>) => {
      const out: Record<string, T> = {};
      for (const [name, c] of Object.entries(contenders)) out[name] = await f(c, name);
      return out;
    };
    const trainProfiles = await each((c) => profile(c.train));
    const forwardProfiles = await each((c) => profile(c.forward));
    const map = <T>(r: Record<string, T>, f: (v: T) => number): ByContender =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));
    const trainMs = map(trainRuns.wall, median);
    const forwardMs = map(forwardRuns.wall, median);
    const cpuRatio = (r: Runs) => median(r.cpu.tfLayers) / median(r.cpu.ours);
    const trainFlopBoundMs = trainFlops(kind, s) / matMulGflops / 1e6;
    return {
      backend: tf.getBackend(),
      cell: kind,
      sizes: s,
      rounds: o.rounds,
      trainMs,
      forwardMs,
      trainSpeedup: trainMs.tfLayers / trainMs.ours,
      forwardSpeedup: forwardMs.tfLayers / forwardMs.ours,
      trainCpuSpeedup: cpuRatio(trainRuns),
      forwardCpuSpeedup: cpuRatio(forwardRuns),
      trainCpuMs: map(trainRuns.cpu, median),
      forwardCpuMs: map(forwardRuns.cpu, median),
      trainRuns,
      forwardRuns,
      trainKernelsPerStep: map(trainProfiles, (p) => p.kernels / s.time),
      forwardKernelsPerStep: map(forwardProfiles, (p) => p.kernels / s.time),
      trainPeakMB: map(trainProfiles, (p) => p.peakBytes / 2 ** 20),
      trainGflops: map(trainMs, (ms) => trainFlops(kind, s) / ms / 1e6),
      forwardGflops: map(forwardMs, (ms) => forwardFlops(kind, s) / ms / 1e6),
      matMulGflops,
      trainFlopBoundMs,
      oursOverFlopBound: trainMs.ours / trainFlopBoundMs,
      helperParts: served() - servedBefore,
    };
  } finally {
    for (const c of Object.values(contenders)) c.dispose();
    data.x.dispose();
    data.y.dispose();
  }
}
