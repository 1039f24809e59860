/**
 * A task-level comparison with brain.js (its `recurrent.LSTMTimeStep`): the same next-value
 * prediction task, the same LSTM width, each trained until the mean squared error of its
 * next-step predictions reaches the same target; the time counted is training time only
 * (evaluation excluded), capped by a budget.
 *
 * The task: sine waves, random frequency and phase (seeded), scaled into [0.1, 0.9], in two sizes.
 * brain.js trains online with its defaults (one update per sequence, its own RMSProp); ours trains
 * through `rt.train` with Adam (learning rate 0.02) on shuffled minibatches of 32. Both are judged
 * by the same evaluation: every next-step prediction of the first 64 sequences.
 */
import * as tf from '@tensorflow/tfjs';
import brain from 'brain.js';
import * as rt from '../src/index.js';
import { prng } from '../src/init.js';

export interface Task {
  sequences: number;
  length: number;
  units: number;
}

export interface BrainRow {
  task: Task;
  who: string;
  backend?: string;
  /** Seconds of training until the target was reached, or null if the budget ran out. */
  seconds: number | null;
  /** Training seconds spent (the budget when the target was not reached). */
  trainedS: number;
  finalMse: number;
  /** Passes over the data: brain.js iterations or our epochs. */
  passes: number;
}

export interface BrainReport {
  task: string;
  targetMse: number;
  budgetS: number;
  rows: BrainRow[];
}

export const TASKS: Task[] = [
  { sequences: 64, length: 20, units: 16 },
  { sequences: 256, length: 40, units: 32 },
];

/** Sequences evaluated. */
const EVALUATED = 64;

/** The sequences, each `length` values in [0.1, 0.9]. */
function sines({ sequences, length }: Task, seed: number): number[][] {
  const rand = prng(seed);
  return Array.from({ length: sequences }, () => {
    const [w, phase] = [0.3 + 0.4 * rand(), 2 * Math.PI * rand()];
    return Array.from({ length }, (_, t) => 0.5 + 0.4 * Math.sin(w * t + phase));
  });
}

type Race = Omit<BrainRow, 'task' | 'who' | 'backend'>;

/** Trains in chunks until `mse()` reaches `target` or `budgetS` of training time is spent. */
async function race(
  chunk: () => Promise<void> | void,
  mse: () => number,
  target: number,
  budgetS: number,
  passesPerChunk: number,
): Promise<Race> {
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

/**
 * brain.js's LSTMTimeStep on the task. brain.js draws its initial weights from `Math.random`, which
 * is swapped for a seeded generator during the race so that runs repeat.
 */
async function brainRace(seqs: number[][], task: Task, target: number, budgetS: number): Promise<Race> {
  const random = Math.random;
  Math.random = prng(23);
  try {
    return await brainRun(seqs, task, target, budgetS);
  } finally {
    Math.random = random;
  }
}

function brainRun(seqs: number[][], task: Task, target: number, budgetS: number): Promise<Race> {
  const net = new brain.recurrent.LSTMTimeStep({ inputSize: 1, hiddenLayers: [task.units], outputSize: 1 });
  const evaluated = seqs.slice(0, EVALUATED);
  const mse = () => {
    let sum = 0;
    for (const s of evaluated) {
      for (let t = 1; t < s.length; t++) sum += (net.run<number>(s.slice(0, t)) - s[t]) ** 2;
    }
    return sum / (evaluated.length * (task.length - 1));
  };
  const passes = 2;
  return race(
    () => void net.train(seqs, { iterations: passes, errorThresh: 0, log: false }),
    mse,
    target,
    budgetS,
    passes,
  );
}

/** Our LSTM network on the task, on the current backend. */
async function oursRace(seqs: number[][], task: Task, target: number, budgetS: number): Promise<Race> {
  const net = rt.network({ cell: 'lstm', inputSize: 1, units: task.units, outputSize: 1, seed: 5 });
  const inputs = (rows: number[][]) => tf.tensor3d(rows.map((s) => s.slice(0, -1).map((v) => [v])));
  const targets = (rows: number[][]) => tf.tensor3d(rows.map((s) => s.slice(1).map((v) => [v])));
  const [x, y] = [inputs(seqs), targets(seqs)];
  const [xe, ye] = [inputs(seqs.slice(0, EVALUATED)), targets(seqs.slice(0, EVALUATED))];
  const optimizer = tf.train.adam(0.02);
  const mse = () => tf.tidy(() => tf.losses.meanSquaredError(ye, net.predict(xe)).dataSync()[0]);
  const passes = 5;
  let epoch = 0;
  const chunk = async () => {
    const options = { loss: 'mse', epochs: passes, batchSize: 32, shuffle: true, seed: epoch++, optimizer } as const;
    await rt.train(net, { x, y }, { ...options, progress: false });
  };
  try {
    return await race(chunk, mse, target, budgetS, passes);
  } finally {
    net.dispose();
    optimizer.dispose();
    tf.dispose([x, y, xe, ye]);
  }
}

/** Runs brain.js and ours (on each of `backends`) on every task. */
export async function brainReport(backends: string[], { targetMse = 0.002, budgetS = 30 } = {}): Promise<BrainReport> {
  const rows: BrainRow[] = [];
  for (const task of TASKS) {
    const seqs = sines(task, 11);
    rows.push({ task, who: 'brain.js LSTMTimeStep', ...(await brainRace(seqs, task, targetMse, budgetS)) });
    for (const backend of backends) {
      await rt.backends.use(backend);
      rows.push({ task, who: 'ours (lstm)', backend, ...(await oursRace(seqs, task, targetMse, budgetS)) });
    }
  }
  return {
    task:
      'next value of sine waves (random frequency and phase), MSE of the next-step predictions of the first ' +
      `${EVALUATED} sequences`,
    targetMse,
    budgetS,
    rows,
  };
}
