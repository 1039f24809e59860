/**
 * The modern cells' training speed at a long sequence (T = 512 by default): one training step
 * (forward, gradient of every parameter, Adam update) of minGRU, minLSTM, the LRU and IndRNN
 * (σ = identity, so that it scans) beside our LSTM (its fast path, hand-derived gradient), on each
 * backend; for the modern cells also their step loop (`fast: false`), so that the scan's
 * advantage shows side by side. Medians of alternated rounds (`./measure.ts`).
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
import { alternate, median } from './measure.js';

export interface ModernRow {
  backend: string;
  cell: string;
  sizes: { batch: number; time: number; input: number; units: number };
  /** Median wall-clock ms of one training step, by path (`scan`, `loop`; the LSTM's `fast`). */
  trainMs: Record<string, number>;
  /** Median CPU ms of this process for the same (less disturbed than wall-clock time on a shared machine). */
  trainCpuMs: Record<string, number>;
  /** Our LSTM's CPU ms over this cell's (scan). */
  speedupVsLstm: number;
}

const CELLS: Record<string, (o: { inputSize: number; units: number; seed: number }) => rt.Cell> = {
  lstm: (o) => rt.cells.lstm(o),
  mingru: (o) => rt.cells.mingru(o),
  minlstm: (o) => rt.cells.minlstm(o),
  lru: (o) => rt.cells.lru(o),
  indrnn: (o) => rt.cells.indrnn({ ...o, activation: 'linear' }),
};

/** One training step of `cell` over `x` (loss: mean square of every output against `y`). */
function trainStep(cell: rt.Cell, optimizer: tf.Optimizer, x: tf.Tensor3D, y: tf.Tensor3D, fast: boolean) {
  return async () => {
    const loss = optimizer.minimize(
      () => tf.mean(tf.square(tf.sub(rt.unroll(cell, x, { fast }).outputs, y))) as tf.Scalar,
      true,
      Object.values(cell.params),
    );
    await loss!.data();
    loss!.dispose();
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
  for (const [name, make] of Object.entries(CELLS)) {
    const cell = make({ inputSize: sizes.input, units: sizes.units, seed: 3 });
    const optimizer = tf.train.adam(1e-3);
    const paths = name === 'lstm' ? { fast: true } : { scan: true, ...(loop && { loop: false }) };
    const tasks = Object.fromEntries(
      Object.entries(paths).map(([k, fast]) => [k, trainStep(cell, optimizer, x, y, fast)]),
    );
    const runs = await alternate(tasks, rounds);
    const medians = (m: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
    const [trainMs, trainCpuMs] = [medians(runs.wall), medians(runs.cpu)];
    if (name === 'lstm') lstmMs = trainCpuMs.fast;
    const row = {
      backend: tf.getBackend(),
      cell: name,
      sizes,
      trainMs,
      trainCpuMs,
      speedupVsLstm: lstmMs / (trainCpuMs.scan ?? trainCpuMs.fast),
    };
    const timings = Object.keys(trainMs).map(
      (k) => `${k} ${trainCpuMs[k].toFixed(0)} ms CPU (${trainMs[k].toFixed(0)} wall)`,
    );
    log(`${row.backend}: ${name} T=${sizes.time} ${timings.join(', ')}`);
    rows.push(row);
    optimizer.dispose();
    cell.dispose();
  }
  tf.dispose([x, y]);
  return rows;
}

/** The rows as a markdown table. */
export function modernMarkdown(rows: ModernRow[]): string {
  if (rows.length === 0) return '';
  const { batch, time, input, units } = rows[0].sizes;
  const ms = (v: number | undefined) => (v === undefined ? '' : v.toFixed(0));
  return [
    `### Modern cells: one training step at T = ${time} (batch ${batch}, input ${input}, units ${units})`,
    '',
    '| backend | cell | scan: CPU ms (wall) | step loop: CPU ms (wall) | scan vs loop (CPU) | vs our LSTM (CPU) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const path = (m: Record<string, number>) => m.scan ?? m.fast;
      const [scan, loop] = [path(r.trainCpuMs), r.trainCpuMs.loop];
      const both = (cpu: number | undefined, wall: number | undefined) =>
        cpu === undefined ? '' : `${ms(cpu)} (${ms(wall)})`;
      const vsLoop = loop === undefined ? '' : `${(loop / scan).toFixed(1)}x`;
      const label = r.cell === 'lstm' ? 'lstm (fast path)' : r.cell === 'indrnn' ? 'indrnn (σ = identity)' : r.cell;
      return `| ${r.backend} | ${label} | ${both(scan, path(r.trainMs))} | ${both(loop, r.trainMs.loop)} | ${vsLoop} | ${r.speedupVsLstm.toFixed(1)}x |`;
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
