/**
 * The modern cells' training speed at a long sequence (T = 512 by default): one training step
 * (forward, gradient of every parameter, Adam update) of minGRU, minLSTM, the LRU and IndRNN
 * (σ = identity, so that it scans, and ReLU) beside our LSTM (its fast path, hand-derived
 * gradient), on each backend. Each modern cell runs its default path (`fast`: the fused scan of
 * `src/fast/wasm/scan-kernel.ts` on cpu and wasm for all but the LRU, else the scan in tf ops),
 * and, where it is fused, also the scan in tf ops (the fused scan unregistered meanwhile); with
 * `--loop` also the step loop (`fast: false`). The loss is rt's `'mse'`, what `rt.train` runs; the
 * last row is that loss alone (its forward and gradient on outputs of the same shape), what every
 * cell's step, the LSTM's included, pays besides its own work.
 * Medians of alternated rounds (`./measure.ts`).
 *
 *     npx tsx bench/modern.ts [--backends wasm,cpu] [--time 512] [--units 128] [--rounds 3] [--loop] [--json]
 *
 * writes `out/bench-modern.json`. `npm run bench` runs it too, after its own tables (`--no-modern`
 * leaves it out; `--plain` adds the step loops).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { registerScanKernel } from '../src/fast/index.js';
import { wasmScanKernel } from '../src/fast/wasm/scan-kernel.js';
import { lossFunction } from '../src/objective/loss.js';
import { alternate, median } from './measure.js';

export interface ModernRow {
  backend: string;
  cell: string;
  sizes: { batch: number; time: number; input: number; units: number };
  /**
   * Median wall-clock ms of one training step, by path: `fused` (the fused scan), `ops` (the scan
   * in tf ops), `loop` (the step loop), `fast` (the LSTM's fast path), `loss` (the loss alone).
   */
  trainMs: Record<string, number>;
  /** Median CPU ms of this process for the same (less disturbed than wall-clock time on a shared machine). */
  trainCpuMs: Record<string, number>;
  /** Our LSTM's CPU ms over this cell's (its default path). */
  speedupVsLstm: number;
}

const CELLS: Record<string, (o: { inputSize: number; units: number; seed: number }) => rt.Cell> = {
  lstm: (o) => rt.cells.lstm(o),
  mingru: (o) => rt.cells.mingru(o),
  minlstm: (o) => rt.cells.minlstm(o),
  lru: (o) => rt.cells.lru(o),
  'indrnn (σ = identity)': (o) => rt.cells.indrnn({ ...o, activation: 'linear' }),
  'indrnn (relu)': (o) => rt.cells.indrnn(o),
};

/**
 * The training loss: rt's `'mse'` (the mean square of every output against `y`), as `rt.train`
 * runs it — on cpu and wasm one kernel each way (`src/objective/fused-loss.ts`); the LSTM pays the same.
 */
const mse = lossFunction('mse', 'bench/modern');
const lossOf = (outputs: tf.Tensor, y: tf.Tensor) => mse(y, outputs);

/**
 * One training step of `cell` over `x` on a path: `fast` as `unroll` takes it; `fused` false
 * unregisters the fused scan of the cell's kind for the step (the scan in tf ops runs).
 */
function trainStep(
  cell: rt.Cell,
  optimizer: tf.Optimizer,
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  { fast, fused }: { fast: boolean; fused: boolean },
) {
  const backend = tf.getBackend();
  return async () => {
    if (!fused) registerScanKernel(cell.kind, backend, () => undefined);
    try {
      const loss = optimizer.minimize(
        () => lossOf(rt.unroll(cell, x, { fast }).outputs, y),
        true,
        Object.values(cell.params),
      );
      await loss!.data();
      loss!.dispose();
    } finally {
      if (!fused) registerScanKernel(cell.kind, backend, wasmScanKernel);
    }
  };
}

/** The loss alone: its value and gradient on fixed outputs of the cells' shape. */
function lossStep(outputs: tf.Tensor3D, y: tf.Tensor3D) {
  return async () => {
    const [value, grad] = tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad((o: tf.Tensor) => lossOf(o, y))(outputs);
      return [value, grad];
    });
    await value.data();
    tf.dispose([value, grad]);
  };
}

