/**
 * `npm run bench:gpu [-- options]`: our train step and forward pass against tf.layers on tfjs's
 * **webgpu** backend in plain Node, through Dawn (the npm package `webgpu`; issue 14). The
 * contenders are those of `npm run bench` (`bench/models.ts`): our network with
 * `tf.variableGrads` over `rt.unroll` and Adam, and `tf.layers` with `trainOnBatch` / `predict`,
 * both with MSE at every step.
 *
 * Each call is synchronised with `await t.data()` (a GPU tensor cannot be read synchronously in
 * Node); the numbers are medians of `--rounds` alternated rounds after `--warmup` calls. Kernels
 * per time step come from `tf.profile`, WebGPU dispatches from a counter on Dawn's compute
 * passes. Our forward pass and gradients are checked against the cpu backend (same weights, same
 * data) at the smallest size, before the timings. The JSON goes to `--out` (default `$OUT/gpu-bench.json` when `OUT`
 * is set, else `out/gpu-bench.json`) after every row, so a run cut short keeps what it measured.
 *
 *     npm run bench:gpu                                   # LSTM and GRU, 32x50x16x128 and 256x100x16x512
 *     VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *       npm run bench:gpu -- --sizes 8x10x4x16 --rounds 1   # software Vulkan, to try it
 *     npm run bench:gpu -- --table --torch out/gpu-torch.json   # only print the table of earlier runs
 *
 * On a borrowed GPU machine it runs from a bundle: `scripts/gpu-bench/pack.sh`, then
 * `scripts/gpu-bench/run.sh` there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { registerSequenceKernel } from '../src/fast/index.js';
import { sequenceSlices, slicing, webgpuSequenceKernel } from '../src/fast/webgpu-sequence.js';
import { forwardFlops, matMulPeak, trainFlops } from './flops.js';
import { countWebGpu, type WebGpuCounts } from './gpu-counters.js';
import { adapterName, countGpuWork, releaseDawn, startWebGpu, type DawnSetup } from './gpu-dawn.js';
import {
  gpuTable,
  readJson,
  type Agreement,
  type GpuTime,
  type GpuResults,
  type GpuRow,
  type TorchResults,
} from './gpu-table.js';
import { alternate, median, type Task } from './measure.js';
import { makeData, ours, tfLayers, type Contender, type Kind, type Sizes } from './models.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '32x50x16x128,256x100x16x512' },
    cells: { type: 'string', default: 'lstm,gru' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    contenders: { type: 'string', default: 'ours,tfLayers' },
    plain: { type: 'boolean', default: false },
    steps: { type: 'boolean', default: false },
    slices: { type: 'string' },
    'submit-batch': { type: 'string' },
    check: { type: 'string' },
    'no-check': { type: 'boolean', default: false },
    'no-peak': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'budget-s': { type: 'string' },
    dawn: { type: 'string', default: '' },
    out: { type: 'string' },
    torch: { type: 'string' },
    table: { type: 'boolean', default: false },
    in: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    [
      'npm run bench:gpu -- [options]     (webgpu through Dawn; set VK_DRIVER_FILES for a software or NVIDIA ICD)',
      '  --sizes 32x50x16x128,256x100x16x512   B x T x I x H, comma-separated',
      '  --cells lstm,gru         cells (elman too)',
      '  --rounds 5 --warmup 2    timed alternated rounds, and untimed calls before them',
      '  --contenders ours,tfLayers   leave tfLayers out where it is too slow (software Vulkan)',
      '  --plain                  also time our plain per-step graph (unroll fast: false)',
      '  --steps                  also time ours with the step kernels in place of the whole-sequence kernel',
      "  --slices N               also time ours with the whole-sequence kernel's sums in N slices (1, 2, 4, 8)",
      "  --submit-batch N         tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (programs per queue submit; default 15)",
      '  --check BxTxIxH          size of the cpu-backend agreement check (default the smallest); --no-check',
      '  --no-profile             skip tf.profile kernel counts; --no-peak skips the matMul GFLOP/s',
      '  --budget-s S             start no new row after S seconds (the JSON says what was skipped)',
      '  --dawn a,b               flags for Dawn’s create(), e.g. backend=vulkan',
      '  --out FILE               JSON (default $OUT/gpu-bench.json if OUT is set, else out/gpu-bench.json)',
      '  --torch FILE             add the PyTorch columns from bench/gpu-torch.py’s JSON',
      '  --table [--in FILE]      only print the table from an earlier JSON (no GPU)',
      '  --json                   print the JSON instead of the table',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const outPath = args.out ?? (process.env.OUT ? join(process.env.OUT, 'gpu-bench.json') : 'out/gpu-bench.json');

if (args.table) {
  const gpu = readJson<GpuResults>(args.in ?? outPath);
  process.stdout.write(`${gpuTable(gpu, readJson<TorchResults>(args.torch))}\n`);
  process.exit(0);
}

const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bench:gpu: --${name} must be a whole number, got ${v}`);
  return n;
};
const parseSize = (v: string): Sizes => {
  const parts = v.split(/[x×]/).map((p) => int('sizes', p));
  if (parts.length !== 4 || parts.some((p) => p <= 0))
    throw new RangeError(`bench:gpu: a size is BxTxIxH, e.g. 32x50x16x128; got ${v}`);
  const [batch, time, input, units] = parts;
  return { batch, time, input, units, output: 1 };
};
const list = <T extends string>(name: string, v: string, allowed: readonly T[]) => {
  const items = v.split(',').filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length) throw new RangeError(`bench:gpu: unknown --${name} ${bad.join(', ')} (${allowed.join(', ')})`);
  return items as T[];
};
const sizeKey = (s: Sizes) => `${s.batch}x${s.time}x${s.input}x${s.units}`;

const sizes = args.sizes.split(',').filter(Boolean).map(parseSize);
const cells = list('cells', args.cells, ['elman', 'lstm', 'gru'] as const) as Kind[];
const contenderNames = list('contenders', args.contenders, ['ours', 'tfLayers'] as const);
const rounds = Math.max(1, int('rounds', args.rounds));
const warmup = Math.max(1, int('warmup', args.warmup));
const budgetS = args['budget-s'] !== undefined ? int('budget-s', args['budget-s']) : Infinity;
const volume = (s: Sizes) => s.batch * s.time * s.units * Math.max(s.input, s.units);
const checkSize = args['no-check']
  ? undefined
  : args.check
    ? parseSize(args.check)
    : [...sizes].sort((a, b) => volume(a) - volume(b))[0];

const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

let dawn: DawnSetup;
try {
  dawn = await startWebGpu(args.dawn.split(',').filter(Boolean));
} catch (e) {
  log(`bench:gpu: ${(e as Error).message}`);
  process.exit(2);
}
const slices = args.slices === undefined ? undefined : int('slices', args.slices);
if (slices !== undefined && ![1, 2, 4, 8].includes(slices)) {
  throw new RangeError(`bench:gpu: --slices must be 1, 2, 4 or 8, got ${slices}`);
}
if (args['submit-batch'] !== undefined) {
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', int('submit-batch', args['submit-batch']));
}
const name = adapterName(dawn.adapter);
log(`webgpu: adapter ${name}`);
log(
  `webgpu: maxStorageBuffersPerShaderStage ${dawn.limits.maxStorageBuffersPerShaderStage}, ` +
    `maxStorageBufferBindingSize ${(dawn.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, ` +
    `timestamp-query ${dawn.features.includes('timestamp-query')}`,
);

const results: GpuResults = {
  command: `npm run bench:gpu${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString(),
  node: process.versions.node,
  tfjs: tf.version.tfjs,
  backend: tf.getBackend(),
  adapter: dawn.adapter,
  adapterName: name,
  limits: dawn.limits,
  features: dawn.features,
  dawnFlags: dawn.dawnFlags,
  ...(slices !== undefined && { slices }),
  webgpuFlags: Object.fromEntries(
    ['WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_CPU_FORWARD', 'WEBGPU_USE_PROFILE_TOOL'].map((f) => {
      try {
        return [f, tf.env().get(f)];
      } catch {
        return [f, null];
      }
    }),
  ),
  rows: [],
  skipped: [],
  agreement: [],
  gpuErrors: dawn.errors,
  wallSeconds: 0,
  done: false,
};
const save = () => {
  results.wallSeconds = Math.round(elapsedS());
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify(results, null, 2));
};

if (!args['no-peak']) {
  results.matMulGflops = await matMulPeak(1024, 5);
  log(`webgpu: 1024x1024 matMul ${results.matMulGflops.toFixed(1)} GFLOP/s`);
}
if (!args['no-peak']) {
  results.opCost = await opCost(200);
  log(
    `webgpu: one dispatch ${results.opCost.dispatchUs.toFixed(0)} µs, one dispatch with an upload ` +
      `${results.opCost.uploadUs.toFixed(0)} µs, one op and its read ${results.opCost.readUs.toFixed(0)} µs`,
  );
}
save();

/**
 * What tfjs's webgpu backend pays here for one op on GPU-resident tensors, for the same op with
 * one input made on the CPU (a `tf.scalar`: one upload), per op in medians of 3 timings of `n` ops
 * in a row; and for one op followed by its `data()` read (median of 20).
 */
