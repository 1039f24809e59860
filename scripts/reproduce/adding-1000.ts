/**
 * The adding problem at T = 1,000 (Hochreiter & Schmidhuber 1997; the long setting of Feng et al.
 * 2024's comparisons): LSTM, GRU, minGRU and minLSTM trained on the same stream of batches, test
 * MSE on 1,000 held-out sequences against the 0.167 of always predicting the mean (solved: well
 * below 0.01). `--minutes M` stops each cell after M minutes of the process's CPU time. The minimal cells train through their scan (`rt.unroll`'s default), the LSTM and
 * GRU through their fast paths.
 *
 *     npx tsx scripts/reproduce/adding-1000.ts [--cells lstm,gru,mingru,minlstm] [--steps 2000]
 *         [--minutes 0] [--time 1000] [--units 64] [--batch 32] [--lr 0.003] [--seed 1] [--backend wasm]
 *
 * Writes out/reproduce/adding-<time>.json and prints a table (markdown).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import { addingProblem, ADDING_BASELINE_MSE } from '../../src/data/adding.js';
import { trainAdding } from '../adding-train.js';

const { values: args } = parseArgs({
  options: {
    cells: { type: 'string', default: 'lstm,gru,mingru,minlstm' },
    steps: { type: 'string', default: '2000' },
    time: { type: 'string', default: '1000' },
    units: { type: 'string', default: '64' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.003' },
    seed: { type: 'string', default: '1' },
    every: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'out/reproduce' },
  },
});
const [steps, time, units, batch, learningRate, seed, every, minutes] = [
  args.steps,
  args.time,
  args.units,
  args.batch,
  args.lr,
  args.seed,
  args.every,
  args.minutes,
].map(Number);
const cells = args.cells.split(',') as rt.CellKind[];
await rt.backends.use(args.backend);

const test = addingProblem({ batch: 1000, time, seed: seed + 1_000_003 });
const budget = minutes > 0 ? { seconds: minutes * 60, by: 'cpu' as const } : undefined;

const task = {
  time,
  units,
  batch,
  steps,
  minutesPerCell: minutes,
  learningRate,
  clipNorm: 1,
  seed,
  backend: tf.getBackend(),
};
await mkdir(args.out, { recursive: true });
const rows = [];
for (const cell of cells) {
  const net = rt.network({ cell, inputSize: 2, units, outputSize: 1, seed });
  const curve = await trainAdding(net, test, {
    steps,
    batch,
    learningRate,
    seed,
    every,
    budget,
    onPoint: (p) =>
      process.stderr.write(
        `${cell} step ${p.step} test MSE ${p.mse.toFixed(4)} (${p.cpu.toFixed(0)} s CPU, ${p.wall.toFixed(0)} s wall)\n`,
      ),
  });
  const mses = curve.map((c) => c.mse);
  const last = curve.at(-1)!;
  rows.push({
    cell,
    steps: last.step,
    finalMse: last.mse,
    bestMse: Math.min(...mses),
    cpu: last.cpu,
    wall: last.wall,
    curve,
  });
  net.dispose();
  // Written after every cell: a long run stopped part-way keeps the cells it finished.
  await writeFile(
    `${args.out}/adding-${time}.json`,
    JSON.stringify({ task, baselineMse: ADDING_BASELINE_MSE, rows }, null, 2),
  );
}

const table = [
  `Adding problem, T = ${time}: up to ${steps} steps of batch ${batch}${minutes > 0 ? ` or ${minutes} min of CPU time per cell` : ''}, ${units} units, Adam ${learningRate}, clipNorm 1, ${tf.getBackend()}`,
  '',
  '| cell | steps | test MSE (last) | best | baseline | training s (CPU / wall) |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.cell} | ${r.steps} | ${r.finalMse.toFixed(4)} | ${r.bestMse.toFixed(4)} | ${ADDING_BASELINE_MSE.toFixed(3)} | ${r.cpu.toFixed(0)} / ${r.wall.toFixed(0)} |`,
  ),
];
process.stdout.write(`${table.join('\n')}\n`);
tf.dispose([test.x, test.y]);
