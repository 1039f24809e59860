/**
 * Derivatives of the activations, written by hand and expressed through the activation's
 * output $y = \phi(a)$ (what the forward pass keeps), for the hand-derived backward pass:
 *
 * | φ | φ'(a) in terms of y |
 * |---|---|
 * | tanh | $1 - y^2$ |
 * | sigmoid | $y (1 - y)$ |
 * | hardSigmoid | $0.2$ where $0 < y < 1$, else 0 |
 * | relu | $1$ where $y > 0$, else 0 |
 * | linear | $1$ |
 * | elu | $1$ where $y > 0$, else $y + 1$ |
 * | softplus | $1 - e^{-y}$ (that is, σ(a)) |
 * | softsign | $(1 - |y|)^2$ |
 */
import * as tf from '@tensorflow/tfjs';

const TABLE: Record<string, (y: tf.Tensor) => tf.Tensor> = {
  tanh: (y) => tf.sub(1, tf.square(y)),
  sigmoid: (y) => tf.mul(y, tf.sub(1, y)),
  hardSigmoid: (y) => tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 1)), 'float32')),
  relu: (y) => tf.cast(tf.greater(y, 0), 'float32'),
  linear: (y) => tf.onesLike(y),
  elu: (y) => tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)),
  softplus: (y) => tf.sub(1, tf.exp(tf.neg(y))),
  softsign: (y) => tf.square(tf.sub(1, tf.abs(y))),
};

/** `y ↦ φ'(a)` for the activation named `name`; other activations are refused. */
export function derivative(where: string, name: string): (y: tf.Tensor) => tf.Tensor {
  const d = TABLE[name];
  if (d === undefined) {
    throw new Error(
      `${where}: the hand-derived backward pass knows the derivatives of ${Object.keys(TABLE).join(', ')}; ` +
        `got activation '${name}'`,
    );
  }
  return d;
}
