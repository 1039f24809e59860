/**
 * The loop over time: the one place where a cell is unrolled into a graph.
 *
 * For `x: [batch, time, inputSize]` it computes, for t = 1..T (or T..1 with `reverse`),
 * `state_t = cell.step(x_t, state_{t-1})` and returns every `h_t` and the last state.
 *
 * Speed: the input projection `X W_x^T + b` of all time steps is one matMul, the recurrent part
 * of all gates of a step is one matMul (`cell.fuse()` concatenates the per-symbol parameters once
 * per call), and the projected input is split into steps once (`unstack`), not sliced per step.
 * When gradients are being recorded and the cell has a hand-derived backward, the same loop runs
 * inside one `tf.customGrad` whose gradient is the whole sequence's (`src/fast/`): tfjs then
 * records one node for the sequence instead of a dozen per step, and the weight gradients are
 * single matMuls over all steps. `fast: false` keeps the plain graph, the reference.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, FusedWeights, State } from './cells/cell.js';
import { checkCell, checkState } from './cells/cell.js';
import { checkKeys, checkTensor } from './check.js';
import { sequenceWithGradient, type Scan } from './fast/sequence.js';
import { unstack } from './fast/split.js';

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
   * here to read `dL/dh_t` of every step in one backward pass. (It runs the plain path.)
   */
  probe?: (t: number, h: tf.Tensor2D) => tf.Tensor2D;
  /**
   * Use the hand-derived whole-sequence gradient where the cell has one (default `true`); `false`
   * runs the plain per-step graph whose gradient tfjs derives. Both give the same numbers.
   */
  fast?: boolean;
}

export type UnrollResult = {
  /** `h_t` at every step: `[batch, time, units]`, in input order. */
  outputs: tf.Tensor3D;
  /** The state after the last processed step. */
  state: State;
};

/** Unrolls `cell` over `x: [batch, time, inputSize]`. */
export function unroll(cell: Cell, x: tf.Tensor, options: UnrollOptions = {}): UnrollResult {
  checkCell('unroll', cell);
  checkKeys('unroll', options, ['initialState', 'reverse', 'mask', 'probe', 'fast']);
  for (const flag of ['reverse', 'fast'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new TypeError(`unroll: expected ${flag} to be true or false, got ${JSON.stringify(options[flag])}`);
    }
  }
  checkTensor('unroll', 'x', x, ['batch', 'time', cell.inputSize]);
  const [batch, time] = x.shape;
  if (time === 0) throw new RangeError('unroll: expected x with at least one time step, got time = 0');
  const initial = options.initialState ?? null;
  if (initial) checkState('unroll', cell, initial, batch);
  if (options.mask !== undefined) checkTensor('unroll', 'mask', options.mask, [batch, time]);
  const { reverse = false, probe } = options;

  return tf.tidy(() => {
    // Time-major and in processing order: row block k of X is the k-th step processed.
    const inOrder = (t: tf.Tensor) => (reverse ? tf.reverse(t, 0) : t);
    const X = inOrder(tf.transpose(x, [1, 0, 2])).reshape([time * batch, cell.inputSize]) as tf.Tensor2D;
    const keep = options.mask
      ? (inOrder(tf.transpose(tf.cast(options.mask, 'float32'))).reshape([time, batch, 1]) as tf.Tensor3D)
      : null;
    const state0 = initial ?? cell.initialState(batch);
    const scan: Scan = (X, w, state0, step = (xp_t, state, hp_t) => cell.recur(xp_t, state, w, hp_t)) => {
      // [T*B, I] x [I, G*U]: the input projection of all steps in one matMul, split once.
      const xps = steps(cell.project(X, w).reshape([time, batch, -1]));
      const keeps = keep ? steps(keep) : null;
      const states: State[] = [];
      let state = state0;
      for (let k = 0; k < time; k++) {
        const next = step(xps[k], state, cell.hidden(state.h, w));
        state = keeps ? carryMasked(keeps[k], next, state) : next;
        if (probe) state = { ...state, h: probe(reverse ? time - 1 - k : k, state.h) };
        states.push(state);
      }
      return states;
    };

    const w: FusedWeights = cell.fuse();
    const fast = options.fast !== false && !probe && cell.backward !== undefined && tf.engine().isTapeOn();
    const { hs, state } = fast
      ? sequenceWithGradient(cell, cell.backward!, { X, w, state0, keep }, scan)
      : lastAndAll(scan(X, w, state0));
    return { outputs: tf.transpose(inOrder(hs), [1, 0, 2]) as tf.Tensor3D, state };
  });
}

/**
 * `t: [time, …]` split into its `time` steps, each copied once (`fast/split.ts`). Its gradient
 * also holds for one step, where tfjs 4.22's `unstack` gradient fails ("Argument tensors passed
 * to stack must be a `Tensor[]`").
 */
function steps(t: tf.Tensor): tf.Tensor2D[] {
  return unstack(t) as tf.Tensor2D[];
}

/** Every `h` stacked `[time, batch, units]` (processing order) and the last state. */
function lastAndAll(states: State[]): { hs: tf.Tensor3D; state: State } {
  return { hs: tf.stack(states.map((s) => s.h)) as tf.Tensor3D, state: states[states.length - 1] };
}

/** `m ? next : previous` for every entry of the state, with m per batch row. */
function carryMasked(m: tf.Tensor2D, next: State, previous: State): State {
  const blend = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.add(b, tf.mul(m, tf.sub(a, b))) as tf.Tensor2D;
  const out: State = { h: blend(next.h, previous.h) };
  if (next.c && previous.c) out.c = blend(next.c, previous.c);
  return out;
}
