/**
 * The minimal GRU (Feng et al. 2024, "Were RNNs All We Needed?"): {@link MINGRU_EQUATIONS}. Its
 * gate and candidate read only `x_t`, so a step is the linear recurrence
 * `h_t = a_t ⊙ h_{t-1} + b_t` with `a_t = 1 - z_t`, `b_t = z_t ⊙ h̃_t`, and `rt.unroll` trains a
 * whole sequence as one scan (`src/fast/scan.ts`) rather than a loop.
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_zx`, `W_hx` | `[units, inputSize]` | `Linear_z`, `Linear_h` weights (Glorot uniform) |
 * | `b_z`, `b_h` | `[units]` | their biases (zeros) |
 *
 * State `{ h }`, `[batch, units]`. σ is `recurrentActivation` (default `sigmoid`); f is
 * `activation`, the identity by default (the paper's `h̃_t = Linear_h(x_t)`).
 */
import * as tf from '@tensorflow/tfjs';
import { minimalCell, minimalDefinition, type MinimalCellOptions } from './minimal.js';
import type { Cell } from './cell.js';

/** The minGRU's options: f of the candidate h̃_t (default the identity), σ of the gate z_t (default sigmoid). */
export type MinGruOptions = MinimalCellOptions;

/** The minGRU's equations in LaTeX (`cell.equations`). */
export const MINGRU_EQUATIONS = String.raw`\begin{aligned}
z_t &= \sigma(W_{zx} x_t + b_z) \\
\tilde h_t &= f(W_{hx} x_t + b_h) \\
h_t &= (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t
\end{aligned}`;

/** The minGRU's gates (input halves only: `x(k)` is `W_kx x_t + b_k`), with `a_t = 1 - z_t`, `b_t = z_t ⊙ h̃_t`. */
export const MINGRU = minimalDefinition('mingru', ['z', 'h'], MINGRU_EQUATIONS, (x, f, σ) => {
  const z_t = σ(x('z'));
  const h̃_t = f(x('h'));
  return { a: tf.sub(1, z_t), b: tf.mul(z_t, h̃_t) as tf.Tensor2D };
});

/** A minGRU cell; see the module documentation for its equations. */
export function mingru(options: MinGruOptions): Cell {
  return minimalCell(MINGRU, options);
}
