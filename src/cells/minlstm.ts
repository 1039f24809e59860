/**
 * The minimal LSTM (Feng et al. 2024, "Were RNNs All We Needed?"): {@link MINLSTM_EQUATIONS}.
 * Its gates read only `x_t` and are normalised (`f'_t + i'_t = 1`, so the state's scale does not
 * grow with time), so a step is the linear recurrence `h_t = a_t ⊙ h_{t-1} + b_t` with
 * `a_t = f'_t`, `b_t = i'_t ⊙ h̃_t`, and `rt.unroll` trains a whole sequence as one scan
 * (`src/fast/scan.ts`).
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_fx`, `W_ix`, `W_hx` | `[units, inputSize]` | `Linear_f`, `Linear_i`, `Linear_h` weights (Glorot uniform) |
 * | `b_f`, `b_i`, `b_h` | `[units]` | their biases (zeros) |
 *
 * State `{ h }`, `[batch, units]`. σ is `recurrentActivation` (default `sigmoid`); f is
 * `activation`, the identity by default (the paper's `h̃_t = Linear_h(x_t)`).
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import {
  checkCellOptions,
  makeCell,
  type Cell,
  type CellConfig,
  type CellDefinition,
  type CellOptions,
  type LinearForm,
} from './cell.js';
import { inputGateShapes, linearEquations } from './linear.js';

export interface MinLstmOptions extends CellOptions {
  /** f of the candidate h̃_t (default `'linear'`, the identity). */
  activation?: string;
  /** σ of the gates f_t and i_t (default `'sigmoid'`). */
  recurrentActivation?: string;
}

/** The minLSTM's equations in LaTeX (`cell.equations`). */
export const MINLSTM_EQUATIONS = String.raw`\begin{aligned}
f_t &= \sigma(W_{fx} x_t + b_f) \\
i_t &= \sigma(W_{ix} x_t + b_i) \\
\tilde h_t &= f(W_{hx} x_t + b_h) \\
f'_t &= \frac{f_t}{f_t + i_t}, \qquad i'_t = \frac{i_t}{f_t + i_t} \\
h_t &= f'_t \odot h_{t-1} + i'_t \odot \tilde h_t
\end{aligned}`;

/** `a_t = f'_t`, `b_t = i'_t ⊙ h̃_t`. */
function minLstmForm({ activation, recurrentActivation = 'sigmoid' }: CellConfig): LinearForm {
  const f = getActivation(activation);
  const σ = getActivation(recurrentActivation);
  return {
    state: 'h',
    complex: false,
    coefficients: ({ x }) => {
      const f_t = σ(x('f'));
      const i_t = σ(x('i'));
      const h̃_t = f(x('h'));
      const sum = tf.add(f_t, i_t);
      return { a: tf.div(f_t, sum), b: tf.mul(tf.div(i_t, sum), h̃_t) as tf.Tensor2D };
    },
  };
}

/** The minLSTM's gates: input halves only (`x(k)` is `W_kx x_t + b_k`). */
export const MINLSTM: CellDefinition = {
  kind: 'minlstm',
  gates: ['f', 'i', 'h'],
  stateNames: ['h'],
  shapes: (sizes) => inputGateShapes(MINLSTM.gates, sizes),
  latex: () => MINLSTM_EQUATIONS,
  linear: (config) => minLstmForm(config),
  equations: (config) => linearEquations(minLstmForm(config)),
};

/** A minLSTM cell; see the module documentation for its equations. */
export function minlstm(options: MinLstmOptions): Cell {
  checkCellOptions(MINLSTM, options, ['activation', 'recurrentActivation']);
  const { inputSize, units, activation = 'linear', recurrentActivation = 'sigmoid' } = options;
  return makeCell(MINLSTM, { kind: 'minlstm', inputSize, units, activation, recurrentActivation }, options);
}
