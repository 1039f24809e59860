/**
 * A whole sequence at once, for the cells whose step is a linear recurrence
 * `s_t = a_t ⊙ s_{t-1} + b_t` with `a_t`, `b_t` free of the state ({@link LinearForm}: minGRU,
 * minLSTM, the LRU, IndRNN with a linear σ). A cell kind takes this path by giving its definition
 * a `linear` form (`src/cells/`); `unroll` runs it in place of the step loop where `fast` is not
 * `false`.
 *
 * 1. `a_t`, `b_t` of every step at once, from the cell's own coefficients on the stacked rows
 *    (the input halves of all gates and steps in one matMul);
 * 2. a masked step (`m = 0`) keeps the state: `a'_t = 1 + m (a_t - 1)`, `b'_t = m b_t`;
 * 3. the recurrence over all steps from `s_0`: on cpu and wasm our kernel (`./scan-kernel.ts`,
 *    one pass in JavaScript, its gradient the same pass backwards); elsewhere (webgl, webgpu) the
 *    scan by pairs in tf ops: steps `2k` and `2k+1` composed into one map `s ↦ A s + B`, the
 *    half-length sequence of those scanned the same way, the even steps filled in from the odd
 *    ones (the work-efficient parallel scan: `O(T)` work in `2 ⌈log₂ T⌉` rounds of a few
 *    elementwise ops, complex products for the LRU; tfjs derives its gradient);
 * 4. `h_t` is `s_t`, or the cell's read-out of it (the LRU's), carried over masked steps by a
 *    second scan.
 *
 * Where the backend has a fused scan for the cell (a `ScanKernel`, `./registry.ts`: on cpu and wasm for
 * minGRU, minLSTM and IndRNN, `./wasm/scan-kernel.ts`), that runs instead: all of the above, and
 * the gradient, in one call each way. It also runs IndRNN with a σ other than the identity (its
 * state is still updated unit by unit), which otherwise runs the step loop.
 *
 * Products are formed directly, not in log space as Feng et al. 2024 do (tfjs has no
 * `logcumsumexp`): `a_t` may be 0 or negative, and the result equals the step loop to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { noRecurrentHalf, plainTerms, type Cell, type LinearForm, type State, type Terms } from '../cells/cell.js';
import { definitionOf } from '../cells/kinds.js';
import { complexMul, complexParts, linearMul } from '../cells/linear.js';
import { matMul } from './matmul.js';
import { linearScanKernel } from './scan-kernel.js';
import { split } from './split.js';
import { scanKernelFor } from './registry.js';
import type { SequenceInputs } from './sequence.js';

type Pair = [tf.Tensor, tf.Tensor];

/**
 * Every `h_t` (`[batch, time, units]`, in input order, as `unroll` returns them) and the last
 * state of `cell` over the sequence as one scan, or `null` where the cell's configuration is not
 * a linear recurrence and the backend has no fused scan for it (its steps then run one by one).
 * `X` is time-major in processing order (`reverse`: from the last step).
 */
export function scanSequence(
  cell: Cell,
  { X, state0, keep, recurrentMask }: SequenceInputs,
  reverse: boolean,
): { outputs: tf.Tensor3D; state: State } | null {
  const batch = state0.h.shape[0];
  const time = X.shape[0] / batch;
  const fused = recurrentMask ? undefined : scanKernelFor(cell.config);
  if (fused?.fits(time, batch, keep !== null)) return fused.run(cell.params, X, state0, keep, reverse);
  const form = definitionOf(cell.kind).linear?.(cell.config);
  if (!form) return null;
  if (recurrentMask) throw noRecurrentHalf('unroll', cell.kind);
  const units = cell.units;
  const steps = (t: tf.Tensor) => t.reshape([time, batch, units]);
  // The coefficients do not read h_{t-1} (that is what makes the form linear); the input halves
  // of all gates and steps are one product, through ./matmul.ts (fast on cpu and wasm).
  const plain = plainTerms(cell.params, {}, X, state0.h);
  const terms: Terms = {
    ...plain,
    x: inputHalves(cell, X) ?? plain.x,
    product: (v, W) => matMul(v, W, false, true),
  };
  const { a, b } = form.coefficients(terms);
  // A constant `a` repeated over the steps by a broadcast add, whose gradient is one sum (tf.tile's
  // is a slice and an add per step: 110 ms of the LRU's step at T = 512 on wasm).
  let A = a.rank === 1 ? tf.add(tf.zeros([time, 1, units]), a.reshape([1, 1, units])) : steps(a);
  let B = steps(b);
  if (keep) {
    const one = identity(form, units);
    A = tf.add(one, tf.mul(keep, tf.sub(A, one)));
    B = tf.mul(keep, B);
  }
  const s0 = state0[form.state]!;
  const S = scan(form, A, B, s0);
  let H = S;
  if (form.output) {
    H = steps(form.output(S.reshape([time * batch, units]) as tf.Tensor2D, terms));
    if (keep) {
      const real = { state: 'h', complex: false } as const;
      const carry = tf.tile(tf.sub(1, keep), [1, 1, units]);
      H = scan(real, carry, tf.mul(keep, H), state0.h);
    }
  }
  const last = (t: tf.Tensor) =>
    (time === 1 ? t : split(t, [time - 1, 1], 0)[1]).reshape([batch, units]) as tf.Tensor2D;
  const state: State = { h: last(H) };
  if (form.state === 'c') state.c = last(S);
  return { outputs: tf.transpose(reverse ? tf.reverse(H, 0) : H, [1, 0, 2]) as tf.Tensor3D, state };
}

