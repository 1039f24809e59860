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
 *
 * Backward with `resetAfter` (the fast path's hand-derived gradient; $\bar v = \partial L / \partial v$,
 * $a_{\cdot}$ the gates' arguments, $\hat n_t = W_{nh} h_{t-1} + b_{nh}$): for every step, from the
 * $\bar h_t$ that reaches it,
 *
 * $$
 * \begin{aligned}
 * \bar a_n &= \bar h_t \odot (1 - z_t) \odot \tanh'(n_t) \qquad
 * \bar a_z = \bar h_t \odot (h_{t-1} - n_t) \odot \sigma'(z_t) \\
 * \bar a_r &= \bar a_n \odot \hat n_t \odot \sigma'(r_t) \qquad
 * \bar{\hat n}_t = \bar a_n \odot r_t \\
 * \bar h_{t-1} &= \bar h_t \odot z_t + [\bar a_z, \bar a_r, \bar{\hat n}_t] \, W_h
 * \end{aligned}
 * $$
 *
 * Every factor of $\bar h_t$ above depends on the forward only, so it is computed for all steps
 * at once; the input side $[\bar a_z, \bar a_r, \bar a_n]$ is formed after the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';
import { outputDerivative } from './derivatives.js';
import { matMul } from '../fast/matmul.js';
import { split } from '../fast/split.js';

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
  const dtanh = outputDerivative(activation);
  const dσ = outputDerivative(recurrentActivation);
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
    /** The equations, given `xp = W_x x_t + b` and `hp = W_h h_{t-1} + b_h` (`b_h = [0, 0, b_nh]`). */
    const equations = (xp: tf.Tensor2D, hp: tf.Tensor2D, h: tf.Tensor2D) => {
      const [xz, xr, xn] = split(xp, 3, 1);
      const [hz, hr, hn] = split(hp, 3, 1); // hn = W_nh h_{t-1} + b_nh
      const z_t = σ(tf.add(xz, hz));
      const r_t = σ(tf.add(xr, hr));
      const n_t = tanh(tf.add(xn, tf.mul(r_t, hn)));
      return { z_t, r_t, n_t, hn, h_t: blend(z_t, n_t, h) };
    };
    /** `[g, g, g] ⊙ q`: `g: [rows, units]` against the three gate blocks of `q: [rows, 3 * units]`. */
    const perGate = (g: tf.Tensor2D, q: tf.Tensor) => tf.mul(tf.concat([g, g, g], 1), q) as tf.Tensor2D;
    return makeCell(
      {
        kind: 'gru',
        stateNames: ['h'],
        recurrentBias: { n: 'b_nh' },
        equations: GRU_EQUATIONS.resetAfter,
        config,
        recur: (xp, hp, { h }) => ({ h: equations(xp, hp, h).h_t }),
        backward: dtanh &&
          dσ && {
            forward: (xp, hp, { h }) => {
              const { z_t, r_t, n_t, hn, h_t } = equations(xp, hp, h);
              return { state: { h: h_t }, saved: { z_t, r_t, n_t, hn } };
            },
            factors: ({ h }, { z_t, r_t, n_t, hn }) => {
              const dn = tf.mul(tf.sub(1, z_t), dtanh(n_t)); // ∂h_t/∂a_n
              const dz = tf.mul(tf.sub(h, n_t), dσ(z_t)); // ∂h_t/∂a_z
              const dr = tf.mul(tf.mul(dn, hn), dσ(r_t)); // ∂h_t/∂a_r
              return {
                d_hp: tf.concat([dz, dr, tf.mul(dn, r_t)], 1), // ∂h_t/∂hp, per gate block
                d_xp: tf.concat([dz, dr, dn], 1), // ∂h_t/∂xp, per gate block
                z_t,
              };
            },
            step: ({ h }, { d_hp, z_t }) => ({ hp: perGate(h, d_hp), prev: { h: tf.mul(h, z_t) as tf.Tensor2D } }),
            xp: ({ h }, _hp, { d_xp }) => perGate(h, d_xp),
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
        const [xz, xr, xn] = split(xp, 3, 1);
        const [hz, hr] = split(hp, 2, 1);
        const z_t = σ(tf.add(xz, hz));
        const r_t = σ(tf.add(xr, hr));
        const n_t = tanh(tf.add(xn, matMul(tf.mul(r_t, h), p.W_nh, false, true)));
        return { h: blend(z_t, n_t, h) };
      },
    },
    options,
  );
}