async function opCost(n: number): Promise<{ dispatchUs: number; uploadUs: number; readUs: number }> {
  const a = tf.fill([32, 128], 1);
  const b = tf.fill([32, 128], 2);
  const time = async (op: (i: number) => tf.Tensor) => {
    const runs: number[] = [];
    for (let r = 0; r < 4; r++) {
      const t0 = performance.now();
      let last: tf.Tensor = tf.fill([32, 128], 0);
      for (let i = 0; i < n; i++) {
        const next = op(i);
        last.dispose();
        last = next;
      }
      await last.data();
      last.dispose();
      if (r > 0) runs.push(((performance.now() - t0) * 1000) / n);
    }
    return median(runs);
  };
  const dispatchUs = await time(() => tf.add(a, b));
  const uploadUs = await time((i) => tf.tidy(() => tf.add(a, tf.scalar(i))));
  const reads: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    const sum = tf.add(a, b); // a new buffer: tfjs keeps what it read of an old one
    await sum.data();
    reads.push((performance.now() - t0) * 1000);
    sum.dispose();
  }
  tf.dispose([a, b]);
  return { dispatchUs, uploadUs, readUs: median(reads) };
}

/**
 * The tfjs kernels of one call (`tf.profile`) and, where the adapter has timestamp queries, their
 * GPU time (each kernel timed on its own, so the sum is a little above a plain call's) and the
 * kernels that took most of it.
 */
