/**
 * Losses and targets: which predictions are compared with which labels.
 *
 * - `target: 'lastStep'` compares `y_T` (the prediction of the last step) with `y: [batch, out]`;
 *   `'everyStep'` compares every `y_t` with `y: [batch, time, out]`. Left out, it is `everyStep`
 *   when the labels have a time axis and `lastStep` when they do not.
 * - `mse`: the mean of `(ŷ - y)^2` over every entry.
 * - `softmaxCrossEntropy`: the predictions are logits (keep the output activation linear), `y`
 *   holds probabilities; the mean over rows of `-Σ_k y_k log softmax(ŷ)_k`.
 * - `sparseSoftmaxCrossEntropy`: the same with integer class labels (`y` has no class axis).
 * - a function `(yTrue, yPred) => tf.Scalar` (Keras' argument order).
 */
import * as tf from '@tensorflow/tfjs';
import { fmt, show, type LabelKind } from '../check/index.js';

export type LossName = 'mse' | 'softmaxCrossEntropy' | 'sparseSoftmaxCrossEntropy';
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
export type Target = 'lastStep' | 'everyStep';

export const LOSS_NAMES: readonly LossName[] = ['mse', 'softmaxCrossEntropy', 'sparseSoftmaxCrossEntropy'];
export const TARGETS: readonly Target[] = ['lastStep', 'everyStep'];

/** A loss given by name or as a function, checked. */
export function checkLoss(where: string, loss: unknown): LossName | LossFn {
  if (typeof loss === 'function') return loss as LossFn;
  if (LOSS_NAMES.includes(loss as LossName)) return loss as LossName;
  throw new Error(
    `${where}: expected loss to be one of ${LOSS_NAMES.map((n) => `'${n}'`).join(', ')} or a function ` +
      `(yTrue, yPred) => tf.Scalar, got ${typeof loss === 'string' ? `'${loss}'` : show(loss)}`,
  );
}

/** The loss as a function of labels and (target-selected) predictions. */
export function lossFunction(loss: LossName | LossFn): LossFn {
  if (typeof loss === 'function') return loss;
  if (loss === 'mse') return (y, p) => tf.mean(tf.squaredDifference(p, y)) as tf.Scalar;
  if (loss === 'softmaxCrossEntropy') return crossEntropy;
  return (y, p) => {
    const classes = p.shape[p.rank - 1];
    return crossEntropy(tf.oneHot(tf.cast(y.flatten(), 'int32'), classes).reshape(p.shape), p);
  };
}

/** `mean over rows of -Σ_k y_k log softmax(logits)_k`. */
function crossEntropy(y: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

/** The target a run uses: the one given, or the one the labels' rank implies. */
export function resolveTarget(target: Target | undefined, loss: LossName | LossFn, y: tf.Tensor): Target {
  if (target !== undefined) return target;
  const timeRank = loss === 'sparseSoftmaxCrossEntropy' ? 2 : 3;
  return y.rank === timeRank ? 'everyStep' : 'lastStep';
}

/**
 * The predictions the loss sees: `y_T` for `lastStep` (a rank-2 prediction, as a tf.LayersModel
 * without `returnSequences` gives, already is), every step for `everyStep`.
 */
export function selectTarget(pred: tf.Tensor, target: Target): tf.Tensor {
  if (target === 'everyStep' || pred.rank === 2) return pred;
  const [batch, time, out] = pred.shape;
  return pred.slice([0, time - 1, 0], [batch, 1, out]).reshape([batch, out]);
}

/** The shape of the predictions the loss sees, from the model's full prediction shape. */
export function targetShape(where: string, predShape: readonly number[], target: Target): number[] {
  if (target === 'everyStep' && predShape.length !== 3) {
    throw new Error(
      `${where}: target 'everyStep' needs predictions at every step, but the model gives ${fmt(predShape)}; ` +
        `use target 'lastStep' or a model that returns sequences`,
    );
  }
  return target === 'lastStep' && predShape.length === 3 ? [predShape[0], predShape[2]] : [...predShape];
}

/** Refuses labels whose shape does not fit the predictions the loss compares them with. */
export function checkLabels(where: string, y: tf.Tensor, predShape: readonly number[], loss: LossName | LossFn): void {
  const sparse = loss === 'sparseSoftmaxCrossEntropy';
  const expected = sparse ? predShape.slice(0, -1) : predShape;
  const ok = y.rank === expected.length && expected.every((d, i) => y.shape[i] === d);
  if (!ok) {
    const what = sparse ? ' (class indices: the predictions without their class axis)' : '';
    throw new RangeError(`${where}: expected y of shape ${fmt(expected)}${what}, got ${fmt(y.shape)}`);
  }
}

/** What the labels of `loss` must hold: probabilities, class indices, or anything (mse, a function). */
export function labelKind(loss: LossName | LossFn): LabelKind {
  if (loss === 'softmaxCrossEntropy') return 'probabilities';
  if (loss === 'sparseSoftmaxCrossEntropy') return 'classes';
  return 'any';
}
