/**
 * The loop over time: the one place where a cell is unrolled into a graph.
 *
 * For `x: [batch, time, inputSize]` it computes, for t = 1..T (or T..1 with `reverse`),
 * `state_t = cell.step(x_t, state_{t-1})` and returns every `h_t` and the last state.
 *
 * Speed: the input projection `X W_x^T + b` of all time steps is one matMul, the recurrent part
 * of all gates of a step is one matMul (`cell.fuse()` concatenates the per-symbol parameters once
 * per call), and the projected input is split into steps once (`unstack`), not sliced per step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, State } from './cells/cell.js';
import { checkState } from './cells/cell.js';
import { checkKeys, checkTensor } from './check.js';

export interface UnrollOptions {
  /** The state before the first step (default: zeros). */
  initialState?: State;
  /** Process the sequence from the last step to the first. `outputs[:, t]` still belongs to x_t. */
  reverse?: boolean;
  /**
   * `[batch, time]`, 1 (or true) where a step is real, 0 where it is padding. At a masked step
   * the state and the output carry the previous ones forward (as tfjs's layers do).
   */
  mask?: tf.Tensor;
  /**
   * A hook on the hidden state: after step t (0-based, input order) `h_t` is replaced by
   * `probe(t, h_t)` before it feeds the output and the next step. Diagnostics add zero tensors
   * here to read `dL/dh_t` of every step in one backward pass.
   */
  probe?: (t: number, h: tf.Tensor2D) => tf.Tensor2D;
}

export type UnrollResult = {
  /** `h_t` at every step: `[batch, time, units]`, in input order. */
  outputs: tf.Tensor3D;
  /** The state after the last processed step. */
  state: State;
};

/** Unrolls `cell` over `x: [batch, time, inputSize]`. */
export function unroll(cell: Cell, x: tf.Tensor, options: UnrollOptions = {}): UnrollResult {
  checkKeys('unroll', options, ['initialState', 'reverse', 'mask', 'probe']);
  checkTensor('unroll', 'x', x, ['batch', 'time', cell.inputSize]);
  const [batch, time] = x.shape;
  if (time === 0) throw new RangeError('unroll: expected x with at least one time step, got time = 0');
  const initial = options.initialState ?? null;
  if (initial) checkState('unroll', cell, initial, batch);
  if (options.mask !== undefined) checkTensor('unroll', 'mask', options.mask, [batch, time]);

  return tf.tidy(() => {
    const w = cell.fuse();
    // [T, B, I] -> one matMul [T*B, I] x [I, G*U] -> T tensors [B, G*U]
    const xTime = tf.transpose(x, [1, 0, 2]).reshape([time * batch, cell.inputSize]) as tf.Tensor2D;
    const xp = tf.unstack(cell.project(xTime, w).reshape([time, batch, -1])) as tf.Tensor2D[];
    const keep = options.mask
      ? (tf.unstack(tf.transpose(tf.cast(options.mask, 'float32')).reshape([time, batch, 1])) as tf.Tensor2D[])
      : null;

    let state: State = initial ?? cell.initialState(batch);
    const outputs: tf.Tensor2D[] = new Array(time);
    for (let k = 0; k < time; k++) {
      const t = options.reverse ? time - 1 - k : k;
      const next = cell.recur(xp[t], state, w);
      state = keep ? carryMasked(keep[t], next, state) : next;
      if (options.probe) state = { ...state, h: options.probe(t, state.h) };
      outputs[t] = state.h;
    }
    return { outputs: tf.stack(outputs, 1) as tf.Tensor3D, state };
  });
}

/** `m ? next : previous` for every entry of the state, with m per batch row. */
function carryMasked(m: tf.Tensor2D, next: State, previous: State): State {
  const blend = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.add(b, tf.mul(m, tf.sub(a, b))) as tf.Tensor2D;
  const out: State = { h: blend(next.h, previous.h) };
  if (next.c && previous.c) out.c = blend(next.c, previous.c);
  return out;
}