async function kernelTimes(task: () => Promise<void>): Promise<GpuTime> {
  const t0 = performance.now();
  const info = await tf.profile(task);
  const wallMs = performance.now() - t0;
  const byKernel = new Map<string, { count: number; ms: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs) || 0;
    const entry = byKernel.get(k.name) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    byKernel.set(k.name, entry);
    kernelMs += ms;
  }
  const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 5);
  return {
    wallMs,
    kernelMs,
    kernels: info.kernels.length,
    top: top.map(([kernel, e]) => ({ kernel, ...e })),
  };
}

/**
 * The host's part of a call (median of `calls`): milliseconds from its start to its first read
 * (`data()`), the JavaScript that records the call's GPU work (tfjs's kernels, Dawn's encoding)
 * without the wait for the GPU's results. Where this is most of the call, the call is bound by
 * the host (dispatches), not by the GPU.
 */
async function hostTime(task: Task, calls = 3): Promise<number> {
  const proto = tf.Tensor.prototype;
  const data = proto.data;
  const runs: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      let first: number | undefined;
      proto.data = function (this: tf.Tensor) {
        first ??= performance.now();
        return data.call(this);
      } as typeof data;
      const t0 = performance.now();
      await task();
      runs.push((first ?? performance.now()) - t0);
    }
  } finally {
    proto.data = data;
  }
  return median(runs);
}

