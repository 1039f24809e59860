/**
 * The Elman cell, forward and backward by hand.
 *
 * Forward: $a_t = W_{hx} x_t + W_{hh} h_{t-1} + b_h$, $h_t = f(a_t)$.
 *
 * Backward, with $\delta_t = \partial L / \partial a_t$:
 * $$\delta_t = \frac{\partial L}{\partial h_t} \odot f'(a_t), \qquad
 *   \frac{\partial L}{\partial h_{t-1}} \mathrel{+}= W_{hh}^\top \delta_t,$$
 * $$\frac{\partial L}{\partial W_{hx}} = \sum_t \delta_t x_t^\top, \quad
 *   \frac{\partial L}{\partial W_{hh}} = \sum_t \delta_t h_{t-1}^\top, \quad
 *   \frac{\partial L}{\partial b_h} = \sum_t \delta_t.$$
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../../activations.js';
import type { CellConfig } from '../../cells/cell.js';
import { requireOutputDerivative as derivative } from '../../cells/derivatives.js';
import { addInput, addRecurrent, back, lin, type ManualStep } from './common.js';

interface Cache {
  x: tf.Tensor2D;
  hPrev: tf.Tensor2D;
  h: tf.Tensor2D;
}

export function manualElman(where: string, config: CellConfig, p: Record<string, tf.Tensor>): ManualStep<Cache> {
  const f = getActivation(config.activation);
  const df = derivative(where, config.activation);
  return {
    forward(x, { h: hPrev }) {
      const h = f(tf.add(tf.add(lin(x, p.W_hx), lin(hPrev, p.W_hh)), p.b_h)) as tf.Tensor2D;
      return { state: { h }, cache: { x, hPrev, h } };
    },
    backward(dh, _dc, { x, hPrev, h }, grads) {
      const delta = tf.mul(dh, df(h));
      addInput(grads, 'h', delta, x);
      addRecurrent(grads, 'h', delta, hPrev);
      return { dh: back(delta, p.W_hh) };
    },
  };
}
