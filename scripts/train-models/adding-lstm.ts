/**
 * Retrains `models/adding-lstm`: an LSTM that solves the adding problem with T = 50.
 *
 *   npx tsx scripts/train-models/adding-lstm.ts
 *
 * Fresh seeded batches for training; a batch with a seed the training never draws is the
 * held-out test. Runs on the wasm backend, a few minutes.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as rt from '../../src/index.js';
import { writeCard } from './card.js';
import { ADDING_T, addingMse, addingTest, MODELS_DIR } from './data.js';

const DIR = join(MODELS_DIR, 'adding-lstm');
const CONFIG = { units: 32, batch: 32, batches: 2000, learningRate: 0.005, clipNorm: 1, seed: 1 };

await rt.backends.use('wasm');
const net = rt.network({ cell: 'lstm', inputSize: 2, units: CONFIG.units, outputSize: 1, seed: CONFIG.seed });
const t0 = Date.now();
await rt.train(
  net,
  rt.data.addingBatches({ batch: CONFIG.batch, time: ADDING_T, seed: CONFIG.seed, batches: CONFIG.batches }),
  {
    loss: 'mse',
    learningRate: CONFIG.learningRate,
    clipNorm: CONFIG.clipNorm,
    callbacks: {
      onBatchEnd: (batch, logs) => {
        if ((batch + 1) % 250 === 0) console.log(`batch ${batch + 1}: loss ${logs.loss.toFixed(4)}`);
      },
    },
    progress: false,
  },
);
const seconds = (Date.now() - t0) / 1000;
const test = addingTest();
const mse = addingMse(net, test);
console.log(`test MSE ${mse.toFixed(5)} (baseline ${rt.data.ADDING_BASELINE_MSE.toFixed(4)}), ${seconds.toFixed(0)} s`);

// A fresh folder: the file handler would otherwise keep the old weights under a new name.
await rm(DIR, { recursive: true, force: true });
await mkdir(DIR, { recursive: true });
await net.save(`file://${DIR}`);
await writeCard(DIR, {
  title: 'adding-lstm: the adding problem, T = 50, with an LSTM',
  summary:
    'An LSTM (32 units) and a linear output that reads a sequence of 50 (value, marker) pairs and gives, at ' +
    'the last step, the sum of the two marked values: the adding problem of Hochreiter & Schmidhuber (1997), ' +
    'a test of memory over about 25 steps. Always answering the mean, 1, scores MSE 1/6 ≈ 0.167.',
  data: [
    `\`rt.data.addingBatches({ batch: ${CONFIG.batch}, time: ${ADDING_T}, seed: ${CONFIG.seed}, batches: ` +
      `${CONFIG.batches} })\`: ${CONFIG.batches} fresh batches of ${CONFIG.batch} sequences.`,
    `Test (held out): \`rt.data.addingProblem({ batch: 1000, time: ${ADDING_T}, seed: 424242 })\` ` +
      '(`addingTest` in `scripts/train-models/data.ts`).',
  ],
  training: [
    `\`rt.network({ cell: 'lstm', inputSize: 2, units: ${CONFIG.units}, outputSize: 1, seed: ${CONFIG.seed} })\`.`,
    `\`rt.train\`: full BPTT, the loss (MSE) at the last step, Adam with learning rate ${CONFIG.learningRate}, ` +
      `gradients clipped to global norm ${CONFIG.clipNorm}. Backend: wasm, ${seconds.toFixed(0)} s here.`,
  ],
  command: 'npx tsx scripts/train-models/adding-lstm.ts',
  metrics: {
    testMse: { value: mse, about: 'the last-step prediction on 1000 held-out sequences' },
    baselineMse: { value: rt.data.ADDING_BASELINE_MSE, about: 'always predicting 1' },
  },
  usage: `
import * as tf from '@tensorflow/tfjs';
import * as rt from 'tfjs-recurrent';
const net = await rt.loadNetwork('file://models/adding-lstm');
const { x, y } = rt.data.addingProblem({ batch: 4, time: 50, seed: 7 });
net.predict(x).slice([0, 49, 0], [-1, 1, 1]).print(); // close to y
`,
});
console.log(`saved to ${DIR}`);
