/** Checks of tensor arguments (TensorFlow.js is loaded here, not in `values.ts`). */
import * as tf from '@tensorflow/tfjs';
import { describe, fmt } from './values.js';

/**
 * A tensor of the given rank whose dimensions match `expected` where it gives a number
 * (`null` or a string is a free dimension; the string names it in the message).
 */
export function checkTensor(
  where: string,
  name: string,
  value: unknown,
  expected: readonly (number | null | string)[],
): tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    const got = Array.isArray(value) ? 'an array (wrap it with tf.tensor)' : describe(value);
    throw new TypeError(`${where}: expected ${name} to be a tf.Tensor of shape ${fmt(expected)}, got ${got}`);
  }
  if (value.isDisposed) {
    throw new Error(`${where}: ${name} has been disposed`);
  }
  const ok = value.rank === expected.length && expected.every((d, i) => typeof d !== 'number' || value.shape[i] === d);
  if (!ok) {
    throw new RangeError(`${where}: expected ${name} of shape ${fmt(expected)}, got ${fmt(value.shape)}`);
  }
  return value;
}
