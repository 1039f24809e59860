/**
 * The gated recurrent unit (Cho et al. 2014).
 *
 * $$
 * \begin{aligned}
 * z_t &= \sigma(W_{zx} x_t + W_{zh} h_{t-1} + b_z) \\
 * r_t &= \sigma(W_{rx} x_t + W_{rh} h_{t-1} + b_r) \\
 * n_t &= \tanh(W_{nx} x_t + b_n + r_t \odot (W_{nh} h_{t-1} + b_{nh})) && \text{resetAfter (default)} \\
 * n_t &= \tanh(W_{nx} x_t + W_{nh} (r_t \odot h_{t-1}) + b_n) && \text{not resetAfter} \\
 * h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
 * \end{aligned}
 * $$
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_zx, W_rx, W_nx` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_zh, W_rh, W_nh` | `[units, units]` | recurrent weights (orthogonal) |
 * | `b_z, b_r, b_n` | `[units]` | biases (zeros) |
 * | `b_nh` | `[units]` | recurrent bias of n, only with `resetAfter` (zeros) |
 *
 * `resetAfter: true` (the default) is the form of PyTorch and Keras 3; `false` is the form of
 * tfjs's own GRU layer and Keras 2's default. Gate order of the fused matrices: z, r, n.
 * State `{ h }`, `[batch, units]`.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';

export interface GruOptions extends CellOptions {
  /** Apply the reset gate after the recurrent matMul (default `true`). */
  resetAfter?: boolean;
  /** The tanh of n_t (default `'tanh'`). */
  activation?: string;
  /** The σ of the gates (default `'sigmoid'`). */
  recurrentActivation?: string;
}

const Z_R = String.raw`z_t &= \sigma(W_{zx} x_t + W_{zh} h_{t-1} + b_z) \\
r_t &= \sigma(W_{rx} x_t + W_{rh} h_{t-1} + b_r) \\`;
const H = String.raw`h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}`;

export const GRU_EQUATIONS = {
  resetAfter: String.raw`\begin{aligned}
${Z_R}
n_t &= \tanh(W_{nx} x_t + b_n + r_t \odot (W_{nh} h_{t-1} + b_{nh})) \\
${H}
\end{aligned}`,
  resetBefore: String.raw`\begin{aligned}
${Z_R}
n_t &= \tanh(W_{nx} x_t + W_{nh} (r_t \odot h_{t-1}) + b_n) \\
${H}
\end{aligned}`,
};

/** A GRU cell; see the module documentation for its equations. */
export function gru(options: GruOptions): Cell {
  checkCellOptions('gru', options, ['resetAfter', 'activation', 'recurrentActivation']);
  const resetAfter = options.resetAfter ?? true;
  if (typeof resetAfter !== 'boolean') {
    throw new TypeError(`cells.gru: expected resetAfter to be true or false, got ${JSON.stringify(resetAfter)}`);
  }
  const activation = options.activation ?? 'tanh';
  const recurrentActivation = options.recurrentActivation ?? 'sigmoid';
  const tanh = getActivation(activation);
  const σ = getActivation(recurrentActivation);
  const config = {
    kind: 'gru' as const,
    inputSize: options.inputSize,
    units: options.units,
    activation,
    recurrentActivation,
    resetAfter,
  };
  // h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1} = n_t + z_t ⊙ (h_{t-1} - n_t)
  const blend = (z_t: tf.Tensor, n_t: tf.Tensor, h: tf.Tensor2D) =>
    tf.add(n_t, tf.mul(z_t, tf.sub(h, n_t))) as tf.Tensor2D;

  if (resetAfter) {
    return makeCell(
      {
        kind: 'gru',
        stateNames: ['h'],
        equations: GRU_EQUATIONS.resetAfter,
        config,
        recur: (xp, hp, { h }, p) => {
          const [xz, xr, xn] = tf.split(xp, 3, 1);
          const [hz, hr, hn] = tf.split(hp, 3, 1);
          const z_t = σ(tf.add(xz, hz));
          const r_t = σ(tf.add(xr, hr));
          const n_t = tanh(tf.add(xn, tf.mul(r_t, tf.add(hn, p.b_nh))));
          return { h: blend(z_t, n_t, h) };
        },
      },
      options,
    );
  }
  return makeCell(
    {
      kind: 'gru',
      fusedRecurrent: ['z', 'r'], // W_nh acts on r_t ⊙ h_{t-1}, known only after r_t
      stateNames: ['h'],
      equations: GRU_EQUATIONS.resetBefore,
      config,
      recur: (xp, hp, { h }, p) => {
        const [xz, xr, xn] = tf.split(xp, 3, 1);
        const [hz, hr] = tf.split(hp, 2, 1);
        const z_t = σ(tf.add(xz, hz));
        const r_t = σ(tf.add(xr, hr));
        const n_t = tanh(tf.add(xn, tf.matMul(tf.mul(r_t, h), p.W_nh as tf.Tensor2D, false, true)));
        return { h: blend(z_t, n_t, h) };
      },
    },
    options,
  );
}
