/**
 * The arithmetic a step needs, and how fast the backend can do arithmetic at all.
 *
 * Only matMuls are counted (the elementwise work is two orders of magnitude smaller): per step of
 * the forward pass the input projection `2 B I G U`, the recurrent matMul `2 B U G U` and the
 * output `2 B U O`, with `G` the number of gates (Elman 1, LSTM 4, GRU 3). A training step adds
 * two matMuls of the same size per forward matMul (the gradients of both operands), so it counts
 * three times the forward. The FLOP bound of a task is its FLOPs at the speed of one large matMul
 * on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import { median } from './measure.js';
import type { Kind, Sizes } from './models.js';

const GATES: Record<Kind, number> = { elman: 1, lstm: 4, gru: 3 };

/** MatMul FLOPs of one forward pass over the whole sequence. */
export function forwardFlops(kind: Kind, s: Sizes): number {
  const G = GATES[kind];
  return 2 * s.batch * s.time * (s.input * G * s.units + s.units * G * s.units + s.units * s.output);
}

/** MatMul FLOPs of one training step (forward and backward). */
export function trainFlops(kind: Kind, s: Sizes): number {
  return 3 * forwardFlops(kind, s);
}

/** GFLOP/s of an `n x n` by `n x n` matMul on the current backend (median of `runs`). */
export async function matMulPeak(n = 512, runs = 5): Promise<number> {
  const [a, b] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)];
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const start = performance.now();
    const c = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    await c.data();
    c.dispose();
    if (r > 0) times.push(performance.now() - start); // the first run warms up
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / median(times) / 1e6;
}
