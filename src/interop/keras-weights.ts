/**
 * Keras's recurrent weight arrays → one of our cells, for every layout Keras writes: `kernel`
 * `[input, gates * units]`, `recurrent_kernel` `[units, gates * units]` (gates side by side in
 * Keras's order, which is ours: see `keras.ts`) and a bias of
 *
 * | bias shape | written by | ours |
 * |------------|------------|------|
 * | `[gates * units]` | SimpleRNN, LSTM, GRU (`reset_after=False`) | `b_k` |
 * | `[2, 3 * units]` | GRU with `reset_after=True` (Keras 2.3+, tf.keras, Keras 3) | row 0 input, row 1 recurrent: `b_z`, `b_r` summed, `b_n` = row 0, `b_nh` = row 1 |
 * | `[2 * gates * units]` | CuDNNLSTM, CuDNNGRU (input biases, then recurrent ones) | summed; the CuDNNGRU's n as `b_n`, `b_nh` |
 * | none | `use_bias=False` | zeros |
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import { createCell, definitionOf } from '../cells/kinds.js';
import { fmt } from '../check/index.js';

/** A Keras recurrent layer as our cell sees it. */
export interface KerasRecurrentSpec {
  kind: 'elman' | 'lstm' | 'gru';
  units: number;
  /** Our activation name. */
  activation: string;
  /** Our σ (LSTM, GRU). */
  recurrentActivation?: string;
  /** GRU only. */
  resetAfter?: boolean;
}

/** The cell holding copies of Keras's `kernel`, `recurrent_kernel` and bias (which stay the caller's). */
export function cellFromKerasWeights(
  where: string,
  spec: KerasRecurrentSpec,
  kernel: tf.Tensor,
  recurrentKernel: tf.Tensor,
  bias: tf.Tensor | null,
): Cell {
  const gates = definitionOf(spec.kind).gates;
  const G = gates.length;
  const { units } = spec;
  const inputSize = kernel.shape[0] ?? 0;
  const expect = (name: string, t: tf.Tensor, shapes: number[][]) => {
    if (!shapes.some((s) => s.length === t.rank && s.every((d, i) => d === t.shape[i]))) {
      throw new RangeError(`${where}: expected ${name} of shape ${shapes.map(fmt).join(' or ')}, got ${fmt(t.shape)}`);
    }
  };
  expect('kernel', kernel, [[inputSize, G * units]]);
  expect('recurrent_kernel', recurrentKernel, [[units, G * units]]);
  const twoBiases = bias !== null && bias.size === 2 * G * units;
  if (bias) expect('bias', bias, spec.resetAfter ? [[2, G * units], [2 * G * units]] : [[G * units], [2 * G * units]]);
  if (spec.kind === 'gru' && twoBiases !== !!spec.resetAfter && bias) {
    throw new Error(
      `${where}: a GRU bias of shape ${fmt(bias.shape)} needs reset_after=${!spec.resetAfter ? 'True' : 'False'}, but the layer says ${spec.resetAfter ? 'True' : 'False'}`,
    );
  }
  const params: Record<string, tf.Variable> = {};
  tf.tidy(() => {
    const Wx = tf.split(kernel, G, 1);
    const Wh = tf.split(recurrentKernel, G, 1);
    const zeros = tf.zeros([G * units]);
    const flat = bias ? tf.reshape(bias, [-1]) : null;
    const input = tf.split(flat ? tf.slice(flat, 0, G * units) : zeros, G);
    const recurrent = tf.split(flat && twoBiases ? tf.slice(flat, G * units, G * units) : zeros, G);
    const put = (symbol: string, t: tf.Tensor) => (params[symbol] = tf.variable(t, true));
    gates.forEach((g, k) => {
      put(`W_${g}x`, tf.transpose(Wx[k]));
      put(`W_${g}h`, tf.transpose(Wh[k]));
      if (spec.kind === 'gru' && g === 'n' && spec.resetAfter) {
        put('b_n', input[k]);
        put('b_nh', recurrent[k]);
      } else {
        put(`b_${g}`, tf.add(input[k], recurrent[k]));
      }
    });
  });
  return createCell(
    {
      kind: spec.kind,
      inputSize,
      units,
      activation: spec.activation,
      recurrentActivation: spec.kind === 'elman' ? undefined : spec.recurrentActivation,
      resetAfter: spec.kind === 'gru' ? !!spec.resetAfter : undefined,
    },
    { params },
  );
}
