/**
 * A `RecurrentNetwork` as a `tf.LayersModel` (`net.toLayersModel()` calls {@link toLayersModel}):
 * the path to `model.fit`, to Keras and to TensorFlow's tooling. This module sits below
 * `network.ts` and reads only what {@link NetworkParts} names of a network.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import * as layers from '../layers/index.js';
import { toKeras, toTfjsActivation } from './keras.js';

/** What {@link toLayersModel} reads of a network: its cell and its output function (a `RecurrentNetwork` is one). */
export interface NetworkParts {
  readonly cell: Cell;
  readonly outputSize: number;
  /** g, by name. */
  readonly outputActivation: string;
  readonly outputParams: { readonly W_yh: tf.Variable; readonly b_y: tf.Variable };
}

/**
 * `tf.sequential([recurrent layer (returnSequences: true), dense])` holding copies of the
 * network's weights, so that `model.predict(x)` equals `net.predict(x)` (`[batch, time,
 * outputSize]`, to float32 rounding).
 *
 * The layers are tfjs's own wherever tfjs computes the same function: `tf.layers.simpleRNN`,
 * `lstm`, `gru` (with the cell's `activation` and `recurrentActivation`, `resetAfter: false`)
 * and `tf.layers.dense` applied to every step (weights in Keras layout, see {@link toKeras}).
 * Such a model loads in tfjs without this package and converts to Keras. tfjs has no equal for
 * a GRU with `resetAfter: true` (the default of our GRU, of PyTorch and of Keras 3) nor for an
 * activation registered with `registerActivation`: there the model uses this package's
 * `layers.gru` / `layers.elman` / `layers.lstm` / `layers.output` instead, which compute the same
 * numbers and save and load wherever this package is imported, but not in tfjs alone or Keras.
 *
 * The tfjs layers are created with `recurrentInitializer: 'glorotUniform'` (tfjs's orthogonal
 * initialiser is very slow and its values are overwritten at once); this only matters if the
 * model is rebuilt from its config without weights.
 */
export function toLayersModel(net: NetworkParts): tf.Sequential {
  const cell = net.cell;
  const rnn = tfjsRecurrent(cell) ?? ourRecurrent(cell);
  const outputActivation = toTfjsActivation(net.outputActivation);
  const head = outputActivation
    ? tf.layers.dense({ units: net.outputSize, activation: outputActivation as 'linear' })
    : layers.output({ units: net.outputSize, activation: net.outputActivation });
  const model = tf.sequential({ layers: [rnn, head] });
  tf.tidy(() => {
    if (rnn instanceof layers.RecurrentLayer) copyParams(cell.params, (rnn.cell as Cell).params);
    else rnn.setWeights(toKeras(cell));
    const { W_yh, b_y } = net.outputParams;
    head.setWeights(outputActivation ? [tf.transpose(W_yh), b_y] : [W_yh, b_y]);
  });
  return model;
}

/** tfjs's own layer computing the cell, or `null` when tfjs has none. */
function tfjsRecurrent(cell: Cell): tf.layers.Layer | null {
  const { kind, inputSize, units, activation, recurrentActivation, resetAfter } = cell.config;
  const f = toTfjsActivation(activation);
  const σ = recurrentActivation === undefined ? undefined : toTfjsActivation(recurrentActivation);
  if (f === null || σ === null || (kind === 'gru' && resetAfter)) return null;
  const args = {
    units,
    returnSequences: true,
    inputShape: [null, inputSize],
    activation: f as 'tanh',
    recurrentInitializer: 'glorotUniform' as const,
  };
  if (kind === 'elman') return tf.layers.simpleRNN(args);
  const gated = { ...args, recurrentActivation: σ as 'sigmoid' };
  return kind === 'lstm' ? tf.layers.lstm(gated) : tf.layers.gru(gated); // resetAfter: false, tfjs's only form;
}

/** This package's layer computing the cell. */
function ourRecurrent(cell: Cell): layers.RecurrentLayer {
  const { kind, inputSize, units, activation, recurrentActivation, resetAfter } = cell.config;
  const args = { units, activation, returnSequences: true, inputShape: [null, inputSize] };
  if (kind === 'elman') return layers.elman(args);
  if (kind === 'lstm') return layers.lstm({ ...args, recurrentActivation });
  return layers.gru({ ...args, recurrentActivation, resetAfter });
}

/** Copies every parameter of `from` into the variable of the same symbol in `to`. */
function copyParams(from: Record<string, tf.Variable>, to: Record<string, tf.Variable>): void {
  for (const [symbol, value] of Object.entries(from)) to[symbol].assign(value);
}
