/**
 * The LSTM's fast path: its four gates fused (order i, f, g, o), and its backward by hand.
 *
 * With $\bar v = \partial L / \partial v$ and $a_k$ the gates' arguments, σ' and tanh' written
 * through the gates' values (`./derivatives.ts`), from the $\bar h_t$ and $\bar c_t$ that reach
 * step t:
 *
 * $$
 * \begin{aligned}
 * \bar c_t &\mathrel{{+}{=}} \bar h_t \odot o_t \odot \tanh'(c_t) \\
 * \bar a_i &= \bar c_t \odot g_t \odot \sigma'(i_t) \qquad
 * \bar a_f = \bar c_t \odot c_{t-1} \odot \sigma'(f_t) \\
 * \bar a_g &= \bar c_t \odot i_t \odot \tanh'(g_t) \qquad
 * \bar a_o = \bar h_t \odot \tanh(c_t) \odot \sigma'(o_t) \\
 * \bar c_{t-1} &= \bar c_t \odot f_t \qquad
 * \bar h_{t-1} \mathrel{{+}{=}} \textstyle\sum_k \bar a_k W_{kh}
 * \end{aligned}
 * $$
 *
 * and $\bar W_{kx} = \sum_t \bar a_k^\top x_t$, $\bar W_{kh} = \sum_t \bar a_k^\top h_{t-1}$,
 * $\bar b_k = \sum_t \bar a_k$. Every factor of $\bar c_t$ and $\bar h_t$ above depends on the
 * forward only, so it is computed for all steps at once; a step back is then five elementwise
 * kernels and one matMul.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { outputDerivative } from './derivatives.js';
import type { FastPathFactory } from './registry.js';

export const lstmFastPath: FastPathFactory = ({ activation, recurrentActivation = 'sigmoid' }) => {
  const tanh = getActivation(activation);
  const dtanh = outputDerivative(activation);
  const dσ = outputDerivative(recurrentActivation);
  const gates = ['i', 'f', 'g', 'o'];
  return {
    layout: { gates, recurrentGates: gates, recurrentBias: {} },
    backward: dtanh &&
      dσ && {
        keep: ['i_t', 'f_t', 'g_t', 'o_t', 'c_t'],
        factors: ({ c }, { i_t, f_t, g_t, o_t, c_t }) => {
          const tanh_c = tanh(c_t);
          return {
            dh_dc: tf.mul(o_t, dtanh(tanh_c)) as tf.Tensor2D,
            // ∂c_t/∂a_i, ∂c_t/∂a_f, ∂c_t/∂a_g, ∂h_t/∂a_o
            d_gates: tf.concat(
              [tf.mul(g_t, dσ(i_t)), tf.mul(c!, dσ(f_t)), tf.mul(i_t, dtanh(g_t)), tf.mul(tanh_c, dσ(o_t))],
              1,
            ) as tf.Tensor2D,
            f_t,
          };
        },
        step: ({ h, c }, { dh_dc, d_gates, f_t }) => {
          const c_bar = tf.add(c!, tf.mul(h, dh_dc));
          const a_bar = tf.mul(tf.concat([c_bar, c_bar, c_bar, h], 1), d_gates) as tf.Tensor2D;
          return { hp: a_bar, prev: { c: tf.mul(c_bar, f_t) as tf.Tensor2D } };
        },
      },
  };
};
