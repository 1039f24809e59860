// Shared settings and generators for the fast-check property tests.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { prng } from '../../src/init.js';

/**
 * fast-check parameters: a fixed seed keeps the suite reproducible; `FC_SEED=<n>` (or
 * `FC_SEED=random`) explores other cases, and a failure prints the seed and path to replay it.
 */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const env = process.env.FC_SEED;
  const seed = env === 'random' ? Date.now() : env ? Number(env) : 20240607;
  return { numRuns, seed };
}

/** A `shape`-d tensor of uniform values in [-scale, scale) drawn from `seed`. */
export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rand = prng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (2 * rand() - 1) * scale;
  return tf.tensor(data, shape);
}

/** The bytes of every tensor equal (bitwise, so -0 ≠ 0 and NaN payloads count). */
export function bitwiseEqual(a: tf.Tensor, b: tf.Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    return false;
  }
  const x = a.dataSync() as Float32Array;
  const y = b.dataSync() as Float32Array;
  return (
    Buffer.compare(
      Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      Buffer.from(y.buffer, y.byteOffset, y.byteLength),
    ) === 0
  );
}

/** A 32-bit seed. */
export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
