/**
 * Checking our cells against a PyTorch reference: a JSON file written from `nn.RNN`, `nn.LSTM`
 * or `nn.GRU` in float64 (the format of the project's `fixtures/pytorch/`), holding the weights
 * (PyTorch layout), an input `x`, the initial state, the outputs at every step, the final state,
 * and the gradients of the loss
 *
 * $$L = \sum \mathrm{outputs} \odot R + \sum h_T \odot S \;(+ \sum c_T \odot U)$$
 *
 * with respect to every weight, `x`, `h0` (and `c0`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, State } from '../cells/cell.js';
import { createCell } from '../cells/kinds.js';
import { checkNested } from '../check/index.js';
import { unroll } from '../unroll.js';
import { assertSyncReadable, readSync, runAsync, runSync, type Reader, type Values as ReadValues } from '../read.js';
import { fromPyTorch, pyTorchTensors, type PyTorchKind, type StateDict } from './pytorch.js';

type Nested = number[] | number[][] | number[][][];

/** A PyTorch reference file (see the module documentation). */
export interface PyTorchReference {
  cell: 'rnn' | 'lstm' | 'gru';
  activation: 'tanh' | 'relu' | null;
  shapes: { batch: number; time: number; input: number; hidden: number };
  params: StateDict;
  x: number[][][];
  h0: number[][];
  c0?: number[][];
  R: number[][][];
  S: number[][];
  U?: number[][];
  outputs: number[][][];
  h_T: number[][];
  c_T?: number[][];
  loss_value: number;
  grads: Record<string, number[] | number[][]>;
  grad_x: number[][][];
  grad_h0: number[][];
  grad_c0?: number[][];
}

/**
 * How far we are from the reference: absolute differences (`max |ours - theirs|`) for values,
 * relative ones (`max |ours - theirs| / max |theirs|`) for gradients.
 */
export interface ReferenceComparison {
  loss: number;
  outputs: number;
  h_T: number;
  c_T?: number;
  /** Keyed by PyTorch's parameter names. */
  grads: Record<string, number>;
  grad_x: number;
  grad_h0: number;
  grad_c0?: number;
}

/** The `fromPyTorch` kind of a reference. */
export function pyTorchKindOf(ref: PyTorchReference): PyTorchKind {
  return ref.cell === 'rnn' ? (`rnn_${ref.activation}` as PyTorchKind) : ref.cell;
}

/**
 * Loads the reference's weights into our cell, runs `unroll` and compares everything it holds.
 *
 * Synchronous: on cpu, wasm and tensorflow (tfjs-node). On webgpu and webgl it throws and names
 * {@link compareWithPyTorchAsync}, which works everywhere.
 */
export function compareWithPyTorch(ref: PyTorchReference): ReferenceComparison {
  const where = 'interop.compareWithPyTorch';
  assertSyncReadable(where, 'await rt.interop.compareWithPyTorchAsync(ref)');
  return runSync(where, 'rt.interop.compareWithPyTorchAsync', comparison(ref));
}

/** {@link compareWithPyTorch}, read with `await data()`: works on every backend, webgpu and webgl included. */
export async function compareWithPyTorchAsync(ref: PyTorchReference): Promise<ReferenceComparison> {
  return runAsync(comparison(ref));
}

