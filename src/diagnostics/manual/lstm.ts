/**
 * The LSTM cell, forward and backward by hand.
 *
 * Forward: $i, f, o = \sigma(\cdot)$, $g = \tanh(\cdot)$ of $W_{kx} x_t + W_{kh} h_{t-1} + b_k$;
 * $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$.
 *
 * Backward, given $\partial L/\partial h_t$ and the part of $\partial L/\partial c_t$ that comes
 * from step t+1 ($f_{t+1} \odot \partial L/\partial c_{t+1}$):
 * $$\frac{\partial L}{\partial c_t} = \frac{\partial L}{\partial h_t} \odot o_t \odot \tanh'(c_t)
 *   + f_{t+1} \odot \frac{\partial L}{\partial c_{t+1}}$$
 * $$\delta^o = \frac{\partial L}{\partial h_t} \odot \tanh(c_t) \odot \sigma'_o,\;
 *   \delta^i = \frac{\partial L}{\partial c_t} \odot g_t \odot \sigma'_i,\;
 *   \delta^f = \frac{\partial L}{\partial c_t} \odot c_{t-1} \odot \sigma'_f,\;
 *   \delta^g = \frac{\partial L}{\partial c_t} \odot i_t \odot \tanh'_g$$
 * $$\frac{\partial L}{\partial h_{t-1}} = \sum_k W_{kh}^\top \delta^k, \quad
 *   \frac{\partial L}{\partial W_{kx}} = \sum_t \delta^k_t x_t^\top, \quad
 *   \frac{\partial L}{\partial W_{kh}} = \sum_t \delta^k_t h_{t-1}^\top, \quad
 *   \frac{\partial L}{\partial b_k} = \sum_t \delta^k_t.$$
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../../activations.js';
import type { CellConfig } from '../../cells/cell.js';
import { requireOutputDerivative as derivative } from '../../cells/derivatives.js';
import { addInput, addRecurrent, back, lin, type ManualStep } from './common.js';

interface Cache {
  x: tf.Tensor2D;
  hPrev: tf.Tensor2D;
  cPrev: tf.Tensor2D;
  i: tf.Tensor2D;
  f: tf.Tensor2D;
  g: tf.Tensor2D;
  o: tf.Tensor2D;
  /** tanh(c_t) */
  tc: tf.Tensor2D;
}

const GATES = ['i', 'f', 'g', 'o'] as const;

export function manualLstm(where: string, config: CellConfig, p: Record<string, tf.Tensor>): ManualStep<Cache> {
  const sigma = getActivation(config.recurrentActivation ?? 'sigmoid');
  const dSigma = derivative(where, config.recurrentActivation ?? 'sigmoid');
  const tanh = getActivation(config.activation);
  const dTanh = derivative(where, config.activation);
  return {
    forward(x, { h: hPrev, c }) {
      const cPrev = c as tf.Tensor2D;
      const pre = (k: string) => tf.add(tf.add(lin(x, p[`W_${k}x`]), lin(hPrev, p[`W_${k}h`])), p[`b_${k}`]);
      const i = sigma(pre('i')) as tf.Tensor2D;
      const f = sigma(pre('f')) as tf.Tensor2D;
      const g = tanh(pre('g')) as tf.Tensor2D;
      const o = sigma(pre('o')) as tf.Tensor2D;
      const cNew = tf.add(tf.mul(f, cPrev), tf.mul(i, g)) as tf.Tensor2D;
      const tc = tanh(cNew) as tf.Tensor2D;
      const h = tf.mul(o, tc) as tf.Tensor2D;
      return { state: { h, c: cNew }, cache: { x, hPrev, cPrev, i, f, g, o, tc } };
    },
    backward(dh, dcNext, { x, hPrev, cPrev, i, f, g, o, tc }, grads) {
      const dc = tf.add(tf.mul(tf.mul(dh, o), dTanh(tc)), dcNext as tf.Tensor2D);
      const delta = {
        i: tf.mul(tf.mul(dc, g), dSigma(i)),
        f: tf.mul(tf.mul(dc, cPrev), dSigma(f)),
        g: tf.mul(tf.mul(dc, i), dTanh(g)),
        o: tf.mul(tf.mul(dh, tc), dSigma(o)),
      };
      for (const k of GATES) {
        addInput(grads, k, delta[k], x);
        addRecurrent(grads, k, delta[k], hPrev);
      }
      const dhPrev = tf.addN(GATES.map((k) => back(delta[k], p[`W_${k}h`]))) as tf.Tensor2D;
      return { dh: dhPrev, dc: tf.mul(dc, f) as tf.Tensor2D };
    },
  };
}
