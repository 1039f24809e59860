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
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';

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
  return makeCell(
    {
      kind: 'elman',
      stateNames: ['h'],
      equations: ELMAN_EQUATIONS,
      config: { kind: 'elman', inputSize: options.inputSize, units: options.units, activation },
      // xp = W_hx x_t + b_h,  hp = W_hh h_{t-1}
      recur: (xp, hp) => ({ h: f(tf.add(xp, hp)) as tf.Tensor2D }),
    },
    options,
  );
}
