/**
 * A task-level comparison with brain.js (its `recurrent.LSTMTimeStep`): the same next-value
 * prediction task, the same LSTM width, each trained until the mean squared error of its
 * next-step predictions over the training sequences reaches the same target; the time counted is
 * training time only (evaluation excluded), capped by a budget.
 *
 * The task: 64 sine waves of 20 points, random frequency and phase (seeded), scaled into
 * [0.1, 0.9]. brain.js trains online (one update per sequence, its own RMSProp), ours full batch
 * with Adam through `rt.train`; both are judged by the same evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import brain from 'brain.js';
import * as rt from '../src/index.js';
import { prng } from '../src/init.js';

export interface BrainReport {
  task: string;
  units: number;
  targetMse: number;
  budgetS: number;
  rows: {
    who: string;
    backend?: string;
    /** Seconds of training until the target was reached, or null if the budget ran out. */
    seconds: number | null;
    /** Training seconds spent (the budget when the target was not reached). */
    trainedS: number;
    finalMse: number;
    /** Passes over the data: brain.js iterations or our epochs. */
    passes: number;
  }[];
}

const COUNT = 64;
const LENGTH = 20;

/** The sequences, each `LENGTH` values in [0.1, 0.9]. */
function sines(seed: number): number[][] {
  const rand = prng(seed);
  return Array.from({ length: COUNT }, () => {
    const [w, phase] = [0.3 + 0.4 * rand(), 2 * Math.PI * rand()];
    return Array.from({ length: LENGTH }, (_, t) => 0.5 + 0.4 * Math.sin(w * t + phase));
  });
}

/** Trains in chunks until `mse()` reaches `target` or `budgetS` of training time is spent. */
async function race(
  chunk: () => Promise<void> | void,
  mse: () => number,
  target: number,
  budgetS: number,
  passesPerChunk: number,
): Promise<{ seconds: number | null; trainedS: number; finalMse: number; passes: number }> {
  let trained = 0;
  let passes = 0;
  let error: number;
  do {
    const start = performance.now();
    await chunk();
    trained += performance.now() - start;
    passes += passesPerChunk;
    error = mse();
  } while (error > target && trained < budgetS * 1000);
  return { seconds: error <= target ? trained / 1000 : null, trainedS: trained / 1000, finalMse: error, passes };
}

/** brain.js's LSTMTimeStep on the task. */
function brainRow(seqs: number[][], units: number, target: number, budgetS: number) {
  const net = new brain.recurrent.LSTMTimeStep({ inputSize: 1, hiddenLayers: [units], outputSize: 1 });
  const mse = () => {
    let sum = 0;
    for (const s of seqs) {
      for (let t = 1; t < LENGTH; t++) sum += (net.run<number>(s.slice(0, t)) - s[t]) ** 2;
    }
    return sum / (seqs.length * (LENGTH - 1));
  };
  const passes = 5;
  return race(
    () => void net.train(seqs, { iterations: passes, errorThresh: 0, log: false }),
    mse,
    target,
    budgetS,
    passes,
  );
}

/** Our LSTM network on the task, on the current backend. */
async function oursRow(seqs: number[][], units: number, target: number, budgetS: number) {
  const net = rt.network({ cell: 'lstm', inputSize: 1, units, outputSize: 1, seed: 5 });
  const x = tf.tensor3d(seqs.map((s) => s.slice(0, -1).map((v) => [v])));
  const y = tf.tensor3d(seqs.map((s) => s.slice(1).map((v) => [v])));
  const optimizer = tf.train.adam(0.01);
  const mse = () => tf.tidy(() => tf.losses.meanSquaredError(y, net.predict(x)).dataSync()[0]);
  const passes = 10;
  const options = { loss: 'mse', epochs: passes, optimizer, progress: false } as const;
  try {
    return await race(() => rt.train(net, { x, y }, options).then(() => undefined), mse, target, budgetS, passes);
  } finally {
    net.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  }
}

/** Runs brain.js once and ours on each of `backends`. */
export async function brainReport(
  backends: string[],
  { units = 16, targetMse = 0.002, budgetS = 60 } = {},
): Promise<BrainReport> {
  const seqs = sines(11);
  const rows: BrainReport['rows'] = [];
  rows.push({ who: 'brain.js LSTMTimeStep', ...(await brainRow(seqs, units, targetMse, budgetS)) });
  for (const backend of backends) {
    await rt.backends.use(backend);
    rows.push({ who: 'ours (lstm)', backend, ...(await oursRow(seqs, units, targetMse, budgetS)) });
  }
  return {
    task: `next value of ${COUNT} sine waves x ${LENGTH} steps (random frequency and phase), MSE of next-step predictions`,
    units,
    targetMse,
    budgetS,
    rows,
  };
}
