/**
 * The gated recurrent unit (Cho et al. 2014): {@link GRU_EQUATIONS}.
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_zx, W_rx, W_nx` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_zh, W_rh, W_nh` | `[units, units]` | recurrent weights (orthogonal) |
 * | `b_z, b_r, b_n` | `[units]` | biases (zeros; none with `useBias: false`) |
 * | `b_nh` | `[units]` | recurrent bias of n, only with `resetAfter` and biases (zeros) |
 *
 * `resetAfter: true` (the default) is the form of PyTorch and Keras 3; `false` is the form of
 * tfjs's own GRU layer and Keras 2's default. Gate order of stacked layouts: z, r, n.
 * State `{ h }`, `[batch, units]`.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkBoolean } from '../check/index.js';
import {
  biasConfig,
  checkCellOptions,
  makeCell,
  type Cell,
  type CellConfig,
  type CellDefinition,
  type CellOptions,
} from './cell.js';

export interface GruOptions extends CellOptions {
  /** Apply the reset gate after the recurrent matMul (default `true`). */
  resetAfter?: boolean;
  /** The tanh of n_t (default `'tanh'`). */
  activation?: string;
  /** The σ of the gates (default `'sigmoid'`). */
  recurrentActivation?: string;
  /** `false`: no biases (`b_k`, and the GRU's `b_nh`), as tfjs's and Keras's `useBias: false` (default `true`). */
  useBias?: boolean;
}

const Z_R = String.raw`z_t &= \sigma(W_{zx} x_t + W_{zh} h_{t-1} + b_z) \\
r_t &= \sigma(W_{rx} x_t + W_{rh} h_{t-1} + b_r) \\`;
const H = String.raw`h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}`;

/** The GRU's equations in LaTeX (`cell.equations`), in each form. */
export const GRU_EQUATIONS = {
  resetAfter: String.raw`\begin{aligned}
${Z_R}
n_t &= \tanh(W_{nx} x_t + b_n + r_t \odot (W_{nh} h_{t-1} + b_{nh})) \\
${H}
\end{aligned}`,
  resetBefore: String.raw`\begin{aligned}
${Z_R}
n_t &= \tanh(W_{nx} x_t + b_n + W_{nh} (r_t \odot h_{t-1})) \\
${H}
\end{aligned}`,
};

const resetAfterOf = (config: CellConfig) => config.resetAfter !== false;

/**
 * The GRU's equations as code; `a(k)` is `W_kx x_t + W_kh h_{t-1} + b_k`, `x('n')` is `W_nx x_t + b_n`
 * and `h('n', v)` is `W_nh v` (`+ b_nh` with `resetAfter`).
 */
export const GRU: CellDefinition = {
  kind: 'gru',
  gates: ['z', 'r', 'n'],
  stateNames: ['h'],
  recurrentBias: (config): Record<string, string> => (resetAfterOf(config) ? { n: 'b_nh' } : {}),
  latex: (config) => GRU_EQUATIONS[resetAfterOf(config) ? 'resetAfter' : 'resetBefore'],
  equations: (config) => {
    const tanh = getActivation(config.activation);
    const σ = getActivation(config.recurrentActivation ?? 'sigmoid');
    const resetAfter = resetAfterOf(config);
    return ({ a, x, h }, { h: h_prev }) => {
      const z_t = σ(a('z')) as tf.Tensor2D;
      const r_t = σ(a('r')) as tf.Tensor2D;
      let n_t: tf.Tensor2D;
      // The recurrent half of n_t: W_nh h_{t-1} + b_nh, or r_t ⊙ h_{t-1} (which W_nh then multiplies).
      let u_t: tf.Tensor2D;
      if (resetAfter) {
        u_t = h('n');
        n_t = tanh(tf.add(x('n'), tf.mul(r_t, u_t))) as tf.Tensor2D;
      } else {
        u_t = tf.mul(r_t, h_prev) as tf.Tensor2D;
        n_t = tanh(tf.add(x('n'), h('n', u_t))) as tf.Tensor2D;
      }
      // (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}, as n_t + z_t ⊙ (h_{t-1} - n_t): three kernels, and no
      // scalar 1 to upload every step (a GPU backend then stalls on it, 2 ms a step on an H100).
      const h_t = tf.add(n_t, tf.mul(z_t, tf.sub(h_prev, n_t))) as tf.Tensor2D;
      return { z_t, r_t, n_t, u_t, h_t };
    };
  },
};

/** A GRU cell; see the module documentation for its equations. */
export function gru(options: GruOptions): Cell {
  checkCellOptions(GRU, options, ['resetAfter', 'activation', 'recurrentActivation', 'useBias']);
  const { inputSize, units, activation = 'tanh', recurrentActivation = 'sigmoid', resetAfter = true } = options;
  checkBoolean('cells.gru', 'resetAfter', resetAfter);
  const bias = biasConfig('cells.gru', options.useBias);
  return makeCell(
    GRU,
    { kind: 'gru', inputSize, units, activation, recurrentActivation, resetAfter, ...bias },
    options,
  );
}
