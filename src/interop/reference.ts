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
import { unroll } from '../unroll.js';
import { fromPyTorch, toPyTorch, type PyTorchKind, type StateDict } from './pytorch.js';

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

/** Loads the reference's weights into our cell, runs `unroll` and compares everything it holds. */
export function compareWithPyTorch(ref: PyTorchReference): ReferenceComparison {
  const cell = fromPyTorch(pyTorchKindOf(ref), ref.params);
  try {
    return tf.tidy(() => {
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
      return {
        loss: Math.abs(L.dataSync()[0] - ref.loss_value),
        outputs: maxAbsDifference(outputs, ref.outputs),
        h_T: maxAbsDifference(state.h, ref.h_T),
        ...(ref.c_T && state.c ? { c_T: maxAbsDifference(state.c, ref.c_T) } : {}),
        grads: pyTorchGradients(cell, grads, ref),
        grad_x: maxRelativeDifference(wrt[0], ref.grad_x),
        grad_h0: maxRelativeDifference(wrt[1], ref.grad_h0),
        ...(ref.grad_c0 ? { grad_c0: maxRelativeDifference(wrt[2], ref.grad_c0) } : {}),
      };
    });
  } finally {
    cell.dispose();
  }
}

/**
 * Our gradients in PyTorch's layout, compared with the reference's. A folded bias `b = b_ih + b_hh`
 * has the same gradient as each of PyTorch's two; the GRU's `b_hn` is our `b_nh`.
 */
function pyTorchGradients(cell: Cell, grads: tf.NamedTensorMap, ref: PyTorchReference): Record<string, number> {
  const torch = gradientsAs(cell, grads, toPyTorch);
  const H = ref.shapes.hidden;
  const ours: Record<string, Nested> = {
    weight_ih_l0: torch.weight_ih_l0,
    weight_hh_l0: torch.weight_hh_l0,
    bias_ih_l0: torch.bias_ih_l0,
    bias_hh_l0: ref.cell === 'gru' ? (torch.bias_hh_l0 as number[]).slice(2 * H) : torch.bias_ih_l0,
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

type Values = tf.Tensor | Nested;

function flat(v: Values): Float64Array {
  return Float64Array.from(v instanceof tf.Tensor ? v.dataSync() : (v.flat(2) as number[]));
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
