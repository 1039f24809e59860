/**
 * The README table of the GPU bench, from the JSON of `bench/gpu.ts` (ours and tf.layers on
 * WebGPU) and of `bench/gpu-torch.py` (PyTorch, cuDNN), either of which may be missing.
 *
 *     npx tsx bench/gpu-table.ts out/gpu-bench.json out/gpu-torch.json
 */
import { existsSync, readFileSync } from 'node:fs';
import type { WebGpuCounts } from './gpu-counters.js';
import type { Sizes } from './models.js';

/** One row of `bench/gpu.ts`: one cell at one size. */
export interface GpuRow {
  cell: string;
  sizes: Sizes;
  rounds: number;
  /** Median ms by contender (`ours`, `tfLayers`; `oursPlain`, `oursSteps`, `oursSlices` where asked for). */
  trainMs: Record<string, number>;
  forwardMs: Record<string, number>;
  trainRuns: Record<string, number[]>;
  /** The slices of our whole-sequence kernel's sums, forward and backward, as it chose them here. */
  slices?: { forward: number; backward: number };
  forwardRuns: Record<string, number[]>;
  /** Median ms from a call's start to its first read: the host's part (`hostTime` in `./gpu.ts`). */
  trainHostMs?: Record<string, number>;
  forwardHostMs?: Record<string, number>;
  /** tfjs kernels (tf.profile) per time step. */
  trainKernelsPerStep: Record<string, number>;
  forwardKernelsPerStep: Record<string, number>;
  /** WebGPU compute dispatches per time step, and queue submits per call. */
  trainDispatchesPerStep: Record<string, number>;
  forwardDispatchesPerStep: Record<string, number>;
  trainSubmits: Record<string, number>;
  /** What one train step / forward pass cost the backend after warm-up (`./gpu-counters.ts`). */
  trainCounts?: Record<string, WebGpuCounts>;
  /** GPU time of one call by timestamp queries, and its costliest kernels (`kernelTimes` in `./gpu.ts`). */
  trainGpuMs?: Record<string, GpuTime>;
  forwardGpuMs?: Record<string, GpuTime>;
  forwardCounts?: Record<string, WebGpuCounts>;
  trainGflops: Record<string, number>;
  forwardGflops: Record<string, number>;
  /** Dawn errors reported while this row ran (its numbers are not to be trusted if any). */
  gpuErrors: number;
}

/** One call under timestamp queries: wall ms, GPU ms, and the tfjs kernels that took most. */
export interface GpuTime {
  wallMs: number;
  kernelMs: number;
  /** tfjs kernels run. */
  kernels: number;
  top: { kernel: string; count: number; ms: number }[];
}

/** Our forward pass and gradients on webgpu against the cpu backend, same weights and data. */
export interface Agreement {
  cell: string;
  sizes: Sizes;
  forwardMaxAbsDiff: number;
  forwardMaxAbs: number;
  lossAbsDiff: number;
  gradMaxAbsDiff: number;
  gradMaxAbs: number;
}

export interface GpuResults {
  command: string;
  date: string;
  node: string;
  tfjs: string;
  backend: string;
  adapter: { vendor: string; architecture: string; device: string; description: string };
  adapterName: string;
  limits: Record<string, number>;
  features: string[];
  dawnFlags: string[];
  webgpuFlags: Record<string, unknown>;
  /** The slices of the contender `oursSlices` (`--slices`). */
  slices?: number;
  matMulGflops?: number;
  /** µs per op on GPU tensors, per op with one upload, per op and its read (`opCost` in `./gpu.ts`). */
  opCost?: { dispatchUs: number; uploadUs: number; readUs: number };
  rows: GpuRow[];
  skipped: string[];
  agreement: Agreement[];
  gpuErrors: string[];
  wallSeconds: number;
  done: boolean;
}

/** One row of `bench/gpu-torch.py`. */
export interface TorchRow {
  cell: string;
  sizes: Sizes;
  rounds: number;
  /** Median ms with PyTorch's default settings (cuDNN may use TF32). */
  trainMs: number;
  forwardMs: number;
  /** Median ms with TF32 off (strict float32, as WebGPU computes), when measured. */
  trainMsNoTf32?: number;
  forwardMsNoTf32?: number;
  /** CUDA kernels of one training step and one forward pass, when the profiler ran. */
  trainKernels?: number | null;
  forwardKernels?: number | null;
}

export interface TorchResults {
  device: string;
  deviceName: string;
  torch: string;
  cuda: string | null;
  cudnn: number | null;
  rows: TorchRow[];
}

const key = (cell: string, s: Sizes) => `${cell} ${s.batch}x${s.time}x${s.input}x${s.units}`;
const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));
const per = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));