/** `c` with `set()` in force during each of its calls (`set` returns what undoes it). */
function during(c: Contender, set: () => () => void): Contender {
  const wrap =
    (f: () => Promise<void>): (() => Promise<void>) =>
    async () => {
      const undo = set();
      try {
        await f();
      } finally {
        undo();
      }
    };
  return { train: wrap(c.train), forward: wrap(c.forward), dispose: c.dispose };
}

/**
 * The webgpu whole-sequence kernel (`src/fast/webgpu-sequence.ts`) unregistered: the fast path's
 * step kernels run, a few of tfjs's programs a step, as before it.
 */
function stepKernels(): () => void {
  const kinds = ['elman', 'lstm', 'gru'] as const;
  for (const kind of kinds) registerSequenceKernel(kind, 'webgpu', () => undefined);
  return () => {
    for (const kind of kinds) registerSequenceKernel(kind, 'webgpu', webgpuSequenceKernel);
  };
}

/** The whole-sequence kernel's sums in `n` slices, whatever their sizes. */
const sliced = (n: 1 | 2 | 4 | 8) => () => {
  slicing.fixed = n;
  return () => delete slicing.fixed;
};

/** Times one cell at one size: train and forward of every contender, alternated. */
async function benchRow(kind: Kind, s: Sizes): Promise<GpuRow> {
  const errorsBefore = dawn.errors.length;
  const data = makeData(s);
  const contenders: Record<string, Contender> = {};
  try {
    if (contenderNames.includes('ours')) contenders.ours = ours(kind, s, data);
    if (contenderNames.includes('tfLayers')) contenders.tfLayers = tfLayers(kind, s, data);
    if (args.plain) contenders.oursPlain = ours(kind, s, data, false);
    if (args.steps) contenders.oursSteps = during(ours(kind, s, data), stepKernels);
    if (slices) contenders.oursSlices = during(ours(kind, s, data), sliced(slices as 1 | 2 | 4 | 8));
    const pick = (what: 'train' | 'forward') =>
      Object.fromEntries(Object.entries(contenders).map(([n, c]) => [n, c[what]])) as Record<string, Task>;
    // alternate() runs each task once more before timing.
    for (let w = 1; w < warmup; w++) {
      for (const c of Object.values(contenders)) {
        await c.train();
        await c.forward();
      }
    }
    const trainRuns = await alternate(pick('train'), rounds);
    const forwardRuns = await alternate(pick('forward'), rounds);
    const byName = async <T>(f: (c: Contender) => Promise<T>) => {
      const out: Record<string, T> = {};
      for (const [n, c] of Object.entries(contenders)) out[n] = await f(c);
      return out;
    };
    type Work = { dispatches: number; submits: number; counts?: WebGpuCounts };
    const trainWork: Record<string, Work> = {};
    const forwardWork: Record<string, Work> = {};
    const work = async (task: () => Promise<void>): Promise<Work> => {
      let counts: WebGpuCounts | undefined;
      const dawnWork = await countGpuWork(async () => {
        counts = await countWebGpu(task);
      });
      return { ...dawnWork, counts };
    };
    for (const [n, c] of Object.entries(contenders)) {
      trainWork[n] = await work(c.train);
      forwardWork[n] = await work(c.forward);
    }
    const map = <T>(r: Record<string, T>, f: (v: T) => number) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));
    // One tf.profile per contender and call, one at a time (tfjs keeps one profile at a time):
    // the kernels per step, and with timestamp queries the GPU time.
    const profiled = async (what: 'train' | 'forward') =>
      args['no-profile'] ? undefined : byName((c) => kernelTimes(c[what]));
    const [trainProfile, forwardProfile] = [await profiled('train'), await profiled('forward')];
    const trainHostMs = await byName((c) => hostTime(c.train));
    const forwardHostMs = await byName((c) => hostTime(c.forward));
    const perStep = (p: Record<string, GpuTime> | undefined) => (p ? map(p, (t) => t.kernels / s.time) : {});
    const timed = dawn.features.includes('timestamp-query');
    const trainMs = map(trainRuns.wall, median);
    const forwardMs = map(forwardRuns.wall, median);
    return {
      cell: kind,
      sizes: s,
      rounds,
      trainMs,
      forwardMs,
      trainRuns: trainRuns.wall,
      forwardRuns: forwardRuns.wall,
      trainHostMs,
      forwardHostMs,
      trainKernelsPerStep: perStep(trainProfile),
      forwardKernelsPerStep: perStep(forwardProfile),
      trainDispatchesPerStep: map(trainWork, (w) => w.dispatches / s.time),
      forwardDispatchesPerStep: map(forwardWork, (w) => w.dispatches / s.time),
      trainSubmits: map(trainWork, (w) => w.submits),
      ...(timed && { trainGpuMs: trainProfile, forwardGpuMs: forwardProfile }),
      trainCounts: Object.fromEntries(Object.entries(trainWork).map(([k, w]) => [k, w.counts!])),
      forwardCounts: Object.fromEntries(Object.entries(forwardWork).map(([k, w]) => [k, w.counts!])),
      trainGflops: map(trainMs, (t) => trainFlops(kind, s) / t / 1e6),
      forwardGflops: map(forwardMs, (t) => forwardFlops(kind, s) / t / 1e6),
      slices: sequenceSlices(kind, s.batch, s.units),
      gpuErrors: dawn.errors.length - errorsBefore,
    };
  } finally {
    for (const c of Object.values(contenders)) c.dispose();
    data.x.dispose();
    data.y.dispose();
  }
}

