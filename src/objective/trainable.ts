/**
 * What the trainer and the diagnostics need of a model, for both kinds they accept: a
 * {@link RecurrentNetwork} (its parameters keyed by symbol, a forward pass that takes an initial
 * state) and any tf.LayersModel (its trainable weights' variables, `model.apply`).
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../cells/cell.js';
import {
  checkLive,
  checkSequence,
  checkTensor,
  disposedMessage,
  exampleFlags,
  exampleProblem,
} from '../check/index.js';
import { RecurrentNetwork } from '../network.js';
import { sum } from '../sum.js';
import { checkLabels, labelKind, resolveTarget, targetShape, type LossFn, type LossName, type Target } from './loss.js';

export interface Trainable {
  /** The model as given. */
  readonly model: RecurrentNetwork | tf.LayersModel;
  /** The network, when the model is one (only networks carry state across windows). */
  readonly net: RecurrentNetwork | null;
  /** The trainable variables, always in this order. */
  readonly variables: tf.Variable[];
  /** A readable name per variable: the symbol for a network, the weight's name for a LayersModel. */
  readonly names: string[];
  /** Refuses an input the model cannot take. */
  checkX(where: string, x: unknown): tf.Tensor;
  /** The shape of the model's prediction for `x`. */
  predShape(x: tf.Tensor): number[];
  /**
   * The prediction for `x` and, for a network, the state of every cell after its last step (one
   * per layer and direction, in `net.apply`'s order). `training` is passed to a LayersModel's
   * layers and to a network (dropout and the like act only while training).
   */
  forward(x: tf.Tensor, options: { training: boolean; initialState?: State[] }): { y: tf.Tensor; state?: State[] };
  /**
   * The training loss: `loss` plus the model's own losses, as `model.fit` adds them (a
   * LayersModel's regularizer penalties, read after the forward pass); `loss` itself for a network.
   */
  penalty(loss: tf.Scalar): tf.Scalar;
}

/** Wraps a network or a tf.LayersModel; anything else is refused. */
export function asTrainable(where: string, model: unknown): Trainable {
  if (model instanceof RecurrentNetwork) return networkTrainable(where, model);
  if (model instanceof tf.LayersModel) return layersTrainable(where, model);
  throw new TypeError(
    `${where}: expected model to be a RecurrentNetwork (rt.network) or a tf.LayersModel, got ${describeModel(model)}`,
  );
}

/**
 * Checks that `x` fits the model and `y` the predictions the loss compares it with. Returns the
 * target (resolved from y's rank when not given) and the shape of those predictions.
 */
export function checkExample(
  where: string,
  trainable: Trainable,
  x: unknown,
  y: unknown,
  loss: LossName | LossFn,
  target: Target | undefined,
): { target: Target; predShape: number[] } {
  const xs = trainable.checkX(where, x);
  if (xs.rank === 3) checkSequence(where, 'x', xs, null); // refuses an empty batch or time = 0 by name
  if (!(y instanceof tf.Tensor) || y.isDisposed) {
    throw new TypeError(
      `${where}: expected y to be a tf.Tensor, got ${y instanceof tf.Tensor ? 'a disposed tensor' : typeof y}`,
    );
  }
  checkLogits(where, trainable, loss);
  const resolved = resolveTarget(target, loss, y);
  const predShape = targetShape(where, trainable.predShape(xs), resolved);
  checkLabels(where, y, predShape, loss);
  return { target: resolved, predShape };
}

/**
 * Checks the values of an example whose shapes {@link checkExample} accepted: x and y finite, and
 * the labels what the loss needs (probabilities, or class indices below `classes`). One small
 * tensor is read (asynchronously with `readAsync`, else synchronously). `names` name x and y in
 * the message, `at` says where the example came from.
 */
export function* exampleValues(
  where: string,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossName | LossFn,
  classes: number,
  names: { x: string; y: string } = { x: 'x', y: 'y' },
  at = '',
): Generator<readonly tf.Tensor[], void, ArrayLike<number>[]> {
  const kind = labelKind(loss);
  const flags = exampleFlags(x, y, kind, classes);
  let values: ArrayLike<number>;
  try {
    [values] = yield [flags];
  } finally {
    flags.dispose();
  }
  const problem = exampleProblem(where, values, names, kind, classes, at);
  if (problem) throw problem;
}

