/**
 * The long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of
 * Gers et al. 2000), as PyTorch and Keras 3 compute it: {@link LSTM_EQUATIONS}.
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_ix, W_fx, W_gx, W_ox` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `W_ih, W_fh, W_gh, W_oh` | `[units, units]` | recurrent weights (orthogonal) |
 * | `b_i, b_f, b_g, b_o` | `[units]` | biases (zeros; `b_f` ones, so the cell remembers at first; none with `useBias: false`) |
 *
 * Gate order of stacked layouts: i, f, g, o (PyTorch's). State `{ h, c }`, each
 * `[batch, units]`. σ is `recurrentActivation` (default `sigmoid`; tfjs's own layers default to
 * `hardSigmoid`), tanh is `activation` (default `tanh`).
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import {
  biasConfig,
  checkCellOptions,
  makeCell,
  type Cell,
  type CellDefinition,
  type CellOptions,
  type LstmState,
} from './cell.js';

export interface LstmOptions extends CellOptions {
  /** The tanh of g_t and h_t (default `'tanh'`). */
  activation?: string;
  /** The σ of the gates (default `'sigmoid'`). */
  recurrentActivation?: string;
  /** `false`: no biases (`b_k`, and the GRU's `b_nh`), as tfjs's and Keras's `useBias: false` (default `true`). */
  useBias?: boolean;
}

/** The LSTM's equations in LaTeX (`cell.equations`). */
export const LSTM_EQUATIONS = String.raw`\begin{aligned}
i_t &= \sigma(W_{ix} x_t + W_{ih} h_{t-1} + b_i) \\
f_t &= \sigma(W_{fx} x_t + W_{fh} h_{t-1} + b_f) \\
g_t &= \tanh(W_{gx} x_t + W_{gh} h_{t-1} + b_g) \\
o_t &= \sigma(W_{ox} x_t + W_{oh} h_{t-1} + b_o) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
h_t &= o_t \odot \tanh(c_t)
\end{aligned}`;

/** The LSTM's equations as code; `a(k)` is `W_kx x_t + W_kh h_{t-1} + b_k`. */
export const LSTM: CellDefinition = {
  kind: 'lstm',
  gates: ['i', 'f', 'g', 'o'],
  stateNames: ['h', 'c'],
  init: { b_f: 'ones' },
  latex: () => LSTM_EQUATIONS,
  equations: ({ activation, recurrentActivation = 'sigmoid' }) => {
    const tanh = getActivation(activation);
    const σ = getActivation(recurrentActivation);
    return ({ a }, { c }) => {
      const i_t = σ(a('i')) as tf.Tensor2D;
      const f_t = σ(a('f')) as tf.Tensor2D;
      const g_t = tanh(a('g')) as tf.Tensor2D;
      const o_t = σ(a('o')) as tf.Tensor2D;
      const c_t = tf.add(tf.mul(f_t, c!), tf.mul(i_t, g_t)) as tf.Tensor2D;
      const h_t = tf.mul(o_t, tanh(c_t)) as tf.Tensor2D;
      return { i_t, f_t, g_t, o_t, c_t, h_t };
    };
  },
};

/** An LSTM cell; see the module documentation for its equations. */
export function lstm(options: LstmOptions): Cell<LstmState> {
  checkCellOptions(LSTM, options, ['activation', 'recurrentActivation', 'useBias']);
  const { inputSize, units, activation = 'tanh', recurrentActivation = 'sigmoid' } = options;
  const bias = biasConfig('cells.lstm', options.useBias);
  const config = { kind: 'lstm' as const, inputSize, units, activation, recurrentActivation, ...bias };
  return makeCell(LSTM, config, options) as Cell<LstmState>;
}