/** Our forward pass, loss and gradients on `backend`, with the weights given (or the seed's). */
async function ourNumbers(
  backend: string,
  kind: Kind,
  s: Sizes,
  weights?: Record<string, Float32Array>,
): Promise<{
  y: Float32Array;
  loss: number;
  grads: Record<string, Float32Array>;
  weights: Record<string, Float32Array>;
}> {
  await tf.setBackend(backend);
  await tf.ready();
  const data = makeData(s);
  const net = rt.network({ cell: kind, inputSize: s.input, units: s.units, outputSize: s.output, seed: 7 });
  try {
    const params = net.params;
    if (weights) for (const [n, v] of Object.entries(params)) tf.tidy(() => v.assign(tf.tensor(weights[n], v.shape)));
    const own: Record<string, Float32Array> = {};
    for (const [n, v] of Object.entries(params)) own[n] = (await v.data()) as Float32Array;
    const yT = net.predict(data.x);
    const y = (await yT.data()) as Float32Array;
    yT.dispose();
    const { value, grads } = tf.variableGrads(() => {
      const { outputs } = rt.unroll(net.cell, data.x);
      return tf.losses.meanSquaredError(data.y, net.output(outputs)) as tf.Scalar;
    }, Object.values(params));
    const loss = (await value.data())[0];
    const g: Record<string, Float32Array> = {};
    for (const [n, v] of Object.entries(params)) g[n] = (await grads[v.name].data()) as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    return { y, loss, grads: g, weights: own };
  } finally {
    net.dispose();
    data.x.dispose();
    data.y.dispose();
  }
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Our forward pass and gradients on webgpu against the cpu backend. */
async function agreement(kind: Kind, s: Sizes): Promise<Agreement> {
  const cpu = await ourNumbers('cpu', kind, s);
  const gpu = await ourNumbers('webgpu', kind, s, cpu.weights);
  let gradMaxAbsDiff = 0;
  let gradMaxAbs = 0;
  for (const [n, g] of Object.entries(cpu.grads)) {
    gradMaxAbsDiff = Math.max(gradMaxAbsDiff, gpu.grads[n] ? maxAbsDiff(g, gpu.grads[n]) : Infinity);
    gradMaxAbs = Math.max(gradMaxAbs, maxAbs(g));
  }
  return {
    cell: kind,
    sizes: s,
    forwardMaxAbsDiff: maxAbsDiff(cpu.y, gpu.y),
    forwardMaxAbs: maxAbs(cpu.y),
    lossAbsDiff: Math.abs(cpu.loss - gpu.loss),
    gradMaxAbsDiff,
    gradMaxAbs,
  };
}

// The agreement first: it is quick, and a wrong GPU result makes the timings moot.
if (checkSize) {
  for (const kind of cells) {
    if (elapsedS() > budgetS) {
      results.skipped.push(`${kind} ${sizeKey(checkSize)} cpu check: time budget`);
      continue;
    }
    try {
      const a = await agreement(kind, checkSize);
      results.agreement.push(a);
      log(
        `check ${kind} ${sizeKey(checkSize)} webgpu vs cpu: forward max |diff| ${a.forwardMaxAbsDiff.toExponential(2)}, ` +
          `loss ${a.lossAbsDiff.toExponential(2)}, gradients ${a.gradMaxAbsDiff.toExponential(2)}`,
      );
    } catch (e) {
      log(`check ${kind} failed: ${(e as Error).stack ?? e}`);
      results.skipped.push(`${kind} ${sizeKey(checkSize)} cpu check: ${(e as Error).message}`);
    }
    save();
  }
  await tf.setBackend('webgpu');
  await tf.ready();
}

for (const s of sizes) {
  for (const kind of cells) {
    const what = `${kind} ${sizeKey(s)}`;
    if (elapsedS() > budgetS) {
      log(`webgpu: ${what} skipped (${elapsedS().toFixed(0)} s > --budget-s ${budgetS})`);
      results.skipped.push(`${what}: time budget`);
      save();
      continue;
    }
    log(`webgpu: ${what} ...`);
    try {
      const row = await benchRow(kind, s);
      results.rows.push(row);
      const f = (r: Record<string, number>) =>
        Object.entries(r)
          .map(([n, v]) => `${n} ${v.toFixed(1)}`)
          .join(', ');
      log(
        `webgpu: ${what} train ms ${f(row.trainMs)} (host ${f(row.trainHostMs ?? {})}); ` +
          `forward ms ${f(row.forwardMs)} (host ${f(row.forwardHostMs ?? {})}); kernels/step (train) ` +
          `${f(row.trainKernelsPerStep)}; dispatches/step (train) ${f(row.trainDispatchesPerStep)}; ` +
          `our sums' slices ${row.slices!.forward} forward, ${row.slices!.backward} back` +
          (row.gpuErrors ? `; ${row.gpuErrors} WebGPU errors` : '') +
          ` [${elapsedS().toFixed(0)} s]`,
      );
    } catch (e) {
      log(`webgpu: ${what} failed: ${(e as Error).stack ?? e}`);
      results.skipped.push(`${what}: ${(e as Error).message}`);
    }
    save();
  }
}

results.done = true;
save();
log(`wrote ${outPath} (${elapsedS().toFixed(0)} s)`);
process.stdout.write(
  args.json ? `${JSON.stringify(results, null, 2)}\n` : `${gpuTable(results, readJson<TorchResults>(args.torch))}\n`,
);
releaseDawn();
// Dawn's device can keep the event loop alive; leave once the output is out.
setTimeout(() => process.exit(0), 1000).unref();
