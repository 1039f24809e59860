/**
 * Dropout masks of the recurrent layers, as Keras draws them: while training, one mask on the
 * inputs `x_t` and one on `h_{t-1}` (recurrent dropout), each `[batch, size]` and the same at every
 * step of the sequence, and the same for all gates (as Keras 3; Keras 2's `implementation: 1`
 * drew one per gate). A mask is `keep / (1 - rate)`, with `keep` 1 with probability `1 - rate`, so
 * the expected input is unchanged; the recurrent mask acts on the recurrent terms only (the state
 * carried to the next step is `h_{t-1}` itself).
 */
import * as tf from '@tensorflow/tfjs';
import { checkTensor, show } from '../check/index.js';

/** tfjs's `dropoutFunc`: `(ones, rate) => mask`, called with `ones: [batch, size]`. */
export type DropoutFunc = (x: tf.Tensor, rate: number) => tf.Tensor;

/** A dropout rate: a number in [0, 1) (0: no dropout). */
export function checkRate(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new RangeError(`${where}: expected ${name} to be a number in [0, 1), got ${show(value)}`);
  }
  return value;
}

/** A `dropoutFunc`: a function, or absent. */
export function checkDropoutFunc(where: string, value: unknown): DropoutFunc | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(`${where}: expected dropoutFunc to be a function (ones, rate) => mask, got ${show(value)}`);
  }
  return value as DropoutFunc;
}

/**
 * The mask `[batch, size]` of one sequence: `dropoutFunc(ones, rate)` where one is given (checked
 * to keep the shape), else drawn from `seed` (the same seed gives the same mask on every backend).
 */
export function dropoutMask(
  where: string,
  name: string,
  shape: [number, number],
  rate: number,
  dropoutFunc: DropoutFunc | undefined,
  seed: string,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (dropoutFunc) {
      const mask = dropoutFunc(tf.ones(shape), rate);
      return checkTensor(where, `dropoutFunc's ${name} mask`, mask, shape) as tf.Tensor2D;
    }
    const keep = tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate);
    return tf.mul(tf.cast(keep, 'float32'), 1 / (1 - rate)) as tf.Tensor2D;
  });
}
