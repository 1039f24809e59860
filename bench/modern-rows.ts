/**
 * The rows of the modern-cells bench (`./modern.ts`) on the current backend, and their markdown
 * table. Browser-safe (no `node:` imports): `./webgl-page.ts` runs the same rows on WebGL in
 * Chromium.
 *
 * One training step (forward, gradient of every parameter, Adam update) of minGRU, minLSTM, the
 * LRU and IndRNN (σ = identity, so that it scans, and ReLU) beside our LSTM (its fast path,
 * hand-derived gradient). Each modern cell runs its default path (`fast`): the fused scan of
 * `src/fast/wasm/scan-kernel.ts` on cpu and wasm for all but the LRU; else the scan in tf ops
 * (`src/fast/scan.ts`, by pairs: on webgl, and the LRU everywhere); else (IndRNN with ReLU on
 * webgl) the step loop. Where it is fused, the scan in tf ops is timed too (the fused scan
 * unregistered meanwhile); with `loop` also the step loop (`fast: false`). The loss is rt's
 * `'mse'`, what `rt.train` runs; the last row is that loss alone (its forward and gradient on
 * outputs of the same shape), what every cell's step, the LSTM's included, pays besides its own
 * work. Medians of alternated rounds (`./measure.ts`); on cpu and wasm each timed step follows an
 * untimed step of the same task.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { definitionOf } from '../src/cells/kinds.js';
import { registerScanKernel } from '../src/fast/index.js';
import { wasmScanKernel } from '../src/fast/wasm/scan-kernel.js';
import { lossFunction } from '../src/objective/loss.js';
import { alternate, median, type Runs, type Task } from './measure.js';

/** The sizes of the modern-cells bench. */
export interface ModernSizes {
  batch: number;
  time: number;
  input: number;
  units: number;
}

