/**
 * The adding problem (Hochreiter & Schmidhuber 1997), the classic test of long-range memory.
 *
 * Each sequence has T steps of two features: a value drawn from U(0, 1) and a marker that is 1
 * at exactly two steps (one in the first half, one in the second) and 0 elsewhere. The target
 * is the sum of the two marked values. Always predicting the mean, 1, gives the baseline mean
 * squared error Var(u_1 + u_2) = 2/12 ≈ 0.167; beating it needs a memory of about T/2 steps.
 *
 * Values are drawn in JavaScript from a seeded generator, so a seed gives the same data on
 * every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, checkPositiveInt, checkSeed, show } from '../check/index.js';
import { prng } from '../init.js';

/** The mean squared error of always predicting 1: Var(u_1 + u_2) for u ~ U(0, 1). */
export const ADDING_BASELINE_MSE = 1 / 6;

export interface AddingOptions {
  /** Number of sequences. */
  batch: number;
  /** Steps per sequence, at least 2. */
  time: number;
  seed: number;
}

/** A batch of the adding problem: `x: [batch, time, 2]` (value, marker), `y: [batch, 1]`. */
export function addingProblem(options: AddingOptions): { x: tf.Tensor3D; y: tf.Tensor2D } {
  checkAddingOptions('addingProblem', options, []);
  const { batch, time } = options;
  const rand = prng(options.seed);
  const x = new Float32Array(batch * time * 2);
  const y = new Float32Array(batch);
  const half = Math.floor(time / 2);
  for (let b = 0; b < batch; b++) {
    const row = b * time * 2;
    for (let t = 0; t < time; t++) x[row + 2 * t] = rand();
    const first = Math.floor(rand() * half);
    const second = half + Math.floor(rand() * (time - half));
    x[row + 2 * first + 1] = 1;
    x[row + 2 * second + 1] = 1;
    y[b] = x[row + 2 * first] + x[row + 2 * second];
  }
  return { x: tf.tensor3d(x, [batch, time, 2]), y: tf.tensor2d(y, [batch, 1]) };
}

/**
 * `batches` fresh batches of the adding problem, for `rt.train`. Iterating again starts afresh
 * from the same seed; each batch is disposed when the next one is asked for.
 */
export function addingBatches(options: AddingOptions & { batches: number }): AsyncIterable<{
  x: tf.Tensor3D;
  y: tf.Tensor2D;
}> {
  checkAddingOptions('addingBatches', options, ['batches']);
  const batches = checkPositiveInt('addingBatches', 'batches', options.batches);
  const { batch, time, seed } = options;
  return {
    async *[Symbol.asyncIterator]() {
      const rand = prng(seed);
      for (let i = 0; i < batches; i++) {
        const data = addingProblem({ batch, time, seed: Math.floor(rand() * 2 ** 32) });
        try {
          yield data;
        } finally {
          tf.dispose([data.x, data.y]);
        }
      }
    },
  };
}

function checkAddingOptions(where: string, options: AddingOptions, extra: string[]): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected options { batch, time, seed }, got ${show(options)}`);
  }
  checkKeys(where, options, ['batch', 'time', 'seed', ...extra]);
  checkPositiveInt(where, 'batch', options.batch);
  const time = checkPositiveInt(where, 'time', options.time);
  if (time < 2) throw new RangeError(`${where}: expected time >= 2, got ${time}`);
  checkSeed(where, options.seed);
}
