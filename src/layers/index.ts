/**
 * The tf.layers face: `layers.elman`, `layers.lstm`, `layers.gru` and `layers.output` work in
 * `tf.sequential` and `tf.model`, `model.fit`, `model.save`, `tf.loadLayersModel` and
 * `tf.layers.bidirectional`; `layers.elmanCell`, `lstmCell`, `gruCell` are the same cells as
 * `tf.layers.RNNCell`s for `tf.layers.rnn` and `tf.layers.stackedRNNCells`. Importing this module
 * registers their classes (`RecurrentElman`, `RecurrentLSTM`, `RecurrentGRU`, `RecurrentOutput`,
 * `RecurrentElmanCell`, `RecurrentLSTMCell`, `RecurrentGRUCell`) with tfjs's serialization, once.
 *
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     rt.layers.lstm({ units: 16, returnSequences: true, inputShape: [null, 3] }),
 *     rt.layers.output({ units: 2, activation: 'softmax' }),
 *   ],
 * });
 * // tfjs types the wrapped layer as tf.RNN; ours is a tf.layers.Layer that Bidirectional accepts.
 * const bi = tf.layers.bidirectional({ layer: rt.layers.gru({ units: 8, returnSequences: true }) as unknown as tf.RNN });
 * ```
 */
import {
  RecurrentElmanCell,
  RecurrentGRUCell,
  RecurrentLSTMCell,
  type ElmanCellArgs,
  type GruCellArgs,
  type LstmCellArgs,
} from './cells.js';
import { RecurrentOutput, type OutputLayerArgs } from './output.js';
import {
  RecurrentElman,
  RecurrentGRU,
  RecurrentLSTM,
  type ElmanLayerArgs,
  type GruLayerArgs,
  type LstmLayerArgs,
} from './recurrent.js';

export { RecurrentLayer, RecurrentElman, RecurrentLSTM, RecurrentGRU } from './recurrent.js';
export type { RecurrentLayerArgs, ElmanLayerArgs, LstmLayerArgs, GruLayerArgs } from './recurrent.js';
export { RecurrentOutput, type OutputLayerArgs } from './output.js';
export { RecurrentCell, RecurrentElmanCell, RecurrentLSTMCell, RecurrentGRUCell } from './cells.js';
export type { ElmanCellArgs, LstmCellArgs, GruCellArgs } from './cells.js';

/** An Elman RNN layer, `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)` (f: `activation`, default tanh). */
export function elman(args: ElmanLayerArgs): RecurrentElman {
  return new RecurrentElman(args);
}

/** An LSTM layer (σ: `recurrentActivation`, default sigmoid). */
export function lstm(args: LstmLayerArgs): RecurrentLSTM {
  return new RecurrentLSTM(args);
}

/** A GRU layer (`resetAfter` default true, σ default sigmoid). */
export function gru(args: GruLayerArgs): RecurrentGRU {
  return new RecurrentGRU(args);
}

/** The output function `y_t = g(W_yh h_t + b_y)` at every step (or once for `[batch, units]`). */
export function output(args: OutputLayerArgs): RecurrentOutput {
  return new RecurrentOutput(args);
}

/**
 * The Elman cell as a `tf.layers.RNNCell` for `tf.layers.rnn({ cell })` and `tf.layers.stackedRNNCells`:
 * `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)`.
 */
export function elmanCell(args: ElmanCellArgs): RecurrentElmanCell {
  return new RecurrentElmanCell(args);
}

/** The LSTM cell as a `tf.layers.RNNCell` (`rt.cells.lstm`'s equations; σ default sigmoid). */
export function lstmCell(args: LstmCellArgs): RecurrentLSTMCell {
  return new RecurrentLSTMCell(args);
}

/** The GRU cell as a `tf.layers.RNNCell` (`rt.cells.gru`'s equations; `resetAfter` default true). */
export function gruCell(args: GruCellArgs): RecurrentGRUCell {
  return new RecurrentGRUCell(args);
}
export {
  mingru,
  minlstm,
  lru,
  indrnn,
  RecurrentMinGRU,
  RecurrentMinLSTM,
  RecurrentLRU,
  RecurrentIndRNN,
} from './modern.js';
export type { MinLayerArgs, LruLayerArgs, IndRnnLayerArgs } from './modern.js';
