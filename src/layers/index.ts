/**
 * The tf.layers face: `layers.elman`, `layers.lstm`, `layers.gru` and `layers.output` work in
 * `tf.sequential` and `tf.model`, `model.fit`, `model.save`, `tf.loadLayersModel` and
 * `tf.layers.bidirectional`. Importing this module registers their classes (`RecurrentElman`,
 * `RecurrentLSTM`, `RecurrentGRU`, `RecurrentOutput`) with tfjs's serialization, once.
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
