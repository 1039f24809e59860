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
import { minimalCell, minimalDefinition, type MinimalCellOptions } from './minimal.js';
import type { Cell } from './cell.js';

/** The minLSTM's options: f of the candidate h̃_t (default the identity), σ of the gates f_t, i_t (default sigmoid). */
export type MinLstmOptions = MinimalCellOptions;

/** The minLSTM's equations in LaTeX (`cell.equations`). */
export const MINLSTM_EQUATIONS = String.raw`\begin{aligned}
f_t &= \sigma(W_{fx} x_t + b_f) \\
i_t &= \sigma(W_{ix} x_t + b_i) \\
\tilde h_t &= f(W_{hx} x_t + b_h) \\
f'_t &= \frac{f_t}{f_t + i_t}, \qquad i'_t = \frac{i_t}{f_t + i_t} \\
h_t &= f'_t \odot h_{t-1} + i'_t \odot \tilde h_t
\end{aligned}`;

/** The minLSTM's gates (input halves only: `x(k)` is `W_kx x_t + b_k`), with `a_t = f'_t`, `b_t = i'_t ⊙ h̃_t`. */
export const MINLSTM = minimalDefinition('minlstm', ['f', 'i', 'h'], MINLSTM_EQUATIONS, (x, f, σ) => {
  const f_t = σ(x('f'));
  const i_t = σ(x('i'));
  const h̃_t = f(x('h'));
  const sum = tf.add(f_t, i_t);
  return { a: tf.div(f_t, sum), b: tf.mul(tf.div(i_t, sum), h̃_t) as tf.Tensor2D };
});

/** A minLSTM cell; see the module documentation for its equations. */
export function minlstm(options: MinLstmOptions): Cell {
  return minimalCell(MINLSTM, options);
}
