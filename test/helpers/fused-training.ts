/**
 * What the fused-training tests share (`test/train-fused-step.test.ts`,
 * `test/train-fused-epoch.test.ts`): a small seeded task, the three ways a pass can train, and
 * training a fresh network along one of them.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import { prng } from '../../src/init.js';

/** Rows, steps, inputs, outputs, units. 6 rows in batches of {@link BATCH}: the last batch of every pass is smaller. */
export const [B, T, I, O, U] = [6, 5, 3, 2, 7];
export const BATCH = 4;

/** `mse` written as a function: the same loss, which the readable step always takes. */
export const readableMse = (y: tf.Tensor, p: tf.Tensor) => tf.mean(tf.squaredDifference(p, y)) as tf.Scalar;

/**
 * How a pass trains: `epoch` (no batch hook: the whole pass in one kernel call), `batch` (a batch
 * hook that does nothing: the fused step batch by batch) or `readable` (the loss as a function).
 */
export type Path = 'epoch' | 'batch' | 'readable';

export function pathOptions(path: Path): Partial<rt.TrainOptions> {
  if (path === 'batch') return { callbacks: { onBatchEnd: () => {} } };
  return path === 'readable' ? { loss: readableMse } : {};
}

/** Seeded `x` (`[B, T, I]`) and `y` (every step, or the last) in [-1, 1). */
export function data(seed: number, target: rt.Target = 'everyStep'): { x: tf.Tensor; y: tf.Tensor } {
  const rand = prng(seed);
  const values = (n: number) => Array.from({ length: n }, () => 2 * rand() - 1);
  const x = tf.tensor3d(values(B * T * I), [B, T, I]);
  const y = target === 'everyStep' ? tf.tensor3d(values(B * T * O), [B, T, O]) : tf.tensor2d(values(B * O), [B, O]);
  return { x, y };
}

export type NetOptions = Omit<rt.NetworkOptions, 'inputSize' | 'units' | 'outputSize'>;

export interface Trained {
  loss: number[];
  weights: Float32Array[];
  slots: Float32Array[];
  iterations: number;
  /** TfjsRecurrentTrainStep kernels of one more pass. */
  fusedKernels: number;
}

/**
 * Trains a fresh network (seeded) along `path` for `epochs` passes with `options.optimizer` (Adam
 * 0.03 where none is given; disposed after), then profiles one more pass.
 */
export async function trained(
  path: Path,
  net: NetOptions,
  options: Partial<rt.TrainOptions>,
  epochs = 3,
): Promise<Trained> {
  const { x, y } = data(1, options.target);
  const model = rt.network({ inputSize: I, units: U, outputSize: O, seed: 4, ...net });
  const optimizer = (options.optimizer as tf.Optimizer | undefined) ?? tf.train.adam(0.03);
  const train = (seed: number, n: number) =>
    rt.train(
      model,
      { x, y },
      { loss: 'mse', batchSize: BATCH, progress: false, ...options, ...pathOptions(path), optimizer, seed, epochs: n },
    );
  const history = await train(1, epochs);
  const profile = await tf.profile(async () => {
    await train(2, 1);
  });
  const result = {
    loss: history.history.loss,
    weights: Object.values(model.params).map((v) => v.dataSync().slice() as Float32Array),
    slots: await Promise.all(
      (await optimizer.getWeights()).map(async (w) => (await w.tensor.data()).slice() as Float32Array),
    ),
    iterations: optimizer.iterations,
    fusedKernels: profile.kernels.filter((k) => k.name === 'TfjsRecurrentTrainStep').length,
  };
  model.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
  return result;
}

/** The largest difference between matching entries of two lists of arrays (of matching lengths). */
export function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  expect(a.map((v) => v.length)).to.deep.equal(b.map((v) => v.length));
  let d = 0;
  a.forEach((v, i) => Array.from(v).forEach((e, j) => (d = Math.max(d, Math.abs(e - b[i][j])))));
  return d;
}
