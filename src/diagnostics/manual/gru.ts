/**
 * The GRU cell, forward and backward by hand, in both forms.
 *
 * Forward: $z, r = \sigma(W_{kx} x_t + W_{kh} h_{t-1} + b_k)$,
 * $n_t = \tanh(W_{nx} x_t + b_n + r_t \odot (W_{nh} h_{t-1} + b_{nh}))$ (resetAfter) or
 * $n_t = \tanh(W_{nx} x_t + W_{nh}(r_t \odot h_{t-1}) + b_n)$, and
 * $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$.
 *
 * Backward, given $\partial L/\partial h_t$:
 * $$\frac{\partial L}{\partial n_t} = \frac{\partial L}{\partial h_t} \odot (1 - z_t),\quad
 *   \delta^z = \frac{\partial L}{\partial h_t} \odot (h_{t-1} - n_t) \odot \sigma'_z,\quad
 *   \delta^n = \frac{\partial L}{\partial n_t} \odot \tanh'_n$$
 * resetAfter, with $u_t = W_{nh} h_{t-1} + b_{nh}$: $\partial L/\partial u_t = \delta^n \odot r_t$,
 * $\delta^r = \delta^n \odot u_t \odot \sigma'_r$.
 * Not resetAfter, with $v_t = r_t \odot h_{t-1}$: $\partial L/\partial v_t = W_{nh}^\top \delta^n$,
 * $\delta^r = \partial L/\partial v_t \odot h_{t-1} \odot \sigma'_r$.
 * $$\frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial h_t} \odot z_t
 *   + W_{zh}^\top \delta^z + W_{rh}^\top \delta^r
 *   + \begin{cases} W_{nh}^\top \partial L/\partial u_t & \text{resetAfter} \\
 *                   \partial L/\partial v_t \odot r_t & \text{otherwise} \end{cases}$$
 * and each weight's gradient is its δ times its input, summed over t.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../../activations.js';
import type { CellConfig } from '../../cells/cell.js';
import { requireOutputDerivative as derivative } from '../../cells/derivatives.js';
import { accumulate, addInput, addRecurrent, back, lin, type ManualStep } from './common.js';

interface Cache {
  x: tf.Tensor2D;
  hPrev: tf.Tensor2D;
  z: tf.Tensor2D;
  r: tf.Tensor2D;
  n: tf.Tensor2D;
  /** `W_nh h_{t-1} + b_nh` (resetAfter) or `r_t ⊙ h_{t-1}` (not). */
  u: tf.Tensor2D;
}

export function manualGru(where: string, config: CellConfig, p: Record<string, tf.Tensor>): ManualStep<Cache> {
  const sigma = getActivation(config.recurrentActivation ?? 'sigmoid');
  const dSigma = derivative(where, config.recurrentActivation ?? 'sigmoid');
  const tanh = getActivation(config.activation);
  const dTanh = derivative(where, config.activation);
  const resetAfter = config.resetAfter !== false;
  return {
    forward(x, { h: hPrev }) {
      const pre = (k: string) => tf.add(tf.add(lin(x, p[`W_${k}x`]), lin(hPrev, p[`W_${k}h`])), p[`b_${k}`]);
      const z = sigma(pre('z')) as tf.Tensor2D;
      const r = sigma(pre('r')) as tf.Tensor2D;
      const xn = tf.add(lin(x, p.W_nx), p.b_n);
      let u: tf.Tensor2D;
      let n: tf.Tensor2D;
      if (resetAfter) {
        u = tf.add(lin(hPrev, p.W_nh), p.b_nh) as tf.Tensor2D;
        n = tanh(tf.add(xn, tf.mul(r, u))) as tf.Tensor2D;
      } else {
        u = tf.mul(r, hPrev) as tf.Tensor2D;
        n = tanh(tf.add(xn, lin(u, p.W_nh))) as tf.Tensor2D;
      }
      const h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, hPrev)) as tf.Tensor2D;
      return { state: { h }, cache: { x, hPrev, z, r, n, u } };
    },
    backward(dh, _dc, { x, hPrev, z, r, n, u }, grads) {
      const dn = tf.mul(dh, tf.sub(1, z));
      const dz = tf.mul(tf.mul(dh, tf.sub(hPrev, n)), dSigma(z));
      const deltaN = tf.mul(dn, dTanh(n));
      let dr: tf.Tensor;
      let viaN: tf.Tensor;
      if (resetAfter) {
        const du = tf.mul(deltaN, r);
        dr = tf.mul(tf.mul(deltaN, u), dSigma(r));
        addRecurrent(grads, 'n', du, hPrev);
        accumulate(grads, 'b_nh', tf.sum(du, 0));
        viaN = back(du, p.W_nh);
      } else {
        const dv = back(deltaN, p.W_nh);
        dr = tf.mul(tf.mul(dv, hPrev), dSigma(r));
        addRecurrent(grads, 'n', deltaN, u);
        viaN = tf.mul(dv, r);
      }
      addInput(grads, 'z', dz, x);
      addInput(grads, 'r', dr, x);
      addInput(grads, 'n', deltaN, x);
      addRecurrent(grads, 'z', dz, hPrev);
      addRecurrent(grads, 'r', dr, hPrev);
      const dhPrev = tf.addN([tf.mul(dh, z), back(dz, p.W_zh), back(dr, p.W_rh), viaN]) as tf.Tensor2D;
      return { dh: dhPrev };
    },
  };
}
