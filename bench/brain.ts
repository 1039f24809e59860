/**
 * A task-level comparison with brain.js (its `recurrent.LSTMTimeStep`): the same next-value
 * prediction task, the same LSTM width, each trained until the mean squared error of its
 * next-step predictions reaches the same target; the time counted is training time only
 * (evaluation excluded), capped by a budget.
 *
 * The task: sine waves, random frequency and phase (seeded), scaled into [0.1, 0.9], in two sizes.
 * brain.js trains online with its defaults (one update per sequence, its own RMSProp), judged every
 * 2 passes; ours trains through `rt.train` with {@link RECIPE}, the same at both sizes. Both are
 * judged by the same evaluation: every next-step prediction of the first 64 sequences.
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
  /** CPU seconds of this process in those (on a shared machine the less disturbed of the two). */
  trainedCpuS: number;
  finalMse: number;
  /** Passes over the data: brain.js iterations or our epochs. */
  passes: number;
  /**
   * Ours: tfjs kernels per optimizer step (one more pass after the race, profiled); on cpu and wasm
   * a whole pass is one kernel call, so a fraction.
   */
  kernelsPerStep?: number;
}

export interface BrainReport {
  task: string;
  /** How ours trained, in words. */
  recipe: string;
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

/**
 * How ours trains, at both task sizes: Adam (learning rate 0.07) on shuffled minibatches of 2,
 * judged after every pass. On cpu and wasm a whole pass is one kernel call (`rt.train`'s fused
 * epoch: `src/train/train.ts`, `src/train/fused-step.ts`), its steps the fused step's, batch after
 * batch in the shuffled order, so a step costs its arithmetic and little else. Chosen on wasm over
 * minibatches of 2, 4, 8 and 16 with learning rates 0.01 to 0.1, by the training time to the target
 * summed over network seeds other than the race's (1, 2, 3, 4, 6, 7 on the small task; 1, 2, 3 on
 * the large): small 192 ms (batch 2, 0.07), 211 (4, 0.05), 291 (2, 0.05); large 243 (2, 0.07), 372
 * (4, 0.05), 642 (8, 0.02, the recipe of when every step was a kernel call of its own).
 */
const RECIPE = { batchSize: 2, learningRate: 0.07 };

/**
 * Both sides first train a throwaway network, untimed, for the same wall time ({@link WARM_UP_S}),
 * the way each then races (brain.js's `train` a pass at a time, ours an `rt.train` call a pass), so
 * that neither counts its runtime's warm-up (JIT compilation, background optimisation,
 * WebAssembly instantiation, kernel registration). Equal updates instead (one pass of brain.js,
 * eight of ours) left ours cold: in the first race of a process its CPU time ran at twice its wall
 * time (V8 optimising in the background) and the small task took 0.10–0.13 s against 0.09 s warm.
 */
const WARM_UP_S = 1;
const WARM_UP = `an untimed warm-up of a throwaway network on each side, ${WARM_UP_S} s of training each`;

/** Calls `pass` until `WARM_UP_S` seconds have gone by. */
async function warmUp(pass: () => Promise<void> | void): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < WARM_UP_S * 1000) await pass();
}

/** The sequences, each `length` values in [0.1, 0.9]. */
function sines({ sequences, length }: Task, seed: number): number[][] {
  const rand = prng(seed);
  return Array.from({ length: sequences }, () => {
    const [w, phase] = [0.3 + 0.4 * rand(), 2 * Math.PI * rand()];
    return Array.from({ length }, (_, t) => 0.5 + 0.4 * Math.sin(w * t + phase));
  });
}

type Race = Omit<BrainRow, 'task' | 'who' | 'backend' | 'kernelsPerStep'>;

/** Trains in chunks until `mse()` reaches `target` or `budgetS` of training time is spent. */
async function race(
  chunk: () => Promise<void> | void,
  mse: () => number,
  target: number,
  budgetS: number,
  passesPerChunk: number,
): Promise<Race> {
  let trained = 0;
  let cpu = 0;
  let passes = 0;
  let error: number;
  do {
    const [start, cpuStart] = [performance.now(), process.cpuUsage()];
    await chunk();
    trained += performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    cpu += (used.user + used.system) / 1000;
    passes += passesPerChunk;
    error = mse();
  } while (error > target && trained < budgetS * 1000);
  const seconds = error <= target ? trained / 1000 : null;
  return { seconds, trainedS: trained / 1000, trainedCpuS: cpu / 1000, finalMse: error, passes };
}

/**
 * brain.js's LSTMTimeStep on the task. brain.js draws its initial weights from `Math.random`, which
 * is swapped for a seeded generator during the race so that runs repeat.
 */
async function brainRace(seqs: number[][], task: Task, target: number, budgetS: number): Promise<Race> {
  const warm = brainNet(task);
  await warmUp(() => void warm.train(seqs, { iterations: 1, errorThresh: 0, log: false }));
  const random = Math.random;
  Math.random = prng(23);
  try {
    return await brainRun(seqs, task, target, budgetS);
  } finally {
    Math.random = random;
  }
}

const brainNet = (task: Task) =>
  new brain.recurrent.LSTMTimeStep({ inputSize: 1, hiddenLayers: [task.units], outputSize: 1 });

function brainRun(seqs: number[][], task: Task, target: number, budgetS: number): Promise<Race> {
  const net = brainNet(task);
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
async function oursRace(
  seqs: number[][],
  task: Task,
  target: number,
  budgetS: number,
): Promise<Race & { kernelsPerStep: number }> {
  const network = (seed: number) => rt.network({ cell: 'lstm', inputSize: 1, units: task.units, outputSize: 1, seed });
  const inputs = (rows: number[][]) => tf.tensor3d(rows.map((s) => s.slice(0, -1).map((v) => [v])));
  const targets = (rows: number[][]) => tf.tensor3d(rows.map((s) => s.slice(1).map((v) => [v])));
  const [x, y] = [inputs(seqs), targets(seqs)];
  const [xe, ye] = [inputs(seqs.slice(0, EVALUATED)), targets(seqs.slice(0, EVALUATED))];
  const { batchSize, learningRate } = RECIPE;
  const passes = 1;
  const options = { loss: 'mse', epochs: passes, batchSize, shuffle: true, progress: false } as const;
  const [warm, warmOptimizer] = [network(6), tf.train.adam(learningRate)];
  let warmEpoch = 0;
  await warmUp(async () => {
    await rt.train(warm, { x, y }, { ...options, seed: warmEpoch++, optimizer: warmOptimizer });
  });
  warm.dispose();
  warmOptimizer.dispose();
  const net = network(5);
  const optimizer = tf.train.adam(learningRate);
  const mse = () => tf.tidy(() => tf.losses.meanSquaredError(ye, net.predict(xe)).dataSync()[0]);
  let epoch = 0;
  const chunk = async () => {
    await rt.train(net, { x, y }, { ...options, seed: epoch++, optimizer });
  };
  try {
    const result = await race(chunk, mse, target, budgetS, passes);
    // One more pass after the race, profiled.
    const { kernels } = await tf.profile(chunk);
    return { ...result, kernelsPerStep: kernels.length / Math.ceil(task.sequences / batchSize) };
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
    recipe: `Adam ${RECIPE.learningRate}, shuffled minibatches of ${RECIPE.batchSize}, judged after every pass; ${WARM_UP}`,
    targetMse,
    budgetS,
    rows,
  };
}