/** One cell's training step on one backend (or the loss alone: `cell` `'loss'`). */
export interface ModernRow {
  backend: string;
  cell: string;
  sizes: ModernSizes;
  /**
   * Median wall-clock ms of one training step, by path: `fused` (the fused scan), `ops` (the scan
   * in tf ops), `loop` (the step loop), `fast` (the LSTM's fast path), `loss` (the loss alone);
   * `lstm`, in a modern cell's row, our LSTM's step timed in the same rounds (cpu and wasm).
   */
  trainMs: Record<string, number>;
  /**
   * Median CPU ms of this process for the same (less disturbed than wall-clock time on a shared
   * machine); absent where the process has no CPU clock (a browser page, whose WebGL work runs in
   * Chromium's GPU process anyway).
   */
  trainCpuMs?: Record<string, number>;
  /** Our LSTM's ms over this cell's (its default path), in CPU ms where measured, else wall-clock. */
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

/** How a step runs: `fast` as `unroll` takes it; `fused` false unregisters the fused scan. */
interface Path {
  fast: boolean;
  fused: boolean;
}

/** One training step of `cell` over `x` on a path. */
function trainStep(cell: rt.Cell, optimizer: tf.Optimizer, x: tf.Tensor3D, y: tf.Tensor3D, { fast, fused }: Path) {
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

/** The paths a modern cell is timed on, its default path (`fast`) first. */
function pathsOf(cell: rt.Cell, loop: boolean): Record<string, Path> {
  const fused = ['cpu', 'wasm'].includes(tf.getBackend()) && wasmScanKernel(cell.config) !== undefined;
  const linear = definitionOf(cell.kind).linear?.(cell.config) !== undefined;
  const on = { fast: true, fused: true };
  return {
    ...(fused && { fused: on }),
    ...(linear && { ops: { fast: true, fused: !fused } }),
    ...((loop || (!fused && !linear)) && { loop: { fast: false, fused: true } }),
  };
}

/** The medians of `runs` by path: wall-clock, and CPU time where this process has a CPU clock. */
function medians(runs: Runs): Pick<ModernRow, 'trainMs' | 'trainCpuMs'> {
  const of = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
  const cpu = of(runs.cpu);
  return { trainMs: of(runs.wall), ...(!Object.values(cpu).some(Number.isNaN) && { trainCpuMs: cpu }) };
}

/** The ms the ratios compare: CPU time where measured, else wall-clock time. */
const ratioMs = (r: Pick<ModernRow, 'trainMs' | 'trainCpuMs'>) => r.trainCpuMs ?? r.trainMs;

/** One row's times for the log: CPU ms (wall) by path, or wall ms alone. */
function describe({ trainMs, trainCpuMs }: Pick<ModernRow, 'trainMs' | 'trainCpuMs'>): string {
  return Object.keys(trainMs)
    .map((k) =>
      trainCpuMs
        ? `${k} ${trainCpuMs[k].toFixed(0)} ms CPU (${trainMs[k].toFixed(0)} wall)`
        : `${k} ${trainMs[k].toFixed(0)} ms wall`,
    )
    .join(', ');
}

/** Rows for every cell on the current backend. */
export async function modernRows(
  sizes: ModernSizes,
  rounds: number,
  loop: boolean,
  log: (msg: string) => void,
): Promise<ModernRow[]> {
  const x = tf.randomNormal([sizes.batch, sizes.time, sizes.input], 0, 1, 'float32', 1) as tf.Tensor3D;
  const y = tf.randomNormal([sizes.batch, sizes.time, sizes.units], 0, 1, 'float32', 2) as tf.Tensor3D;
  const rows: ModernRow[] = [];
  let lstmMs = NaN;
  // On the host the speed of a 2-core machine drifts by tens of per cent within minutes: on cpu
  // and wasm our LSTM's step is timed beside each cell's, in the same rounds, for the ratio (on
  // webgl, where it takes seconds, once).
  const beside = tf.getBackend() !== 'webgl';
  // Times the tasks of one row (the default path first) and adds the row. Its ratio to our LSTM
  // is to `lstm` where that is among the tasks (our LSTM's step alternated with this row's), else
  // to the LSTM's own row.
  const timeRow = async (cell: string, tasks: Record<string, Task>) => {
    // On cpu and wasm each timed step follows an untimed one of its own kind (see `alternate`): the
    // CPU time compared is then the row's own, not partly its predecessor's garbage collection.
    const times = medians(await alternate(tasks, rounds, beside));
    const ms = ratioMs(times);
    if (cell === 'lstm') lstmMs = ms.fast;
    const backend = tf.getBackend();
    log(`${backend}: ${cell} T=${sizes.time} ${describe(times)}`);
    rows.push({ backend, cell, sizes, ...times, speedupVsLstm: (ms.lstm ?? lstmMs) / Object.values(ms)[0] });
  };
  const make = (name: string) => CELLS[name]({ inputSize: sizes.input, units: sizes.units, seed: 3 });
  const [lstm, lstmOptimizer] = [make('lstm'), tf.train.adam(1e-3)];
  const lstmStep = trainStep(lstm, lstmOptimizer, x, y, { fast: true, fused: true });
  for (const name of Object.keys(CELLS)) {
    if (name === 'lstm') {
      await timeRow(name, { fast: lstmStep });
      continue;
    }
    const [cell, optimizer] = [make(name), tf.train.adam(1e-3)];
    const paths = pathsOf(cell, loop);
    const tasks = Object.fromEntries(
      Object.entries(paths).map(([k, path]) => [k, trainStep(cell, optimizer, x, y, path)]),
    );
    await timeRow(name, beside ? { ...tasks, lstm: lstmStep } : tasks);
    optimizer.dispose();
    cell.dispose();
  }
  lstm.dispose();
  lstmOptimizer.dispose();
  const outputs = tf.randomNormal([sizes.batch, sizes.time, sizes.units], 0, 1, 'float32', 4) as tf.Tensor3D;
  await timeRow('loss', { loss: lossStep(outputs, y) });
  tf.dispose([x, y, outputs]);
  return rows;
}

/** The rows as a markdown table; `webglRenderer` names the GL renderer of webgl rows. */
export function modernMarkdown(rows: ModernRow[], webglRenderer?: string): string {
  if (rows.length === 0) return '';
  const { batch, time, input, units } = rows[0].sizes;
  const both = (r: ModernRow, path: string) =>
    r.trainMs[path] === undefined
      ? ''
      : r.trainCpuMs
        ? `${r.trainCpuMs[path].toFixed(0)} (${r.trainMs[path].toFixed(0)})`
        : r.trainMs[path].toFixed(0);
  const ratio = (r: ModernRow, a: string, b: string) => {
    const ms = ratioMs(r);
    return ms[a] === undefined || ms[b] === undefined ? '' : `${(ms[a] / ms[b]).toFixed(1)}x`;
  };
  const start = (r: ModernRow) => `| ${r.backend} | ${r.trainCpuMs ? 'CPU (wall)' : 'wall'} |`;
  return [
    `### Modern cells: one training step at T = ${time} (batch ${batch}, input ${input}, units ${units})`,
    '',
    'ms per training step, medians of alternated rounds, in the clock the row names: `CPU (wall)` is ' +
      "this process's CPU time, wall-clock time in parentheses (cpu, wasm); `wall` is wall-clock time " +
      "alone (webgl, in headless Chromium: the page's GL work runs in Chromium's GPU process" +
      `${webglRenderer ? `, ${webglRenderer}` : ''}). The ratios are of the first number.`,
    '',
    '| backend | clock | cell | fused scan | scan in tf ops | step loop | fused vs tf ops | vs our LSTM |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      if (r.cell === 'lstm') return `${start(r)} lstm (fast path) | ${both(r, 'fast')} | | | | 1.0x |`;
      if (r.cell === 'loss') return `${start(r)} the loss alone | ${both(r, 'loss')} | | | | |`;
      const cells = [both(r, 'fused'), both(r, 'ops'), both(r, 'loop'), ratio(r, 'ops', 'fused')];
      return `${start(r)} ${r.cell} | ${cells.join(' | ')} | ${r.speedupVsLstm.toFixed(1)}x |`;
    }),
  ].join('\n');
}
