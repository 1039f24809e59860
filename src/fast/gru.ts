/**
 * The GRU's fast path: its gates fused (order z, r, n; without `resetAfter` only z and r share the
 * per-step matMul, since `W_nh` multiplies $r_t \odot h_{t-1}$), and its backward by hand.
 *
 * With $\bar v = \partial L / \partial v$, $a_k$ the gates' arguments, σ' and tanh' written through
 * the gates' values (`./derivatives.ts`) and $u_t$ the recurrent half of $n_t$ as the cell names it
 * ($W_{nh} h_{t-1} + b_{nh}$ with `resetAfter`, $r_t \odot h_{t-1}$ without), from the $\bar h_t$
 * that reaches step t:
 *
 * $$
 * \begin{aligned}
 * \bar a_n &= \bar h_t \odot (1 - z_t) \odot \tanh'(n_t) \qquad
 * \bar a_z = \bar h_t \odot (h_{t-1} - n_t) \odot \sigma'(z_t) \\
 * \text{resetAfter:}\quad \bar u_t &= \bar a_n \odot r_t \qquad
 * \bar a_r = \bar a_n \odot u_t \odot \sigma'(r_t) \\
 * \bar h_{t-1} &= \bar h_t \odot z_t + \bar a_z W_{zh} + \bar a_r W_{rh} + \bar u_t W_{nh} \\
 * \text{otherwise:}\quad \bar u_t &= \bar a_n W_{nh} \qquad
 * \bar a_r = \bar u_t \odot h_{t-1} \odot \sigma'(r_t) \\
 * \bar h_{t-1} &= \bar h_t \odot z_t + \bar u_t \odot r_t + \bar a_z W_{zh} + \bar a_r W_{rh}
 * \end{aligned}
 * $$
 *
 * and $\bar W_{kx} = \sum_t \bar a_k^\top x_t$, $\bar b_k = \sum_t \bar a_k$; $\bar W_{zh}$, $\bar W_{rh}$
 * sum $\bar a_k^\top h_{t-1}$; $\bar W_{nh} = \sum_t \bar u_t^\top h_{t-1}$, $\bar b_{nh} = \sum_t \bar u_t$
 * with `resetAfter`, else $\bar W_{nh} = \sum_t \bar a_n^\top u_t$. The factors of $\bar h_t$ depend on
 * the forward only and are computed for all steps at once.
 */
import * as tf from '@tensorflow/tfjs';
import { matMul } from './matmul.js';
import { outputDerivative } from './derivatives.js';
import { split } from './split.js';
import type { FastPathFactory } from './registry.js';

/** `[g, …, g] ⊙ q`: `g: [rows, units]` against the `n` gate blocks of `q: [rows, n * units]`. */
const perGate = (g: tf.Tensor2D, q: tf.Tensor2D, n: number) =>
  tf.mul(tf.concat(new Array<tf.Tensor2D>(n).fill(g), 1), q) as tf.Tensor2D;

export const gruFastPath: FastPathFactory = ({ activation, recurrentActivation = 'sigmoid', resetAfter }) => {
  const dtanh = outputDerivative(activation);
  const dσ = outputDerivative(recurrentActivation);
  const gates = ['z', 'r', 'n'];
  if (resetAfter !== false) {
    return {
      layout: { gates, recurrentGates: gates, recurrentBias: { n: 'b_nh' } },
      backward: dtanh &&
        dσ && {
          keep: ['z_t', 'r_t', 'n_t', 'u_t'],
          factors: ({ h }, { z_t, r_t, n_t, u_t }) => {
            const dn = tf.mul(tf.sub(1, z_t), dtanh(n_t)); // ∂h_t/∂a_n
            const dz = tf.mul(tf.sub(h, n_t), dσ(z_t)); // ∂h_t/∂a_z
            const dr = tf.mul(tf.mul(dn, u_t), dσ(r_t)); // ∂h_t/∂a_r
            return {
              d_hp: tf.concat([dz, dr, tf.mul(dn, r_t)], 1) as tf.Tensor2D, // ∂h_t/∂[a_z, a_r, u_t]
              d_xp: tf.concat([dz, dr, dn], 1) as tf.Tensor2D, // ∂h_t/∂[a_z, a_r, a_n]
              z_t,
            };
          },
          step: ({ h }, { d_hp, z_t }) => ({ hp: perGate(h, d_hp, 3), prev: { h: tf.mul(h, z_t) as tf.Tensor2D } }),
          xp: (gh, _hp, { d_xp }) => perGate(gh, d_xp, 3),
        },
    };
  }
  return {
    layout: { gates, recurrentGates: ['z', 'r'], recurrentBias: {} as Record<string, string> },
    backward: dtanh &&
      dσ && {
        keep: ['z_t', 'r_t', 'n_t', 'u_t'],
        factors: ({ h }, { z_t, r_t, n_t }) => ({
          dn: tf.mul(tf.sub(1, z_t), dtanh(n_t)) as tf.Tensor2D, // ∂h_t/∂a_n
          dz: tf.mul(tf.sub(h, n_t), dσ(z_t)) as tf.Tensor2D, // ∂h_t/∂a_z
          dr: tf.mul(h, dσ(r_t)) as tf.Tensor2D, // ∂r_t ⊙ h_{t-1}/∂a_r
          z_t,
          r_t,
        }),
        step: ({ h }, { dn, dz, dr, z_t, r_t }, W) => {
          const u_bar = matMul(tf.mul(h, dn), W.n); // ā_n W_nh
          return {
            hp: tf.concat([tf.mul(h, dz), tf.mul(u_bar, dr)], 1) as tf.Tensor2D,
            prev: { h: tf.add(tf.mul(h, z_t), tf.mul(u_bar, r_t)) as tf.Tensor2D },
          };
        },
        xp: (gh, hp, { dn }) => tf.concat([hp, tf.mul(gh, dn)], 1) as tf.Tensor2D,
        separate: (dXP, { u_t }) => ({ n: matMul(split(dXP, 3, 1)[2], u_t, true) }), // Σ ā_n^T u_t
      },
  };
};
