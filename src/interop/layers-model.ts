/**
 * A `RecurrentNetwork` as a `tf.LayersModel` (`net.toLayersModel()` calls {@link toLayersModel}):
 * the path to `model.fit`, to Keras and to TensorFlow's tooling. This module sits below
 * `network.ts` and reads only what {@link NetworkParts} names of a network.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import * as layers from '../layers/index.js';
import { toKeras, toTfjsActivation } from './keras.js';

/** What {@link toLayersModel} reads of a network: its cells and its output function (a `RecurrentNetwork` is one). */
export interface NetworkParts {
  /** `cells[layer][0]` forward, `cells[layer][1]` reverse (bidirectional). */
  readonly cells: readonly (readonly Cell[])[];
  /** Dropout between layers while training (0: none). */
  readonly dropout: number;
  readonly outputSize: number;
  /** g, by name. */
  readonly outputActivation: string;
  readonly outputParams: { readonly W_yh: tf.Variable; readonly b_y: tf.Variable };
}

/**
 * `tf.sequential([recurrent layer (returnSequences: true), dense])` holding copies of the
 * network's weights, so that `model.predict(x)` equals `net.predict(x)` (`[batch, time,
 * outputSize]`, to float32 rounding). A stacked network gives one recurrent layer per layer, a
 * bidirectional one wraps each in `tf.layers.bidirectional` (`mergeMode: 'concat'`, the order of
 * `[h→_t; h←_t]`), and a network with `dropout` has `tf.layers.dropout` between the layers.
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
  const top = net.cells.length - 1;
  const stack: tf.layers.Layer[] = [];
  /** Each recurrent layer of the model with the cell whose weights it gets. */
  const copies: { layer: tf.layers.Layer; cell: Cell }[] = [];
  net.cells.forEach((cells, l) => {
    const inputShape = l === 0 ? [null, cells[0].inputSize] : undefined;
    const rnn = recurrentLayer(cells[0], cells.length === 1 ? inputShape : undefined);
    if (cells.length === 1) {
      stack.push(rnn);
      copies.push({ layer: rnn, cell: cells[0] });
    } else {
      const wrapper = tf.layers.bidirectional({ layer: rnn as tf.RNN, mergeMode: 'concat', inputShape });
      stack.push(wrapper);
      // tfjs builds the backward layer from the forward one's config (goBackwards flipped).
      const halves = wrapper as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
      copies.push({ layer: halves.forwardLayer, cell: cells[0] }, { layer: halves.backwardLayer, cell: cells[1] });
    }
    if (l < top && net.dropout > 0) stack.push(tf.layers.dropout({ rate: net.dropout }));
  });
  const outputActivation = toTfjsActivation(net.outputActivation);
  const head = outputActivation
    ? tf.layers.dense({ units: net.outputSize, activation: outputActivation as 'linear' })
    : layers.output({ units: net.outputSize, activation: net.outputActivation });
  const model = tf.sequential({ layers: [...stack, head] });
  tf.tidy(() => {
    for (const { layer, cell } of copies) {
      if (layer instanceof layers.RecurrentLayer) copyParams(cell.params, (layer.cell as Cell).params);
      else layer.setWeights(toKeras(cell));
    }
    const { W_yh, b_y } = net.outputParams;
    head.setWeights(outputActivation ? [tf.transpose(W_yh), b_y] : [W_yh, b_y]);
  });
  return model;
}

/** tfjs's own layer computing the cell where tfjs has one, else this package's. */
function recurrentLayer(cell: Cell, inputShape: (number | null)[] | undefined): tf.layers.Layer {
  return tfjsRecurrent(cell, inputShape) ?? ourRecurrent(cell, inputShape);
}

/** tfjs's own layer computing the cell, or `null` when tfjs has none. */
function tfjsRecurrent(cell: Cell, inputShape: (number | null)[] | undefined): tf.layers.Layer | null {
  const { kind, units, activation, recurrentActivation, resetAfter } = cell.config;
  const f = toTfjsActivation(activation);
  const σ = recurrentActivation === undefined ? undefined : toTfjsActivation(recurrentActivation);
  if (f === null || σ === null || (kind === 'gru' && resetAfter)) return null;
  const args = {
    units,
    returnSequences: true,
    ...(inputShape ? { inputShape } : {}),
    activation: f as 'tanh',
    recurrentInitializer: 'glorotUniform' as const,
    ...(cell.config.useBias === false ? { useBias: false } : {}),
  };
  if (kind === 'elman') return tf.layers.simpleRNN(args);
  const gated = { ...args, recurrentActivation: σ as 'sigmoid' };
  return kind === 'lstm' ? tf.layers.lstm(gated) : tf.layers.gru(gated); // resetAfter: false, tfjs's only form;
}

/** This package's layer computing the cell. */
function ourRecurrent(cell: Cell, inputShape: (number | null)[] | undefined): layers.RecurrentLayer {
  const { kind, units, activation, recurrentActivation, resetAfter } = cell.config;
  const args = { units, activation, returnSequences: true, ...(inputShape ? { inputShape } : {}) };
  if (kind === 'elman') return layers.elman(args);
  if (kind === 'lstm') return layers.lstm({ ...args, recurrentActivation });
  return layers.gru({ ...args, recurrentActivation, resetAfter });
}

/** Copies every parameter of `from` into the variable of the same symbol in `to`. */
function copyParams(from: Record<string, tf.Variable>, to: Record<string, tf.Variable>): void {
  for (const [symbol, value] of Object.entries(from)) to[symbol].assign(value);
}
