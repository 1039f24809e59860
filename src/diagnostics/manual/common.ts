/**
 * What the hand-derived backward passes of the cells share: the shape of a step, the sums of
 * the weight gradients over time, and the document's `W a` for a batch of rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../../cells/cell.js';

/** Gradients summed over time steps, keyed by symbol. */
export type Grads = Record<string, tf.Tensor>;

/** One cell's step, forward and backward, written from its equations. */
export interface ManualStep<Cache> {
  /** One step of the equations; keeps in `cache` what the backward pass needs. */
  forward(x: tf.Tensor2D, state: State): { state: State; cache: Cache };
  /**
   * Given `dh = dL/dh_t` and, for the LSTM, `dc`, the part of `dL/dc_t` that flows back from step
   * t+1: adds this step's contribution to every weight gradient in `grads` and returns
   * `dL/dh_{t-1}` (and `dL/dc_{t-1}`) through this step.
   */
  backward(
    dh: tf.Tensor2D,
    dc: tf.Tensor2D | undefined,
    cache: Cache,
    grads: Grads,
  ): { dh: tf.Tensor2D; dc?: tf.Tensor2D };
}

/** `W a` for every row `a` of `[batch, n]`, with `W: [m, n]`: `A W^T`. */
export function lin(a: tf.Tensor, W: tf.Tensor): tf.Tensor2D {
  return tf.matMul(a as tf.Tensor2D, W as tf.Tensor2D, false, true);
}

/** `W^T δ` for every row δ: the error sent back through `W`. */
export function back(delta: tf.Tensor, W: tf.Tensor): tf.Tensor2D {
  return tf.matMul(delta as tf.Tensor2D, W as tf.Tensor2D);
}

/** `grads[name] += value`. */
export function accumulate(grads: Grads, name: string, value: tf.Tensor): void {
  grads[name] = grads[name] === undefined ? value : tf.add(grads[name], value);
}

/** A pre-activation `W_kx x + b_k` received δ (rows of the batch): `W_kx += δ^T x`, `b_k += Σ δ`. */
export function addInput(grads: Grads, gate: string, delta: tf.Tensor, x: tf.Tensor): void {
  accumulate(grads, `W_${gate}x`, tf.matMul(delta as tf.Tensor2D, x as tf.Tensor2D, true, false));
  accumulate(grads, `b_${gate}`, tf.sum(delta, 0));
}

/** A term `W_kh h` received δ: `W_kh += δ^T h`. */
export function addRecurrent(grads: Grads, gate: string, delta: tf.Tensor, h: tf.Tensor): void {
  accumulate(grads, `W_${gate}h`, tf.matMul(delta as tf.Tensor2D, h as tf.Tensor2D, true, false));
}