/** Reads a JSON file, or undefined (with a note on stderr) when it is missing or broken. */
export function readJson<T>(path: string | undefined): T | undefined {
  if (!path) return undefined;
  if (!existsSync(path)) {
    process.stderr.write(`gpu-table: ${path} not found, leaving its columns empty\n`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    process.stderr.write(`gpu-table: ${path}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/** The markdown table (plus a line naming the card and a note on what failed). */
export function gpuTable(gpu: GpuResults | undefined, torch: TorchResults | undefined): string {
  const order: string[] = [];
  const rows = new Map<string, { cell: string; sizes: Sizes; gpu?: GpuRow; torch?: TorchRow }>();
  const add = (cell: string, sizes: Sizes) => {
    const k = key(cell, sizes);
    if (!rows.has(k)) {
      rows.set(k, { cell, sizes });
      order.push(k);
    }
    return rows.get(k)!;
  };
  for (const r of gpu?.rows ?? []) add(r.cell, r.sizes).gpu = r;
  for (const r of torch?.rows ?? []) add(r.cell, r.sizes).torch = r;

  const lines: string[] = [];
  const about: string[] = [];
  if (gpu) about.push(`WebGPU (Dawn): ${gpu.adapterName}, tfjs ${gpu.tfjs}, Node ${gpu.node}`);
  if (torch)
    about.push(
      `PyTorch ${torch.torch} on ${torch.deviceName}` +
        (torch.cudnn ? ` (CUDA ${torch.cuda}, cuDNN ${torch.cudnn})` : ` (${torch.device})`),
    );
  if (about.length) lines.push(`${about.join('; ')}. Median ms per call.`, '');
  lines.push(
    '| cell | B×T×I×H | ours train | tf.layers train | ours forward | tf.layers forward | PyTorch cuDNN train | PyTorch cuDNN forward | kernels/step (train), tf.layers → ours |',
    '| ---- | ------- | ---------- | --------------- | ------------ | ----------------- | ------------------- | --------------------- | -------------------------------------- |',
  );
  for (const k of order) {
    const { cell, sizes: s, gpu: g, torch: t } = rows.get(k)!;
    const flag = g && g.gpuErrors > 0 ? ' (WebGPU errors!)' : '';
    lines.push(
      `| ${cell}${flag} | ${s.batch}×${s.time}×${s.input}×${s.units} | ${ms(g?.trainMs.ours)} | ${ms(g?.trainMs.tfLayers)} | ` +
        `${ms(g?.forwardMs.ours)} | ${ms(g?.forwardMs.tfLayers)} | ${ms(t?.trainMs)} | ${ms(t?.forwardMs)} | ` +
        `${g ? `${per(g.trainKernelsPerStep.tfLayers)} → ${per(g.trainKernelsPerStep.ours)}` : '–'} |`,
    );
  }
  const strict = order
    .map((k) => rows.get(k)!)
    .filter((r) => r.torch?.trainMsNoTf32 !== undefined)
    .map((r) => `${key(r.cell, r.sizes)} ${ms(r.torch!.trainMsNoTf32)} / ${ms(r.torch!.forwardMsNoTf32)}`);
  if (strict.length) lines.push('', `PyTorch with TF32 off (train / forward ms): ${strict.join('; ')}.`);
  const dispatches = (gpu?.rows ?? []).map(
    (r) => `${key(r.cell, r.sizes)} ${per(r.trainDispatchesPerStep.tfLayers)} → ${per(r.trainDispatchesPerStep.ours)}`,
  );
  if (dispatches.length)
    lines.push('', `WebGPU dispatches per time step (train), tf.layers → ours: ${dispatches.join('; ')}.`);
  const host = (gpu?.rows ?? [])
    .filter((r) => r.trainHostMs?.ours !== undefined)
    .map(
      (r) =>
        `${key(r.cell, r.sizes)} train ${r.trainHostMs!.ours.toFixed(1)} of ${r.trainMs.ours.toFixed(1)}, ` +
        `forward ${r.forwardHostMs!.ours.toFixed(1)} of ${r.forwardMs.ours.toFixed(1)}`,
    );
  if (host.length)
    lines.push('', `Our calls' host part (ms to the first read, of the whole call): ${host.join('; ')}.`);
  const variants = [
    ['oursSteps', 'Ours with the step kernels in place of the whole-sequence kernel'],
    ['oursSlices', `Ours with the whole-sequence kernel's sums in ${gpu?.slices} slice${gpu?.slices === 1 ? '' : 's'}`],
  ] as const;
  for (const [name, what] of variants) {
    const timed = (gpu?.rows ?? [])
      .filter((r) => r.trainMs[name] !== undefined)
      .map(
        (r) =>
          `${key(r.cell, r.sizes)} train ${ms(r.trainMs[name])}, forward ${ms(r.forwardMs[name])} ` +
          `(dispatches a step in training ${per(r.trainDispatchesPerStep[name])}` +
          (name === 'oursSlices' && r.slices ? `; ours: ${r.slices.forward} forward, ${r.slices.backward} back)` : ')'),
      );
    if (timed.length) lines.push('', `${what} (ms): ${timed.join('; ')}.`);
  }
  lines.push(...costTable(gpu));
  for (const a of gpu?.agreement ?? []) {
    lines.push(
      '',
      `Agreement with the cpu backend (${key(a.cell, a.sizes)}): forward max |Δ| ${a.forwardMaxAbsDiff.toExponential(1)} ` +
        `(values up to ${a.forwardMaxAbs.toFixed(2)}), loss |Δ| ${a.lossAbsDiff.toExponential(1)}, gradients max |Δ| ` +
        `${a.gradMaxAbsDiff.toExponential(1)} (up to ${a.gradMaxAbs.toExponential(1)}).`,
    );
  }
  if (gpu?.skipped.length) lines.push('', `Skipped (time budget or errors): ${gpu.skipped.join('; ')}.`);
  if (gpu && !gpu.done) lines.push('', 'The WebGPU run did not finish: these are the rows it wrote before it stopped.');
  if (gpu?.gpuErrors.length)
    lines.push('', `Dawn reported ${gpu.gpuErrors.length} error(s), the first: ${gpu.gpuErrors[0].split('\n')[0]}`);
  return lines.join('\n');
}

/**
 * What one call cost the webgpu backend besides arithmetic (after warm-up): programs (dispatches),
 * uploads, GPU buffers created, pipelines compiled, reads back, and what one op, one upload and
 * one read cost on that card; with these the timings above can be told apart.
 */
function costTable(gpu: GpuResults | undefined): string[] {
  const rows = (gpu?.rows ?? []).filter((r) => r.trainCounts);
  if (!rows.length) return [];
  const lines = [
    '',
    'What one call costs the webgpu backend (after warm-up): programs per time step, and per call: uploads ' +
      '(bytes), GPU buffers created, pipelines compiled, reads, queue submits (train).',
    '',
    '| cell | B×T×I×H | contender | call | programs / step | uploads (bytes) | buffers created | pipelines | reads | submits | GPU ms (wall ms, timed) | costliest kernels (calls, GPU ms) |',
    '| ---- | ------- | --------- | ---- | --------------- | --------------- | --------------- | --------- | ----- | ------- | ----------------------- | --------------------------------- |',
  ];
  for (const r of rows) {
    for (const call of ['train', 'forward'] as const) {
      const counts = call === 'train' ? r.trainCounts : r.forwardCounts;
      const times = call === 'train' ? r.trainGpuMs : r.forwardGpuMs;
      for (const [name, c] of Object.entries(counts ?? {})) {
        const t = times?.[name];
        const gpuMs = t ? `${ms(t.kernelMs)} (${ms(t.wallMs)})` : '–';
        const top = t ? t.top.map((p) => `${p.kernel} ${p.count}× ${ms(p.ms)}`).join(', ') : '–';
        lines.push(
          `| ${r.cell} | ${r.sizes.batch}×${r.sizes.time}×${r.sizes.input}×${r.sizes.units} | ${name} | ${call} | ` +
            `${per(c.programs / r.sizes.time)} | ${c.uploads} (${c.uploadBytes}) | ${c.buffersCreated} | ` +
            `${c.pipelines} | ${c.reads} | ${call === 'train' ? (r.trainSubmits[name] ?? '–') : '–'} | ${gpuMs} | ${top} |`,
        );
      }
    }
  }
  const o = gpu?.opCost;
  if (o) {
    lines.push(
      '',
      `One op on GPU tensors ${o.dispatchUs.toFixed(0)} µs, with one upload ${o.uploadUs.toFixed(0)} µs; ` +
        `one op and its read ${o.readUs.toFixed(0)} µs.`,
    );
  }
  return lines;
}

// `tsx bench/gpu-table.ts gpu.json torch.json` (only when this file is the entry point).
if (process.argv[1]?.endsWith('gpu-table.ts')) {
  const [gpuPath = 'out/gpu-bench.json', torchPath = 'out/gpu-torch.json'] = process.argv.slice(2);
  process.stdout.write(`${gpuTable(readJson<GpuResults>(gpuPath), readJson<TorchResults>(torchPath))}\n`);
}
