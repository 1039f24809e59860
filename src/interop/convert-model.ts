/**
 * A whole `tf.LayersModel` from tfjs's recurrent layers to ours and back, in one call:
 * {@link fromTfjsModel} and {@link toTfjsModel}. Every `SimpleRNN`, `LSTM` and `GRU` (also inside
 * `tf.layers.bidirectional`, `tf.layers.timeDistributed` or a nested model) becomes
 * `layers.elman`, `layers.lstm`, `layers.gru` (and back); every other layer and the wiring stay as
 * they are, and the weights are copied (the recurrent ones through the Keras layout, see
 * `keras.ts`), so the new model computes the same numbers. The new model is not compiled.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellKind } from '../cells/cell.js';
import { describe } from '../check/index.js';
import { RecurrentLayer } from '../layers/recurrent.js';
import { toKeras, toTfjsActivation } from './keras.js';

/** A layer in a model's JSON topology (`model.toJSON(null, false)`: Keras's snake_case keys). */
interface LayerJson {
  class_name: string;
  config: Record<string, unknown> & { layer?: LayerJson; layers?: LayerJson[] };
}

const TFJS_CLASSES: Record<string, CellKind> = { SimpleRNN: 'elman', LSTM: 'lstm', GRU: 'gru' };
const OUR_CLASSES: Record<string, CellKind> = { RecurrentElman: 'elman', RecurrentLSTM: 'lstm', RecurrentGRU: 'gru' };
const classOf = (table: Record<string, CellKind>, kind: CellKind) =>
  Object.keys(table).find((k) => table[k] === kind) as string;

/**
 * Options of tfjs's layers that change nothing once the weights are copied (initialisers,
 * `implementation`), and the values at which the others change nothing: these are left out, every
 * other option goes to our layer as it is (which takes it, or refuses it by name).
 */
const INIT_ONLY = [
  'kernel_initializer',
  'recurrent_initializer',
  'bias_initializer',
  'unit_forget_bias',
  'implementation',
];
const NO_OP: Record<string, unknown> = {
  dropout: 0,
  recurrent_dropout: 0,
  use_bias: true,
  unroll: false,
  kernel_regularizer: null,
  recurrent_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  recurrent_constraint: null,
  bias_constraint: null,
  dropout_func: null,
};

/**
 * A copy of `model` with this package's recurrent layers in place of tfjs's `SimpleRNN`, `LSTM`,
 * `GRU` (a tfjs GRU becomes `layers.gru({ resetAfter: false })`, the form tfjs computes; tfjs's
 * `hardSigmoid` gates stay), with the same weights: `predict` gives the same numbers. An option of
 * a tfjs layer that ours cannot honour is an error naming it.
 */
export function fromTfjsModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  return convert('fromTfjsModel', model, (layer) => {
    const kind = TFJS_CLASSES[layer.class_name];
    if (kind === undefined) return null;
    const config = { ...layer.config };
    for (const key of INIT_ONLY) delete config[key];
    for (const [key, value] of Object.entries(NO_OP)) if (key in config && config[key] === value) delete config[key];
    if (config.reset_after === true) {
      throw new Error(
        `fromTfjsModel: layer '${String(config.name)}' has reset_after: true, which tfjs's GRU does not compute`,
      );
    }
    if (kind === 'gru') config.reset_after = false;
    else delete config.reset_after;
    return { ...layer, class_name: classOf(OUR_CLASSES, kind), config };
  });
}

/**
 * A copy of `model` with tfjs's own `SimpleRNN`, `LSTM`, `GRU` in place of this package's layers,
 * with the same weights: the model then loads in tfjs without this package. A layer tfjs cannot
 * compute (a GRU with `resetAfter: true`, an activation tfjs lacks) is an error naming it.
 */
export function toTfjsModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  return convert('toTfjsModel', model, (layer) => {
    const kind = OUR_CLASSES[layer.class_name];
    if (kind === undefined) return null;
    const config = { ...layer.config };
    const where = `toTfjsModel: layer '${String(config.name)}'`;
    if (config.reset_after === true) {
      throw new Error(
        `${where}: a GRU with resetAfter: true has no equal in tfjs (its GRU computes resetAfter: false)`,
      );
    }
    for (const key of ['activation', 'recurrent_activation']) {
      if (config[key] !== undefined && toTfjsActivation(camel(String(config[key]))) === null) {
        throw new Error(`${where}: tfjs has no activation equal to ${key} '${String(config[key])}'`);
      }
    }
    delete config.seed;
    delete config.reset_after;
    return { ...layer, class_name: classOf(TFJS_CLASSES, kind), config };
  });
}

/** `hard_sigmoid` → `hardSigmoid`: the name in a saved topology to the one in code. */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Rebuilds `model` from its topology with `swap` applied to every layer, then copies the weights. */
async function convert(
  where: string,
  model: tf.LayersModel,
  swap: (layer: LayerJson) => LayerJson | null,
): Promise<tf.LayersModel> {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(`${where}: expected a tf.LayersModel, got ${describe(model)}`);
  }
  const topology = model.toJSON(null, false) as unknown as LayerJson;
  const rebuilt = await tf.models.modelFromJSON({
    modelTopology: rewrite(topology, swap) as unknown as tf.io.ModelJSON['modelTopology'],
  });
  tf.tidy(() => copyWeights(model, rebuilt));
  return rebuilt;
}

/** The topology with `swap` applied to every layer, nested ones (wrappers, models) included. */
function rewrite(layer: LayerJson, swap: (layer: LayerJson) => LayerJson | null): LayerJson {
  const swapped = swap(layer);
  if (swapped !== null) return swapped;
  const config = { ...layer.config };
  if (config.layer) config.layer = rewrite(config.layer, swap);
  if (Array.isArray(config.layers)) config.layers = config.layers.map((l) => rewrite(l, swap));
  return { ...layer, config };
}

/**
 * Copies every layer's weights from `from` into the layer of the same name in `to`. A recurrent
 * layer's go in the Keras layout, which both tfjs's layers and ours take.
 */
function copyWeights(from: tf.layers.Layer, to: tf.layers.Layer): void {
  if (from instanceof tf.LayersModel) {
    for (const layer of from.layers) copyWeights(layer, (to as tf.LayersModel).getLayer(layer.name));
    return;
  }
  if (from.weights.length > 0) to.setWeights(kerasWeights(from));
}

/** A layer's weights, in the Keras layout where it is one of ours (alone or wrapped). */
function kerasWeights(layer: tf.layers.Layer): tf.Tensor[] {
  if (layer instanceof RecurrentLayer && layer.cell !== null) return toKeras(layer.cell);
  const wrapped = layer as unknown as {
    forwardLayer?: tf.layers.Layer;
    backwardLayer?: tf.layers.Layer;
    layer?: tf.layers.Layer;
  };
  if (wrapped.forwardLayer && wrapped.backwardLayer) {
    return [...kerasWeights(wrapped.forwardLayer), ...kerasWeights(wrapped.backwardLayer)];
  }
  if (wrapped.layer instanceof tf.layers.Layer) return kerasWeights(wrapped.layer);
  return layer.getWeights();
}
