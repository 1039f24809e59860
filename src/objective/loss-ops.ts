/**
 * Our three losses in tf ops. {@link LOSS_OPS} is their readable form, differentiated by tfjs: the
 * reference of `./fused-loss.ts` (one kernel each way on cpu and wasm) and what runs where neither
 * that nor {@link handDifferentiated} does. With `n` entries, or `R` rows of `K` classes, and the
 * upstream gradient `dy`:
 *
 * - `mse`: $L = \frac{1}{n} \sum_i (\hat y_i - y_i)^2$,
 *   $\partial L / \partial \hat y = (\hat y - y) \cdot \frac{dy}{n/2}$ (tfjs's rounding: $2 \operatorname{fl}(dy/n)$
 *   is $\operatorname{fl}(dy / (n/2))$), $\partial L / \partial y = -\partial L / \partial \hat y$;
 * - `softmaxCrossEntropy`: $L = -\frac{1}{R} \sum_r \sum_k y_{rk} \log \operatorname{softmax}(\hat y_r)_k$,
 *   $\partial L / \partial \hat y_r = \frac{dy}{R} \left(\operatorname{softmax}(\hat y_r) \sum_j y_{rj} - y_r\right)$,
 *   $\partial L / \partial y_r = -\frac{dy}{R} \log \operatorname{softmax}(\hat y_r)$;
 * - `sparseSoftmaxCrossEntropy`: the same with `y_r` one-hot at its class index; the indices get 0.
 *
 * On the GPU backends (webgl, webgpu) our losses run as {@link handDifferentiated}: the forward of
 * {@link LOSS_OPS}, these gradients. tfjs's gradients of the readable form make their constants in
 * JavaScript (the mean's count and its `ones` of the predictions' shape, a sum's `ones`, the
 * square's `2`), and on a GPU each is an upload: a staging buffer and a copy (on the H100 run of
 * issue 14, one scalar upload a time step cost a GRU's forward ~1.6 ms a step). Here the constants
 * are `tf.fill`s, which those backends make in a program: a train step's loss uploads only tfjs's
 * seed `dy = 1` of `tf.variableGrads`.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from '../fast/kernels.js';

/** Our losses (the ones `rt.diagnostics.manualBPTT` has hand-derived gradients of). */
export type OurLossName = 'mse' | 'softmaxCrossEntropy' | 'sparseSoftmaxCrossEntropy';

/** A loss of labels and predictions, in Keras' argument order. */
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

/** Integer class labels as one-hot rows shaped like the predictions `p`. */
export function oneHot(y: tf.Tensor, p: tf.Tensor): tf.Tensor {
  return tf.oneHot(tf.cast(y.flatten(), 'int32'), p.shape[p.rank - 1]).reshape(p.shape);
}

/** `-mean over rows of Σ_k y_k logProbs_k`. */
function crossEntropy(y: tf.Tensor, logProbs: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(y, logProbs), -1))) as tf.Scalar;
}

export const LOSS_OPS: Record<OurLossName, LossFn> = {
  mse: (y, p) => tf.mean(tf.squaredDifference(p, y)) as tf.Scalar,
  softmaxCrossEntropy: (y, p) => crossEntropy(y, tf.logSoftmax(p)),
  sparseSoftmaxCrossEntropy: (y, p) => crossEntropy(oneHot(y, p), tf.logSoftmax(p)),
};

/** `dy / d`, `d` made on the backend. */
const over = (dy: tf.Tensor, d: number) => tf.div(dy, tf.fill([], d));

/** The rows `R` of predictions `p` (`K` classes a row). */
const rowsOf = (p: tf.Tensor) => p.size / p.shape[p.rank - 1];

/** The cross-entropy's `∂L/∂y` from the log-probabilities of the predictions `p`. */
export function crossEntropyLabelGradient(logProbs: tf.Tensor, dy: tf.Tensor, p: tf.Tensor): tf.Tensor {
  return tf.mul(logProbs, tf.neg(over(dy, rowsOf(p))));
}

/**
 * Whether labels `y` and predictions `p` have the loss's shapes (`y` like `p`, or `p` without its
 * class axis for class indices; no broadcasting), `p` float32 and not empty.
 */
export function fitsLoss(name: OurLossName, y: tf.Tensor, p: tf.Tensor): boolean {
  const labelShape = name === 'sparseSoftmaxCrossEntropy' ? p.shape.slice(0, -1) : p.shape;
  return (
    p.dtype === 'float32' &&
    p.size > 0 &&
    (name === 'mse' || p.rank > 0) &&
    y.rank === labelShape.length &&
    labelShape.every((d, i) => y.shape[i] === d)
  );
}

/**
 * The loss `name` as the forward of {@link LOSS_OPS} with the gradients of the module notes, or
 * null where the shapes do not fit it ({@link fitsLoss}).
 */
export function handDifferentiated(name: OurLossName, y: tf.Tensor, p: tf.Tensor): tf.Scalar | null {
  if (!fitsLoss(name, y, p)) return null;
  const sparse = name === 'sparseSoftmaxCrossEntropy';
  return customOp([y, p], ([y, p], save) => {
    if (name === 'mse') {
      save([y, p]);
      return {
        value: LOSS_OPS.mse(y, p),
        gradFunc: (dy, [y, p]) => {
          const dp = () => tf.mul(tf.sub(p, y), over(dy, p.size / 2));
          return [() => tf.neg(dp()), dp];
        },
      };
    }
    const value = tf.tidy(() => {
      const labels = sparse ? oneHot(y, p) : y;
      const logProbs = tf.logSoftmax(p);
      save([labels, logProbs]);
      return crossEntropy(labels, logProbs);
    });
    return {
      value,
      gradFunc: (dy, [labels, logProbs]) => [
        () => (sparse ? tf.zerosLike(y) : crossEntropyLabelGradient(logProbs, dy, p)),
        () => tf.mul(tf.sub(tf.mul(tf.exp(logProbs), tf.sum(labels, -1, true)), labels), over(dy, rowsOf(p))),
      ],
    };
  }) as tf.Scalar;
}