function networkTrainable(where: string, net: RecurrentNetwork): Trainable {
  checkLive(where, 'the network', Object.values(net.params));
  const params = net.params;
  return {
    model: net,
    net,
    variables: Object.values(params),
    names: Object.keys(params),
    checkX: (w, x) => checkSequence(w, 'x', x, net.inputSize),
    predShape: (x) => [x.shape[0], x.shape[1] as number, net.outputSize],
    penalty: (loss) => loss,
    forward: (x, { initialState, training }) => {
      const { y, states } = net.apply(x, { ...(initialState ? { initialState } : {}), training });
      return { y, state: states };
    },
  };
}

function layersTrainable(where: string, model: tf.LayersModel): Trainable {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `${where}: expected a tf.LayersModel with one input and one output, got ${model.inputs.length} inputs ` +
        `and ${model.outputs.length} outputs`,
    );
  }
  const inputShape = model.inputs[0].shape;
  const outputShape = model.outputs[0].shape;
  const weights = model.trainableWeights;
  if (weights.length === 0) throw new Error(`${where}: the tf.LayersModel has no trainable weights`);
  // A disposed model's weights refuse read() with tfjs's own message.
  const variables = weights.map((w) => {
    try {
      return w.read() as tf.Variable;
    } catch {
      throw new Error(disposedMessage(where, 'the tf.LayersModel'));
    }
  });
  return {
    model,
    net: null,
    variables,
    names: weights.map((w) => w.originalName ?? w.name),
    checkX: (w, x) => checkTensor(w, 'x', x, inputShape),
    predShape: (x) => outputShape.map((d, i) => d ?? x.shape[i]),
    forward: (x, { training }) => ({ y: model.apply(x, { training }) as tf.Tensor }),
    penalty: (loss) => sum([loss, ...modelLosses(model)]) as tf.Scalar,
  };
}

/**
 * The layers' own losses (regularizer penalties), as `model.fit` adds them to the training loss,
 * and those of layers inside a wrapper (`tf.layers.bidirectional`, `timeDistributed`), which
 * tfjs's `model.fit` leaves out (a wrapper reports none of its layer's losses). A `tf.Sequential`
 * fits through the model it wraps, whose `calculateLosses` finds the layers' losses (the
 * Sequential's own finds none).
 */
function modelLosses(model: tf.LayersModel): tf.Scalar[] {
  const inner = model instanceof tf.Sequential ? (model as unknown as { model: tf.LayersModel | null }).model : null;
  const graph = inner ?? model;
  const wrapped = new Set(graph.layers.flatMap(wrappedLayers));
  return [...graph.calculateLosses(), ...[...wrapped].flatMap((layer) => layer.calculateLosses())];
}

/** The layers a wrapper holds (Bidirectional's two, TimeDistributed's one), or none. */
function wrappedLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  const { forwardLayer, backwardLayer, layer: inner } = layer as unknown as Record<string, unknown>;
  return [forwardLayer, backwardLayer, inner].filter((l): l is tf.layers.Layer => l instanceof tf.layers.Layer);
}

/** The probability loss that matches each logits loss. */
const PROBABILITY_LOSS = {
  softmaxCrossEntropy: 'categoricalCrossentropy',
  sparseSoftmaxCrossEntropy: 'sparseCategoricalCrossentropy',
} as const;

/**
 * Refuses a logits loss (`softmaxCrossEntropy`, `sparseSoftmaxCrossEntropy`) on a model whose
 * output already applies softmax: the loss would apply it a second time and training stalls.
 */
function checkLogits(where: string, trainable: Trainable, loss: LossName | LossFn): void {
  if (loss !== 'softmaxCrossEntropy' && loss !== 'sparseSoftmaxCrossEntropy') return;
  const { model } = trainable;
  let what: string | null = null;
  if (model instanceof RecurrentNetwork) {
    if (model.outputActivation === 'softmax') what = "the network's outputActivation is 'softmax'";
  } else {
    const layer = model.outputs[0].sourceLayer;
    const config = layer.getConfig();
    if (config.activation === 'softmax' || layer.getClassName() === 'Softmax') {
      what = `the model's output layer '${layer.name}' applies softmax`;
    }
  }
  if (what) {
    throw new Error(
      `${where}: loss '${loss}' takes logits (it applies softmax itself), but ${what}: use loss ` +
        `'${PROBABILITY_LOSS[loss]}', which takes probabilities, or a linear output`,
    );
  }
}

function describeModel(model: unknown): string {
  if (model === null || typeof model !== 'object') return String(model);
  return `an object (${(model as object).constructor?.name ?? 'Object'})`;
}
