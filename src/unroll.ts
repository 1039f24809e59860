/**
 * The loop over time: the one place where a cell is unrolled into a graph.
 *
 * For `x: [batch, time, inputSize]` it computes, for t = 1..T (or T..1 with `reverse`),
 * `state_t = cell.step(x_t, state_{t-1})` and returns every `h_t` and the last state.
 *
 * Where a fast path is registered for the cell's kind (`src/fast/`) and `fast` is not `false`,
 * the same loop runs the cell's equations on fused weights (all gates of a step in one matMul,
 * the input projection of all steps in one more) and, while gradients are recorded, inside one
 * `tf.customGrad` whose gradient is the whole sequence's, derived by hand. `fast: false` runs
 * `cell.step` itself, the reference the fast paths are tested against.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, State } from './cells/cell.js';
import { checkCell, checkState } from './cells/cell.js';
import { checkBoolean, checkKeys, checkMaskValues, checkSequence, checkTensor, describe } from './check/index.js';
import { fastPathFor, runFast, unstack, type Loop } from './fast/index.js';
import { scanSequence } from './fast/scan.js';

export interface UnrollOptions {
  /** The state before the first step (default: zeros). */
  initialState?: State;
  /** Process the sequence from the last step to the first. `outputs[:, t]` still belongs to x_t. */
  reverse?: boolean;
  /**
   * `[batch, time]`, 1 (or true) where a step is real, 0 where it is padding. At a masked step
   * the state and the output carry the previous ones forward (as tfjs's layers do). Other values
   * (0.5, 7, NaN) are refused; on webgpu and webgl, where the values could be read only
   * asynchronously, only the shape is checked and any value other than 0 counts as a real step
   * (a mask is never used as weights).
   */
  mask?: tf.Tensor;
  /**
   * A hook on the hidden state: after step t (0-based, input order) `h_t` is replaced by
   * `probe(t, h_t)` before it feeds the output and the next step. Diagnostics add zero tensors
   * here to read `dL/dh_t` of every step in one backward pass. (It runs the plain path.)
   */
  probe?: (t: number, h: tf.Tensor2D) => tf.Tensor2D;
  /**
   * Use the cell kind's fast path where one is registered (default `true`); `false` runs
   * `cell.step` in the loop, with the gradient tfjs derives. Both give the same numbers.
   */
  fast?: boolean;
  /**
   * `[batch, units]`: a recurrent dropout mask, the same at every step (as Keras). The recurrent
   * halves of the gates see `h_{t-1} ⊙ m`; the state carried forward stays `h_{t-1}`. The
   * recurrent layers pass one while training with `recurrentDropout`.
   */
  recurrentMask?: tf.Tensor;
}

export type UnrollResult<S extends State = State> = {
  /** `h_t` at every step: `[batch, time, units]`, in input order. */
  outputs: tf.Tensor3D;
  /** The state after the last processed step. */
  state: S;
};

/** Unrolls `cell` over `x: [batch, time, inputSize]`. */
export function unroll<S extends State = State>(cell: Cell<S>, x: tf.Tensor, options?: UnrollOptions): UnrollResult<S>;
// The state has the cell's entries (the fast path and the loop both keep them): the cell's state type.
export function unroll(cell: Cell, x: tf.Tensor, options: UnrollOptions = {}): UnrollResult {
  checkCell('unroll', cell);
  checkKeys('unroll', options, ['initialState', 'reverse', 'mask', 'probe', 'fast', 'recurrentMask']);
  for (const flag of ['reverse', 'fast'] as const) {
    if (options[flag] !== undefined) checkBoolean('unroll', flag, options[flag]);
  }
  checkSequence('unroll', 'x', x, cell.inputSize);
  const [batch, time] = x.shape;
  // Any value given is checked (0, '' and false too), not only truthy ones.
  const initial = options.initialState === undefined ? null : checkState('unroll', cell, options.initialState, batch);
  if (options.mask !== undefined) {
    checkTensor('unroll', 'mask', options.mask, [batch, time]);
    checkMaskValues('unroll', options.mask);
  }
  const recurrentMask = options.recurrentMask as tf.Tensor2D | undefined;
  if (recurrentMask !== undefined) checkTensor('unroll', 'recurrentMask', recurrentMask, [batch, cell.units]);
  const { reverse = false, probe } = options;
  if (probe !== undefined && typeof probe !== 'function') {
    throw new TypeError(`unroll: expected probe to be a function (t, h_t) => h_t, got ${describe(probe)}`);
  }
  const path = options.fast !== false && !probe ? fastPathFor(cell.config) : undefined;

  return tf.tidy(() => {
    // Time-major and in processing order: row block k of X is the k-th step processed.
    const inOrder = (t: tf.Tensor) => (reverse ? tf.reverse(t, 0) : t);
    const X = inOrder(tf.transpose(x, [1, 0, 2])).reshape([time * batch, cell.inputSize]) as tf.Tensor2D;
    // 1 where the mask is not 0, as a boolean mask means (other values are refused where they can be read).
    const real = options.mask ? tf.cast(tf.notEqual(options.mask, 0), 'float32') : null;
    const keep = real ? (inOrder(tf.transpose(real)).reshape([time, batch, 1]) as tf.Tensor3D) : null;
    const keeps = keep ? (unstack(keep) as tf.Tensor2D[]) : null;
    const state0 = initial ?? cell.initialState(batch);

    const loop: Loop = (step, state0) => {
      const states: State[] = [];
      let state = state0;
      for (let k = 0; k < time; k++) {
        const next = step(k, state);
        state = keeps ? carryMasked(keeps[k], next, state) : next;
        if (probe) {
          const h = probe(reverse ? time - 1 - k : k, state.h);
          checkTensor('unroll', 'the result of probe(t, h_t)', h, [batch, cell.units]);
          state = { ...state, h };
        }
        states.push(state);
      }
      return states;
    };

    // A cell whose step is a linear recurrence (or, fused, elementwise in the state: IndRNN) runs as
    // one scan (./fast/scan.ts), its outputs already in input order.
    const scanned =
      options.fast !== false && !probe ? scanSequence(cell, { X, state0, keep, recurrentMask }, reverse) : null;
    if (scanned) return scanned;
    let hs: tf.Tensor3D;
    let state: State;
    if (path) {
      ({ hs, state } = runFast(cell, path, { X, state0, keep, recurrentMask }, loop));
    } else {
      const xs = unstack(X.reshape([time, batch, cell.inputSize])) as tf.Tensor2D[];
      const stepOptions = recurrentMask ? { recurrentMask } : undefined;
      const states = loop((k, s) => cell.step(xs[k], s, stepOptions), state0);
      hs = tf.stack(states.map((s) => s.h)) as tf.Tensor3D;
      state = states[time - 1];
    }
    return { outputs: tf.transpose(inOrder(hs), [1, 0, 2]) as tf.Tensor3D, state };
  });
}

/** `m ? next : previous` for every entry of the state, with m per batch row. */
function carryMasked(m: tf.Tensor2D, next: State, previous: State): State {
  const blend = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.add(b, tf.mul(m, tf.sub(a, b))) as tf.Tensor2D;
  const out: State = { h: blend(next.h, previous.h) };
  if (next.c && previous.c) out.c = blend(next.c, previous.c);
  return out;
}
