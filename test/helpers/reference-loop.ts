// A plain reference for `rt.unroll`: one `cell.step` per time step, written as directly as
// possible (no fused weights, no input projection, no unstack), so that property tests can
// compare the optimised loop against the documented semantics:
// - steps run t = 0..T-1, or T-1..0 with `reverse`; outputs[:, t] always belongs to x_t;
// - at a masked step (mask[b, t] = 0) row b keeps its previous state and repeats its output.
import * as tf from '@tensorflow/tfjs';
import type { Cell, State } from '../../src/cells/cell.js';

export interface ReferenceOptions {
  initialState?: State;
  reverse?: boolean;
  /** `[batch, time]` as plain numbers (0 = padding). */
  mask?: number[][];
}

/** Outputs `[batch][time][units]` and final state as plain arrays. */
export interface ReferenceResult {
  outputs: number[][][];
  state: { h: number[][]; c?: number[][] };
}

/**
 * Runs `cell.step` once per step in JavaScript: outputs `[batch, time, units]` and the final
 * state, as tensors (differentiable: tfjs derives the gradient of every step).
 */
export function referenceUnrollTensors(
  cell: Cell,
  x: tf.Tensor3D,
  options: ReferenceOptions = {},
): { outputs: tf.Tensor3D; state: State } {
  const [batch, time] = x.shape;
  let state: State = options.initialState ?? cell.initialState(batch);
  const outputs: tf.Tensor2D[] = new Array(time);
  const order = [...Array(time).keys()];
  if (options.reverse) order.reverse();
  for (const t of order) {
    const x_t = tf.slice(x, [0, t, 0], [batch, 1, cell.inputSize]).reshape([batch, cell.inputSize]) as tf.Tensor2D;
    const next = cell.step(x_t, state);
    if (options.mask) {
      const keep = tf.tensor2d(
        options.mask.map((row) => [row[t] !== 0]),
        [batch, 1],
        'bool',
      );
      const pick = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.where(tf.broadcastTo(keep, a.shape), a, b) as tf.Tensor2D;
      state = { h: pick(next.h, state.h), ...(next.c && state.c ? { c: pick(next.c, state.c) } : {}) };
    } else {
      state = next;
    }
    outputs[t] = state.h;
  }
  return { outputs: tf.stack(outputs, 1) as tf.Tensor3D, state };
}

/** {@link referenceUnrollTensors} as plain arrays (no tensor is left behind). */
export function referenceUnroll(cell: Cell, x: tf.Tensor3D, options: ReferenceOptions = {}): ReferenceResult {
  let result: ReferenceResult | undefined;
  tf.tidy(() => {
    const { outputs, state } = referenceUnrollTensors(cell, x, options);
    result = { outputs: outputs.arraySync(), state: { h: state.h.arraySync() } };
    if (state.c) result.state.c = state.c.arraySync();
  });
  return result!;
}
