/**
 * The adding problem at T = 1,000 (Hochreiter & Schmidhuber 1997; the long setting of Feng et al.
 * 2024's comparisons): LSTM, GRU, minGRU and minLSTM trained on the same stream of batches, test
 * MSE on 1,000 held-out sequences against the 0.167 of always predicting the mean (solved: well
 * below 0.01). The minimal cells train through their scan (`rt.unroll`'s default), the LSTM and
 * GRU through their fast paths.
 *
 *     npx tsx scripts/reproduce/adding-1000.ts [--cells lstm,gru,mingru,minlstm] [--steps 2000]
 *         [--time 1000] [--units 64] [--batch 32] [--lr 0.003] [--seed 1] [--backend wasm]
 *
 * Writes out/reproduce/adding-<time>.json and prints a table (markdown).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import { addingBatches, addingProblem, ADDING_BASELINE_MSE } from '../../src/data/adding.js';

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
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'out/reproduce' },
  },
});
const [steps, time, units, batch, learningRate, seed, every] = [
  args.steps,
  args.time,
  args.units,
  args.batch,
  args.lr,
  args.seed,
  args.every,
].map(Number);
const cells = args.cells.split(',') as rt.CellKind[];
await rt.backends.use(args.backend);

const test = addingProblem({ batch: 1000, time, seed: seed + 1_000_003 });
function testMse(net: rt.RecurrentNetwork): number {
  return tf.tidy(() => {
    const y = net.predict(test.x);
    const last = y.slice([0, time - 1, 0], [y.shape[0], 1, 1]).reshape([-1, 1]);
    return tf.losses.meanSquaredError(test.y, last).dataSync()[0];
  });
}

const rows = [];
for (const cell of cells) {
  const net = rt.network({ cell, inputSize: 2, units, outputSize: 1, seed });
  const curve = [{ step: 0, mse: testMse(net) }];
  let seconds = 0;
  let last = performance.now();
  await rt.train(net, addingBatches({ batch, time, seed, batches: steps }), {
    loss: 'mse',
    target: 'lastStep',
    optimizer: 'adam',
    learningRate,
    clipNorm: 1,
    seed,
    progress: false,
    callbacks: {
      onBatchEnd: (b) => {
        const step = b + 1;
        if (step % every !== 0 && step !== steps) return;
        seconds += (performance.now() - last) / 1000;
        curve.push({ step, mse: testMse(net) });
        process.stderr.write(
          `${cell} step ${step} test MSE ${curve.at(-1)!.mse.toFixed(4)} (${seconds.toFixed(0)} s)\n`,
        );
        last = performance.now();
      },
    },
  });
  const mses = curve.map((c) => c.mse);
  rows.push({ cell, finalMse: mses.at(-1)!, bestMse: Math.min(...mses), seconds, curve });
  net.dispose();
}

const task = { time, units, batch, steps, learningRate, clipNorm: 1, seed, backend: tf.getBackend() };
await mkdir(args.out, { recursive: true });
await writeFile(
  `${args.out}/adding-${time}.json`,
  JSON.stringify({ task, baselineMse: ADDING_BASELINE_MSE, rows }, null, 2),
);
const table = [
  `Adding problem, T = ${time}: ${steps} steps of batch ${batch}, ${units} units, Adam ${learningRate}, clipNorm 1, ${tf.getBackend()}`,
  '',
  '| cell | test MSE (last) | best | baseline | training s |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.cell} | ${r.finalMse.toFixed(4)} | ${r.bestMse.toFixed(4)} | ${ADDING_BASELINE_MSE.toFixed(3)} | ${r.seconds.toFixed(0)} |`,
  ),
];
process.stdout.write(`${table.join('\n')}\n`);
tf.dispose([test.x, test.y]);