/** Computes our side on the backend, then yields it to be read and compares it with the reference. */
function comparison(ref: PyTorchReference): Reader<ReferenceComparison> {
  // The nested arrays that become tensors: a ragged one would be misread by tf.tensor.
  for (const key of ['x', 'h0', 'c0', 'R', 'S', 'U'] as const) {
    if (ref?.[key] !== undefined) checkNested('interop.compareWithPyTorch', key, ref[key]);
  }
  const cell = fromPyTorch(pyTorchKindOf(ref), ref.params);
  let ours: Record<string, tf.Tensor>;
  try {
    ours = tf.tidy(() => {
      const lossOf = (x: tf.Tensor, h0: tf.Tensor, c0?: tf.Tensor) => {
        const initialState: State = { h: h0 as tf.Tensor2D, ...(c0 ? { c: c0 as tf.Tensor2D } : {}) };
        const { outputs, state } = unroll(cell, x, { initialState });
        let L = tf.add(tf.sum(tf.mul(outputs, tf.tensor(ref.R))), tf.sum(tf.mul(state.h, tf.tensor(ref.S))));
        if (ref.U && state.c) L = tf.add(L, tf.sum(tf.mul(state.c, tf.tensor(ref.U))));
        return { L: L as tf.Scalar, outputs, state };
      };
      const inputs = [tf.tensor(ref.x), tf.tensor(ref.h0), ...(ref.c0 ? [tf.tensor(ref.c0)] : [])];
      const { L, outputs, state } = lossOf(inputs[0], inputs[1], inputs[2]);
      const { grads } = tf.variableGrads(() => lossOf(inputs[0], inputs[1], inputs[2]).L);
      const wrt = tf.grads((...a: tf.Tensor[]) => lossOf(a[0], a[1], a[2]).L)(inputs);
      const torch = gradientsAs(cell, grads, (c) => pyTorchTensors('compareWithPyTorch', c));
      return {
        L,
        outputs,
        h_T: state.h,
        ...(state.c ? { c_T: state.c } : {}),
        ...Object.fromEntries(Object.entries(torch).map(([name, g]) => [`grad:${name}`, g])),
        grad_x: wrt[0],
        grad_h0: wrt[1],
        ...(wrt[2] ? { grad_c0: wrt[2] } : {}),
      };
    });
  } catch (err) {
    cell.dispose();
    throw err;
  }
  return (function* (): Reader<ReferenceComparison> {
    try {
      const names = Object.keys(ours);
      const read = yield Object.values(ours);
      const v = Object.fromEntries(names.map((name, i) => [name, read[i]]));
      return {
        loss: Math.abs(v.L[0] - ref.loss_value),
        outputs: maxAbsDifference(v.outputs, ref.outputs),
        h_T: maxAbsDifference(v.h_T, ref.h_T),
        ...(ref.c_T && v.c_T ? { c_T: maxAbsDifference(v.c_T, ref.c_T) } : {}),
        grads: pyTorchGradients(v, ref),
        grad_x: maxRelativeDifference(v.grad_x, ref.grad_x),
        grad_h0: maxRelativeDifference(v.grad_h0, ref.grad_h0),
        ...(ref.grad_c0 && v.grad_c0 ? { grad_c0: maxRelativeDifference(v.grad_c0, ref.grad_c0) } : {}),
      };
    } finally {
      tf.dispose(Object.values(ours));
      cell.dispose();
    }
  })();
}

/**
 * Our gradients in PyTorch's layout (`grad:<name>` in `v`), compared with the reference's. A folded
 * bias `b = b_ih + b_hh` has the same gradient as each of PyTorch's two; the GRU's `b_hn` is our `b_nh`.
 */
function pyTorchGradients(v: Record<string, ReadValues>, ref: PyTorchReference): Record<string, number> {
  const H = ref.shapes.hidden;
  const ours: Record<string, Values> = {
    weight_ih_l0: v['grad:weight_ih_l0'],
    weight_hh_l0: v['grad:weight_hh_l0'],
    bias_ih_l0: v['grad:bias_ih_l0'],
    bias_hh_l0: ref.cell === 'gru' ? v['grad:bias_hh_l0'].slice(2 * H) : v['grad:bias_ih_l0'],
  };
  const theirs = (name: string) =>
    ref.cell === 'gru' && name === 'bias_hh_l0' ? (ref.grads[name] as number[]).slice(2 * H) : ref.grads[name];
  return Object.fromEntries(Object.entries(ours).map(([name, g]) => [name, maxRelativeDifference(g, theirs(name))]));
}

/**
 * The gradients of `cell`'s parameters in another layout: `convert` gets a cell of the same
 * configuration whose parameters are the gradients (so `toPyTorch`/`toKeras` do the mapping).
 */
export function gradientsAs<T>(cell: Cell, grads: tf.NamedTensorMap, convert: (c: Cell) => T): T {
  const params = Object.fromEntries(
    Object.entries(cell.params).map(([symbol, v]) => [symbol, tf.variable(grads[v.name], false)]),
  );
  const gradCell = createCell(cell.config, { params });
  try {
    return convert(gradCell);
  } finally {
    gradCell.dispose();
  }
}

/** Values to compare: a tensor (read synchronously: cpu, wasm, tfjs-node), values read already, or nested arrays. */
type Values = tf.Tensor | ReadValues | Nested;

function flat(v: Values): Float64Array {
  if (v instanceof tf.Tensor) return Float64Array.from(readSync('compare', 'values read with `await t.data()`', v));
  return Float64Array.from(Array.isArray(v) ? (v.flat(2) as number[]) : v);
}

/** `max |a - b|` over all entries (a and b must hold as many). */
export function maxAbsDifference(a: Values, b: Values): number {
  const [x, y] = [flat(a), flat(b)];
  if (x.length !== y.length) throw new Error(`compare: ${x.length} values compared with ${y.length}`);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

/** `max |a - b| / max |b|`: the difference relative to the reference's scale. */
export function maxRelativeDifference(a: Values, b: Values): number {
  const scale = flat(b).reduce((m, v) => Math.max(m, Math.abs(v)), Number.MIN_VALUE);
  return maxAbsDifference(a, b) / scale;
}
