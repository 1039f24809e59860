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
 * - tfjs's names, as `model.compile` takes them, with tfjs's definitions (`tf.metrics`), the
 *   mean over rows: `meanSquaredError` (= `mse`), `meanAbsoluteError`,
 *   `meanAbsolutePercentageError`, `binaryCrossentropy`, `cosineProximity`,
 *   `categoricalCrossentropy` (the predictions are probabilities: the model ends in softmax) and
 *   `sparseCategoricalCrossentropy` (the same with integer class labels).
 * - a function `(yTrue, yPred) => tf.Scalar` (Keras' argument order).
 *
 * Our three losses (and `meanSquaredError`) run as one kernel each way (`./fused-loss.ts`: `mse`
 * on cpu and wasm, the cross-entropies on cpu); on the GPU backends as their tf ops with gradients
 * written by hand that upload nothing (`./loss-ops.ts`); elsewhere as {@link LOSS_OPS}, their
 * readable form in tf ops, which tfjs differentiates.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, fmt, show, type LabelKind } from '../check/index.js';
import { isSyncReadable } from '../read.js';
import { fusedLoss } from './fused-loss.js';
import { handDifferentiated, LOSS_OPS, oneHot, type LossFn, type OurLossName } from './loss-ops.js';

/** tfjs's loss names that `rt.train` takes too. */
export const TFJS_LOSS_NAMES = [
  'meanSquaredError',
  'meanAbsoluteError',
  'meanAbsolutePercentageError',
  'binaryCrossentropy',
  'cosineProximity',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
] as const;
export type TfjsLossName = (typeof TFJS_LOSS_NAMES)[number];
export type LossName = OurLossName | TfjsLossName;
export type { LossFn };
export type Target = 'lastStep' | 'everyStep';

/** Our loss names (the ones `rt.diagnostics.manualBPTT` has hand-derived gradients of). */
export const LOSS_NAMES: readonly LossName[] = ['mse', 'softmaxCrossEntropy', 'sparseSoftmaxCrossEntropy'];
const ALL_LOSS_NAMES: readonly LossName[] = [...LOSS_NAMES, ...TFJS_LOSS_NAMES];
export const TARGETS: readonly Target[] = ['lastStep', 'everyStep'];

/** A loss given by name or as a function, checked. */
export function checkLoss(where: string, loss: unknown): LossName | LossFn {
  if (typeof loss === 'function') return loss as LossFn;
  if (ALL_LOSS_NAMES.includes(loss as LossName)) return loss as LossName;
  throw new Error(
    `${where}: expected loss to be one of ${ALL_LOSS_NAMES.map((n) => `'${n}'`).join(', ')} or a function ` +
      `(yTrue, yPred) => tf.Scalar, got ${typeof loss === 'string' ? `'${loss}'` : show(loss)}`,
  );
}

/**
 * The loss as a function of labels and (target-selected) predictions. A function of the user's
 * that returns something else than a scalar tensor is refused by `where` when it runs.
 */
export function lossFunction(loss: LossName | LossFn, where: string): LossFn {
  if (typeof loss === 'function') {
    return (y, p) => {
      const value: unknown = loss(y, p);
      if (!(value instanceof tf.Tensor) || value.rank !== 0) {
        throw new TypeError(
          `${where}: expected loss(yTrue, yPred) to return a scalar tf.Tensor, got ${describe(value)}`,
        );
      }
      return value as tf.Scalar;
    };
  }
  // On a GPU backend (one not read synchronously), differentiated by hand: its gradients upload nothing.
  const ours =
    (name: OurLossName): LossFn =>
    (y, p) =>
      fusedLoss(name, y, p) ?? (isSyncReadable() ? null : handDifferentiated(name, y, p)) ?? LOSS_OPS[name](y, p);
  if (loss === 'mse' || loss === 'meanSquaredError') return ours('mse');
  if (loss === 'softmaxCrossEntropy' || loss === 'sparseSoftmaxCrossEntropy') return ours(loss);
  if (loss === 'sparseCategoricalCrossentropy') {
    return (y, p) => tf.mean(tf.metrics.categoricalCrossentropy(oneHot(y, p), p)) as tf.Scalar;
  }
  const perRow = tf.metrics[loss];
  return (y, p) => tf.mean(perRow(y, p)) as tf.Scalar;
}

/** Losses whose labels are class indices (the predictions without their class axis). */
function isSparse(loss: LossName | LossFn): boolean {
  return loss === 'sparseSoftmaxCrossEntropy' || loss === 'sparseCategoricalCrossentropy';
}

/** The target a run uses: the one given, or the one the labels' rank implies. */
export function resolveTarget(target: Target | undefined, loss: LossName | LossFn, y: tf.Tensor): Target {
  if (target !== undefined) return target;
  const timeRank = isSparse(loss) ? 2 : 3;
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
  const sparse = isSparse(loss);
  const expected = sparse ? predShape.slice(0, -1) : predShape;
  const ok = y.rank === expected.length && expected.every((d, i) => y.shape[i] === d);
  if (!ok) {
    const what = sparse ? ' (class indices: the predictions without their class axis)' : '';
    throw new RangeError(`${where}: expected y of shape ${fmt(expected)}${what}, got ${fmt(y.shape)}`);
  }
}

/** What the labels of `loss` must hold: probabilities, class indices, or anything (mse, a function). */
export function labelKind(loss: LossName | LossFn): LabelKind {
  if (loss === 'softmaxCrossEntropy' || loss === 'categoricalCrossentropy') return 'probabilities';
  if (isSparse(loss)) return 'classes';
  return 'any';
}