/** Rows for every cell on the current backend. */
export async function modernRows(
  sizes: { batch: number; time: number; input: number; units: number },
  rounds: number,
  loop: boolean,
  log: (msg: string) => void,
): Promise<ModernRow[]> {
  const x = tf.randomNormal([sizes.batch, sizes.time, sizes.input], 0, 1, 'float32', 1) as tf.Tensor3D;
  const y = tf.randomNormal([sizes.batch, sizes.time, sizes.units], 0, 1, 'float32', 2) as tf.Tensor3D;
  const rows: ModernRow[] = [];
  let lstmMs = NaN;
  const medians = (m: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
  for (const [name, make] of Object.entries(CELLS)) {
    const cell = make({ inputSize: sizes.input, units: sizes.units, seed: 3 });
    const optimizer = tf.train.adam(1e-3);
    const on = { fast: true, fused: true };
    const paths: Record<string, { fast: boolean; fused: boolean }> =
      name === 'lstm'
        ? { fast: on }
        : hasFusedScan(cell)
          ? { fused: on, ...(cell.config.activation !== 'relu' && { ops: { fast: true, fused: false } }) }
          : { ops: on };
    if (loop && name !== 'lstm') paths.loop = { fast: false, fused: true };
    const tasks = Object.fromEntries(
      Object.entries(paths).map(([k, path]) => [k, trainStep(cell, optimizer, x, y, path)]),
    );
    const runs = await alternate(tasks, rounds);
    const [trainMs, trainCpuMs] = [medians(runs.wall), medians(runs.cpu)];
    if (name === 'lstm') lstmMs = trainCpuMs.fast;
    const row = {
      backend: tf.getBackend(),
      cell: name,
      sizes,
      trainMs,
      trainCpuMs,
      speedupVsLstm: lstmMs / (trainCpuMs.fused ?? trainCpuMs.ops ?? trainCpuMs.fast),
    };
    const timings = Object.keys(trainMs).map(
      (k) => `${k} ${trainCpuMs[k].toFixed(0)} ms CPU (${trainMs[k].toFixed(0)} wall)`,
    );
    log(`${row.backend}: ${name} T=${sizes.time} ${timings.join(', ')}`);
    rows.push(row);
    optimizer.dispose();
    cell.dispose();
  }
  const outputs = tf.randomNormal([sizes.batch, sizes.time, sizes.units], 0, 1, 'float32', 4) as tf.Tensor3D;
  const runs = await alternate({ loss: lossStep(outputs, y) }, rounds);
  const [trainMs, trainCpuMs] = [medians(runs.wall), medians(runs.cpu)];
  log(`${tf.getBackend()}: the loss alone ${trainCpuMs.loss.toFixed(0)} ms CPU (${trainMs.loss.toFixed(0)} wall)`);
  rows.push({
    backend: tf.getBackend(),
    cell: 'loss',
    sizes,
    trainMs,
    trainCpuMs,
    speedupVsLstm: lstmMs / trainCpuMs.loss,
  });
  tf.dispose([x, y, outputs]);
  return rows;
}

/** Whether the current backend has a fused scan for `cell` (then also its scan in tf ops is timed). */
function hasFusedScan(cell: rt.Cell): boolean {
  return ['cpu', 'wasm'].includes(tf.getBackend()) && wasmScanKernel(cell.config) !== undefined;
}

/** The rows as a markdown table. */
export function modernMarkdown(rows: ModernRow[]): string {
  if (rows.length === 0) return '';
  const { batch, time, input, units } = rows[0].sizes;
  const both = (r: ModernRow, path: string) =>
    r.trainCpuMs[path] === undefined ? '' : `${r.trainCpuMs[path].toFixed(0)} (${r.trainMs[path].toFixed(0)})`;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? '' : `${(a / b).toFixed(1)}x`;
  return [
    `### Modern cells: one training step at T = ${time} (batch ${batch}, input ${input}, units ${units})`,
    '',
    '| backend | cell | fused scan: CPU ms (wall) | scan in tf ops | step loop | fused vs tf ops (CPU) | vs our LSTM (CPU) |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const cpu = r.trainCpuMs;
      if (r.cell === 'lstm') return `| ${r.backend} | lstm (fast path) | ${both(r, 'fast')} | | | | 1.0x |`;
      if (r.cell === 'loss') return `| ${r.backend} | the loss alone | ${both(r, 'loss')} | | | | |`;
      return `| ${r.backend} | ${r.cell} | ${both(r, 'fused')} | ${both(r, 'ops')} | ${both(r, 'loop')} | ${ratio(cpu.ops, cpu.fused)} | ${r.speedupVsLstm.toFixed(1)}x |`;
    }),
  ].join('\n');
}

/**
 * Every backend in turn, written to `out` and printed (markdown, or JSON with `json`). `loop` also
 * times the step loop (`fast: false`) of the modern cells, slow at this length.
 */
export async function modernBench(
  backends: readonly string[],
  options: { time?: number; units?: number; rounds: number; loop: boolean; json: boolean; out: string },
  log: (msg: string) => void,
): Promise<ModernRow[]> {
  const rows: ModernRow[] = [];
  for (const backend of backends) {
    await rt.backends.use(backend);
    const sizes = { batch: 32, time: options.time ?? 512, input: 16, units: options.units ?? 128 };
    rows.push(...(await modernRows(sizes, options.rounds, options.loop, log)));
  }
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(rows, null, 2));
  log(`wrote ${options.out}`);
  process.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${modernMarkdown(rows)}\n`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'wasm,cpu' },
      time: { type: 'string', default: '512' },
      units: { type: 'string', default: '128' },
      rounds: { type: 'string', default: '3' },
      loop: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'out/bench-modern.json' },
    },
  });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const [time, units, rounds] = [values.time, values.units, values.rounds].map(Number);
  await modernBench(values.backends.split(','), { ...values, time, units, rounds }, log);
}
