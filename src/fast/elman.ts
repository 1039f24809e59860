/**
 * The Elman cell's fast path: its one gate fused, and its backward by hand.
 *
 * With $\bar v = \partial L / \partial v$ and $a_t = W_{hx} x_t + W_{hh} h_{t-1} + b_h$, from the
 * $\bar h_t$ that reaches step t:
 *
 * $$\bar a_t = \bar h_t \odot f'(a_t), \qquad \bar h_{t-1} \mathrel{{+}{=}} \bar a_t W_{hh}$$
 *
 * and $\bar W_{hx} = \sum_t \bar a_t^\top x_t$, $\bar W_{hh} = \sum_t \bar a_t^\top h_{t-1}$,
 * $\bar b_h = \sum_t \bar a_t$. $f'(a_t)$ is written through $h_t = f(a_t)$ (`./derivatives.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { outputDerivative } from './derivatives.js';
import type { FastPathFactory } from './registry.js';

export const elmanFastPath: FastPathFactory = ({ activation }) => {
  const df = outputDerivative(activation);
  return {
    layout: { gates: ['h'], recurrentGates: ['h'], recurrentBias: {} },
    backward: df && {
      keep: ['h_t'],
      factors: (_prev, { h_t }) => ({ df: df(h_t) as tf.Tensor2D }), // f'(a_t)
      step: ({ h }, { df }) => ({ hp: tf.mul(h, df) as tf.Tensor2D, prev: {} }), // ā_t = h̄_t ⊙ f'(a_t)
    },
  };
};
