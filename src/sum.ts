/**
 * The sum of many tensors, at most {@link MAX_SUM_INPUTS} per op.
 *
 * tfjs-backend-webgpu 4.22's `AddN` binds every input as a storage buffer, and WebGPU's default
 * limit is 8 per shader stage (in browsers too). `tf.addN` of 8 or more tensors on webgpu makes an
 * invalid pipeline: the queued commands are dropped, nothing throws, and every value read
 * afterwards from that batch of commands is garbage (`rt.train`'s losses read 1.4e-45). Every
 * sum of a list of tensors in this package goes through {@link sum}, which adds them in chunks of
 * at most 7 (7 inputs + 1 output = 8 bindings), then sums the partial sums the same way.
 */
import * as tf from '@tensorflow/tfjs';

/** The most tensors {@link sum} adds in one op (WebGPU binds them plus the output: 8 buffers). */
export const MAX_SUM_INPUTS = 7;

/**
 * `Σ tensors` (same shape and dtype, as `tf.addN`), never more than {@link MAX_SUM_INPUTS} per op,
 * so it is right on every backend. Differentiable. Throws on an empty list.
 */
export function sum<T extends tf.Tensor>(tensors: readonly T[]): T {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new Error('sum: expected a non-empty array of tensors');
  }
  return tf.tidy(() => {
    let level: tf.Tensor[] = [...tensors];
    while (level.length > MAX_SUM_INPUTS) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += MAX_SUM_INPUTS) {
        const chunk = level.slice(i, i + MAX_SUM_INPUTS);
        next.push(chunk.length === 1 ? chunk[0] : tf.addN(chunk));
      }
      level = next;
    }
    return tf.addN(level) as T;
  });
}
