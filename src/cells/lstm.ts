/**
 * The long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of
 * Gers et al. 2000), as PyTorch and Keras 3 compute it.
 *
 * $$
 * \begin{aligned}
 * i_t &= \sigma(W_{ix} x_t + W_{ih} h_{t-1} + b_i) \\
 * f_t &= \sigma(W_{fx} x_t + W_{fh} h_{t-1} + b_f) \\
 * g_t &= \tanh(W_{gx} x_t + W_{gh} h_{t-1} + b_g) \\
 * o_t &= \sigma(W_{ox} x_t + W_{oh} h_{t-1} + b_o) \\
 * c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
 * h_t &= o_t \odot \tanh(c_t)
 * \end{aligned}
 * $$
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_ix, W_fx, W_gx, W_ox` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_ih, W_fh, W_gh, W_oh` | `[units, units]` | recurrent weights (orthogonal) |
 * | `b_i, b_f, b_g, b_o` | `[units]` | biases (zeros; `b_f` ones, so the cell remembers at first) |
 *
 * Gate order of the fused matrices: i, f, g, o (PyTorch's). State `{ h, c }`, each
 * `[batch, units]`. σ is `recurrentActivation` (default `sigmoid`; tfjs's own layers default to
 * `hardSigmoid`), tanh is `activation` (default `tanh`).
 *
 * Backward (the fast path's hand-derived gradient; $\bar v = \partial L / \partial v$, $a_{\cdot}$
 * the gates' arguments, σ' and tanh' written through the gates' values): for every step, from
 * the $\bar h_t$ and $\bar c_t$ that reach it,
 *
 * $$
 * \begin{aligned}
 * \bar c_t &\mathrel{{+}{=}} \bar h_t \odot o_t \odot \tanh'(c_t) \\
 * \bar a_i &= \bar c_t \odot g_t \odot \sigma'(i_t) \qquad
 * \bar a_f = \bar c_t \odot c_{t-1} \odot \sigma'(f_t) \\
 * \bar a_g &= \bar c_t \odot i_t \odot \tanh'(g_t) \qquad
 * \bar a_o = \bar h_t \odot \tanh(c_t) \odot \sigma'(o_t) \\
 * \bar c_{t-1} &= \bar c_t \odot f_t \qquad
 * \bar h_{t-1} \mathrel{{+}{=}} [\bar a_i, \bar a_f, \bar a_g, \bar a_o] \, W_h
 * \end{aligned}
 * $$
 *
 * Every factor of $\bar c_t$ and $\bar h_t$ above depends on the forward only, so it is computed
 * for all steps at once; a step back is then five elementwise kernels and one matMul.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';
import { outputDerivative } from './derivatives.js';
import { split } from '../fast/split.js';

export interface LstmOptions extends CellOptions {
  /** The tanh of g_t and h_t (default `'tanh'`). */
  activation?: string;
  /** The σ of the gates (default `'sigmoid'`). */
  recurrentActivation?: string;
}

export const LSTM_EQUATIONS = String.raw`\begin{aligned}
i_t &= \sigma(W_{ix} x_t + W_{ih} h_{t-1} + b_i) \\
f_t &= \sigma(W_{fx} x_t + W_{fh} h_{t-1} + b_f) \\
g_t &= \tanh(W_{gx} x_t + W_{gh} h_{t-1} + b_g) \\
o_t &= \sigma(W_{ox} x_t + W_{oh} h_{t-1} + b_o) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
h_t &= o_t \odot \tanh(c_t)
\end{aligned}`;

/** An LSTM cell; see the module documentation for its equations. */
export function lstm(options: LstmOptions): Cell {
  checkCellOptions('lstm', options, ['activation', 'recurrentActivation']);
  const activation = options.activation ?? 'tanh';
  const recurrentActivation = options.recurrentActivation ?? 'sigmoid';
  const tanh = getActivation(activation);
  const σ = getActivation(recurrentActivation);
  const dtanh = outputDerivative(activation);
  const dσ = outputDerivative(recurrentActivation);

  /** The equations, given `xp = W_x x_t + b` and `hp = W_h h_{t-1}` for the four gates at once. */
  const equations = (xp: tf.Tensor2D, hp: tf.Tensor2D, c: tf.Tensor2D) => {
    const [ai, af, ag, ao] = split(tf.add(xp, hp), 4, 1);
    const i_t = σ(ai);
    const f_t = σ(af);
    const g_t = tanh(ag);
    const o_t = σ(ao);
    const c_t = tf.add(tf.mul(f_t, c), tf.mul(i_t, g_t)) as tf.Tensor2D;
    const tanh_c = tanh(c_t);
    const h_t = tf.mul(o_t, tanh_c) as tf.Tensor2D;
    return { i_t, f_t, g_t, o_t, c_t, tanh_c, h_t };
  };

  return makeCell(
    {
      kind: 'lstm',
      stateNames: ['h', 'c'],
      equations: LSTM_EQUATIONS,
      init: { b_f: 'ones' },
      config: { kind: 'lstm', inputSize: options.inputSize, units: options.units, activation, recurrentActivation },
      recur: (xp, hp, { c }) => {
        const { h_t, c_t } = equations(xp, hp, c as tf.Tensor2D);
        return { h: h_t, c: c_t };
      },
      backward: dtanh &&
        dσ && {
          forward: (xp, hp, { c }) => {
            const { i_t, f_t, g_t, o_t, c_t, tanh_c, h_t } = equations(xp, hp, c as tf.Tensor2D);
            return { state: { h: h_t, c: c_t }, saved: { i_t, f_t, g_t, o_t, tanh_c } };
          },
          factors: ({ c }, { i_t, f_t, g_t, o_t, tanh_c }) => {
            const dc_da = [tf.mul(g_t, dσ(i_t)), tf.mul(c!, dσ(f_t)), tf.mul(i_t, dtanh(g_t))];
            return {
              dh_dc: tf.mul(o_t, dtanh(tanh_c)),
              // ∂c_t/∂a_i, ∂c_t/∂a_f, ∂c_t/∂a_g, ∂h_t/∂a_o
              d_gates: tf.concat([...dc_da, tf.mul(tanh_c, dσ(o_t))], 1),
              f_t,
            };
          },
          step: ({ h, c }, { dh_dc, d_gates, f_t }) => {
            const c_bar = tf.add(c!, tf.mul(h, dh_dc));
            const a_bar = tf.mul(tf.concat([c_bar, c_bar, c_bar, h], 1), d_gates) as tf.Tensor2D;
            return { hp: a_bar, prev: { c: tf.mul(c_bar, f_t) as tf.Tensor2D } };
          },
        },
    },
    options,
  );
}
