/**
 * Derivatives of activations written through their output: for `y = f(a)`, a function of `y`
 * equal to `f'(a)`. A hand-derived backward pass needs only the values its forward produced, so
 * the activations it can differentiate are the ones listed here:
 *
 * | f | f'(a) as a function of y |
 * |---|---|
 * | `tanh` | $1 - y^2$ |
 * | `sigmoid` | $y (1 - y)$ |
 * | `relu` | $[y > 0]$ |
 * | `hardSigmoid` | $0.2 \, [0 < y < 1]$ |
 * | `linear` | $1$ |
 * | `elu` | $1$ where $y > 0$, else $y + 1$ |
 * | `softplus` | $1 - e^{-y}$ (that is, σ(a)) |
 * | `softsign` | $(1 - |y|)^2$ |
 *
 * The others (and registered user functions) have none; cells that use them keep the plain path,
 * whose gradient tfjs derives.
 */
import * as tf from '@tensorflow/tfjs';

/** `f'(a)` from `y = f(a)`, elementwise. */
export type OutputDerivative = (y: tf.Tensor) => tf.Tensor;

const table: Record<string, OutputDerivative> = {
  tanh: (y) => tf.sub(1, tf.square(y)),
  sigmoid: (y) => tf.mul(y, tf.sub(1, y)),
  relu: (y) => tf.step(y),
  hardSigmoid: (y) => tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 1)), 'float32')),
  linear: (y) => tf.onesLike(y),
  elu: (y) => tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)),
  softplus: (y) => tf.sub(1, tf.exp(tf.neg(y))),
  softsign: (y) => tf.square(tf.sub(1, tf.abs(y))),
};

/** The derivative of the activation called `name` through its output, or undefined if it has none. */
export function outputDerivative(name: string): OutputDerivative | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** {@link outputDerivative}, or an error naming the activations that have one. */
export function requireOutputDerivative(where: string, name: string): OutputDerivative {
  const d = outputDerivative(name);
  if (d === undefined) {
    throw new Error(
      `${where}: the hand-derived backward pass knows the derivatives of ${Object.keys(table).join(', ')}; ` +
        `got activation '${name}'`,
    );
  }
  return d;
}