/** `x(k) = W_kx x_t + b_k` of every gate for the rows `X`, all gates in one product (the LRU has none). */
function inputHalves({ kind, params }: Cell, X: tf.Tensor2D): Terms['x'] | undefined {
  const gates = definitionOf(kind).gates;
  if (gates.length === 0) return undefined;
  const W = tf.concat(gates.map((k) => params[`W_${k}x`]));
  const b = tf.concat(gates.map((k) => params[`b_${k}`]));
  const all = tf.add(matMul(X, W as tf.Tensor2D, false, true), b) as tf.Tensor2D;
  const pieces = gates.length === 1 ? [all] : (split(all, gates.length, 1) as tf.Tensor2D[]);
  return (k) => pieces[gates.indexOf(k)];
}

/** The `a` that keeps the state: 1 (`1 + 0i`). */
function identity(form: LinearForm, units: number): tf.Tensor {
  if (!form.complex) return tf.ones([units]);
  return tf.concat([tf.ones([units / 2]), tf.zeros([units / 2])]);
}

/** Steps `start .. start + count - 1` of a `[T, …]` tensor. */
const steps = (t: tf.Tensor, start: number, count: number) => t.slice([start, 0, 0], [count, -1, -1]);

/** The arithmetic of the scan's values: real tensors, or complex ones as `[Re, Im]` pairs. */
interface Values<V> {
  mul(a: V, b: V): V;
  add(a: V, b: V): V;
  /** The same shape operation on every part. */
  each(v: V, f: (t: tf.Tensor) => tf.Tensor): V;
  /** The same operation on the matching parts of two values. */
  both(v: V, w: V, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): V;
}

const REAL: Values<tf.Tensor> = {
  mul: (a, b) => tf.mul(a, b),
  add: (a, b) => tf.add(a, b),
  each: (v, f) => f(v),
  both: (v, w, f) => f(v, w),
};

const COMPLEX: Values<Pair> = {
  mul: (a, b) => complexMul(a, b),
  add: (a, b) => [tf.add(a[0], b[0]), tf.add(a[1], b[1])],
  each: (v, f) => [f(v[0]), f(v[1])],
  both: (v, w, f) => [f(v[0], w[0]), f(v[1], w[1])],
};

/**
 * `s_t` of every step from `A` (`[T, 1 or batch, units]`) and `B` (`[T, batch, units]`), with
 * `s_0 = 0`: our kernel on cpu and wasm (`./scan-kernel.ts`), the scan by pairs elsewhere.
 */
function scan(form: Pick<LinearForm, 'complex'>, A: tf.Tensor, B: tf.Tensor, s0: tf.Tensor): tf.Tensor {
  return linearScanKernel(A, B, s0, form.complex) ?? scanByPairs(form, A, B, s0);
}

/** The scan by pairs in tf ops (the gradient is tfjs's), on any backend; `s_0` enters `b_1`. */
export function scanByPairs(form: Pick<LinearForm, 'complex'>, A: tf.Tensor, B: tf.Tensor, s0: tf.Tensor): tf.Tensor {
  const first = (t: tf.Tensor) => t.slice([0, 0, 0], [1, -1, -1]);
  const b1 = tf.add(first(B), linearMul(form, first(A), s0));
  const folded = B.shape[0] === 1 ? b1 : tf.concat([b1, B.slice([1, 0, 0], [-1, -1, -1])]);
  if (!form.complex) return pairScan(REAL, A, folded, B.shape[0]);
  return tf.concat(pairScan(COMPLEX, complexParts(A), complexParts(folded), B.shape[0]), 2);
}

/**
 * The scan by pairs (work `O(T)`, depth `O(log T)`): the maps of steps `2k` and `2k+1` composed
 * into one, `(A_{2k+1} A_{2k}, A_{2k+1} B_{2k} + B_{2k+1})`, the half-length sequence of those
 * scanned (its results are the odd steps' states), and each even step's state from the odd one
 * before it, `s_{2k} = A_{2k} s_{2k-1} + B_{2k}`. An odd length scans all but the last step first.
 */
function pairScan<V>(values: Values<V>, A: V, B: V, T: number): V {
  const { mul, add, each, both } = values;
  if (T === 1) return B;
  if (T % 2 === 1) {
    const S = pairScan(
      values,
      each(A, (t) => steps(t, 0, T - 1)),
      each(B, (t) => steps(t, 0, T - 1)),
      T - 1,
    );
    const last = add(
      mul(
        each(A, (t) => steps(t, T - 1, 1)),
        each(S, (t) => steps(t, T - 2, 1)),
      ),
      each(B, (t) => steps(t, T - 1, 1)),
    );
    return both(S, last, (s, l) => tf.concat([s, l]));
  }
  const half = T / 2;
  const pick = (v: V, parity: number) =>
    each(v, (t) =>
      t
        .reshape([half, 2, ...t.shape.slice(1)])
        .slice([0, parity, 0, 0], [-1, 1, -1, -1])
        .reshape([half, ...t.shape.slice(1)]),
    );
  const [A0, A1, B0, B1] = [pick(A, 0), pick(A, 1), pick(B, 0), pick(B, 1)];
  const odd = pairScan(values, mul(A1, A0), add(mul(A1, B0), B1), half);
  const rest = (v: V, start: number) => each(v, (t) => steps(t, start, half - 1));
  const even =
    half === 1
      ? B0
      : both(
          each(B0, (t) => steps(t, 0, 1)),
          add(mul(rest(A0, 1), rest(odd, 0)), rest(B0, 1)),
          (b, s) => tf.concat([b, s]),
        );
  return both(even, odd, (e, o) => tf.stack([e, o], 1).reshape([T, ...o.shape.slice(1)]));
}
