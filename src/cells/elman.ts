/**
 * The vanilla (Elman) RNN cell.
 *
 * $$h_t = f(W_{hx} x_t + W_{hh} h_{t-1} + b_h)$$
 *
 * | symbol | shape                | |
 * |--------|----------------------|-|
 * | `W_hx` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_hh` | `[units, units]`     | recurrent weights (orthogonal) |
 * | `b_h`  | `[units]`            | bias (zeros) |
 *
 * State `{ h }`, `h: [batch, units]`. f defaults to `tanh`.
 *
 * Backward (the fast path's hand-derived gradient; $\bar v = \partial L / \partial v$, $a_t$ the
 * argument of f): for every step, from the $\bar h_t$ that reaches it,
 *
 * $$\bar a_t = \bar h_t \odot f'(a_t), \qquad \bar h_{t-1} \mathrel{{+}{=}} \bar a_t W_{hh}$$
 *
 * and $\bar W_{hx} = \sum_t \bar a_t^\top x_t$, $\bar W_{hh} = \sum_t \bar a_t^\top h_{t-1}$,
 * $\bar b_h = \sum_t \bar a_t$ (summed by the caller as single matMuls over all steps).
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';
import { outputDerivative } from './derivatives.js';

export interface ElmanOptions extends CellOptions {
  /** f, by name (default `'tanh'`). */
  activation?: string;
}

export const ELMAN_EQUATIONS = String.raw`h_t = f\left(W_{hx} x_t + W_{hh} h_{t-1} + b_h\right)`;

/** An Elman cell: `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)`. */
export function elman(options: ElmanOptions): Cell {
  checkCellOptions('elman', options, ['activation']);
  const activation = options.activation ?? 'tanh';
  const f = getActivation(activation);
  const df = outputDerivative(activation);
  return makeCell(
    {
      kind: 'elman',
      stateNames: ['h'],
      equations: ELMAN_EQUATIONS,
      config: { kind: 'elman', inputSize: options.inputSize, units: options.units, activation },
      // xp = W_hx x_t + b_h,  hp = W_hh h_{t-1}
      recur: (xp, hp) => ({ h: f(tf.add(xp, hp)) as tf.Tensor2D }),
      backward: df && {
        forward: (xp, hp) => {
          const h_t = f(tf.add(xp, hp)) as tf.Tensor2D;
          return { state: { h: h_t }, saved: { h_t } };
        },
        factors: (_prev, { h_t }) => ({ df: df(h_t) }), // f'(a_t) through h_t = f(a_t)
        step: ({ h }, { df }) => ({ hp: tf.mul(h, df) as tf.Tensor2D, prev: {} }), // ā_t = h̄_t ⊙ f'(a_t)
      },
    },
    options,
  );
}
