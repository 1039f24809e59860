/**
 * The vanilla (Elman) RNN cell: {@link ELMAN_EQUATIONS}.
 *
 * | symbol | shape                | |
 * |--------|----------------------|-|
 * | `W_hx` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_hh` | `[units, units]`     | recurrent weights (orthogonal) |
 * | `b_h`  | `[units]`            | bias (zeros; none with `useBias: false`) |
 *
 * State `{ h }`, `h: [batch, units]`. f defaults to `tanh`.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { biasConfig, checkCellOptions, makeCell, type Cell, type CellDefinition, type CellOptions } from './cell.js';

export interface ElmanOptions extends CellOptions {
  /** f, by name (default `'tanh'`). */
  activation?: string;
  /** `false`: no biases (`b_k`, and the GRU's `b_nh`), as tfjs's and Keras's `useBias: false` (default `true`). */
  useBias?: boolean;
}

/** The Elman cell's equations in LaTeX (`cell.equations`). */
export const ELMAN_EQUATIONS = String.raw`h_t = f\left(W_{hx} x_t + W_{hh} h_{t-1} + b_h\right)`;

/** The Elman cell's equations as code; `a('h')` is `W_hx x_t + W_hh h_{t-1} + b_h`. */
export const ELMAN: CellDefinition = {
  kind: 'elman',
  gates: ['h'],
  stateNames: ['h'],
  latex: () => ELMAN_EQUATIONS,
  equations: ({ activation }) => {
    const f = getActivation(activation);
    return ({ a }) => ({ h_t: f(a('h')) as tf.Tensor2D });
  },
};

/** An Elman cell: `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)`. */
export function elman(options: ElmanOptions): Cell {
  checkCellOptions(ELMAN, options, ['activation', 'useBias']);
  const { inputSize, units, activation = 'tanh' } = options;
  const bias = biasConfig('cells.elman', options.useBias);
  return makeCell(ELMAN, { kind: 'elman', inputSize, units, activation, ...bias }, options);
}
