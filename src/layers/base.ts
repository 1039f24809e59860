/**
 * What the recurrent layers and the output layer share: tfjs-layers types, the options every
 * `tf.layers.Layer` takes, single-input helpers, and idempotent class registration.
 */
import * as tf from '@tensorflow/tfjs';
import { checkWeight, fmt, show } from '../check/index.js';

/** The options of every `tf.layers.Layer` (name, inputShape, batchInputShape, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** The keyword arguments of `Layer.call` (mask, training, ...). */
export type Kwargs = Parameters<tf.layers.Layer['call']>[1];
/** What `Layer.dispose()` returns. */
export type DisposeResult = ReturnType<tf.layers.Layer['dispose']>;
/** What `Layer.addWeight` takes to fill a new weight. */
export type Initializer = Parameters<tf.layers.Layer['addWeight']>[3];

/**
 * An initializer for `addWeight` that hands out the fresh tensor `value()` returns. It is called
 * only when tfjs initialises the weight: when a model is loaded tfjs fills weights with zeros
 * instead, and `value()` (which may draw an orthogonal matrix, slow for large layers) never runs.
 * tfjs's Initializer class is not exported; `addWeight` calls nothing but `apply`.
 */
export function initializerFrom(value: () => tf.Tensor): Initializer {
  return { apply: value } as unknown as Initializer;
}

/**
 * The keys of {@link LayerArgs}, accepted by every layer beside its own options, and
 * `customObjects`, which tfjs's deserializer adds to every config it hands to a constructor.
 */
export const LAYER_ARG_KEYS = [
  'customObjects',
  'name',
  'trainable',
  'inputShape',
  'batchInputShape',
  'batchSize',
  'dtype',
  'weights',
  'inputDType',
] as const;

/** The one input shape of a single-input layer (tfjs hands a list when there are several). */
export function singleShape(where: string, inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  if (Array.isArray(inputShape[0])) {
    const shapes = inputShape as tf.Shape[];
    if (shapes.length !== 1) {
      throw new Error(`${where}: expected one input, got ${shapes.length} (shapes ${shapes.map(fmt).join(', ')})`);
    }
    return shapes[0];
  }
  return inputShape as tf.Shape;
}

/** The one input tensor of a single-input layer. */
export function singleInput(where: string, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`${where}: expected one input tensor, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

/**
 * Registers a layer class for `tf.loadLayersModel` unless its class name is already taken.
 * tfjs 4.22 silently replaces an entry of the same name, so registering twice (a second copy of
 * this package, a hot reload) must not happen, and our names never equal tfjs's own.
 */
export function registerOnce(cls: tf.serialization.SerializableConstructor<tf.layers.Layer>): void {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  if (!Object.prototype.hasOwnProperty.call(map, cls.className)) tf.serialization.registerClass(cls);
}

export { checkActivation } from '../activations.js';

/**
 * Makes every write to `weight` (`setWeights`, and `tf.loadLayersModel`, which writes the loaded
 * values straight into the layer's variables) check the value first: float32, the weight's shape,
 * a transposed matrix named as such. tfjs's own messages ("Shape mismatch: [2,4] vs. [4,2]",
 * "dtype of the new value (int32) and previous value (float32) must match") name neither.
 */
export function guardWrites(where: string, weight: tf.LayerVariable): tf.LayerVariable {
  const write = weight.write.bind(weight);
  weight.write = (value: tf.Tensor) => write(checkWeight(where, symbolOf(weight), value, weight.shape as number[]));
  return weight;
}

/**
 * The values handed to a layer's `setWeights`, checked against its weights (count, shape with a
 * transposed matrix named, dtype) before tfjs's own check, whose message names no weight.
 */
export function checkSetWeights(where: string, layer: tf.layers.Layer, values: tf.Tensor[]): void {
  const weights = layer.weights;
  if (!Array.isArray(values) || values.length !== weights.length) {
    throw new Error(
      `${where}: expected ${weights.length} weights (${weights.map((w) => symbolOf(w)).join(', ')}), got ` +
        `${Array.isArray(values) ? values.length : typeof values}`,
    );
  }
  weights.forEach((w, i) => checkWeight(where, symbolOf(w), values[i], w.shape as number[]));
}

function symbolOf(weight: tf.LayerVariable): string {
  return weight.originalName.split('/').pop() ?? weight.originalName;
}

/** The names tfjs accepts for a layer (its weights are named `NAME/W_hx`): a letter or digit first. */
const LAYER_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

/** A layer's `name`, as tfjs will accept it for the layer's weights. */
export function checkLayerName(where: string, name: unknown): string {
  if (typeof name !== 'string' || !LAYER_NAME.test(name)) {
    throw new TypeError(
      `${where}: expected name to be a string of letters, digits and - . _ / that starts with a letter or digit, got ${show(name)}`,
    );
  }
  return name;
}

const created: Record<string, number> = {};
/**
 * A layer's default name: `lstm1`, `gru2`, `output1` (tfjs would make it `recurrent_lstm_RecurrentLSTM1`,
 * which `model.summary()` cuts off before the class name).
 */
export function defaultName(kind: string): string {
  created[kind] = (created[kind] ?? 0) + 1;
  return `${kind}${created[kind]}`;
}
