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
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkCellOptions, makeCell, type Cell, type CellOptions } from './cell.js';

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
  return makeCell(
    {
      kind: 'lstm',
      stateNames: ['h', 'c'],
      equations: LSTM_EQUATIONS,
      init: { b_f: 'ones' },
      config: { kind: 'lstm', inputSize: options.inputSize, units: options.units, activation, recurrentActivation },
      recur: (xp, hp, { c }) => {
        const [xi, xf, xg, xo] = tf.split(xp, 4, 1);
        const [hi, hf, hg, ho] = tf.split(hp, 4, 1);
        const i_t = σ(tf.add(xi, hi));
        const f_t = σ(tf.add(xf, hf));
        const g_t = tanh(tf.add(xg, hg));
        const o_t = σ(tf.add(xo, ho));
        const c_t = tf.add(tf.mul(f_t, c as tf.Tensor2D), tf.mul(i_t, g_t)) as tf.Tensor2D;
        const h_t = tf.mul(o_t, tanh(c_t)) as tf.Tensor2D;
        return { h: h_t, c: c_t };
      },
    },
    options,
  );
}
