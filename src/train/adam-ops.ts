/**
 * tfjs's Adam in tf ops, with its numbers made into tensors once per run instead of once per
 * update: the path of {@link applyGradients} where no fused kernel runs (webgpu, webgl, other
 * backends).
 *
 * tfjs's `AdamOptimizer.applyGradients` writes its hyperparameters as numbers into its ops
 * (`mul(m, beta1)`, `add(…, epsilon)`, `sub(1, accBeta1)`): each becomes a new scalar tensor on
 * every update, and on webgpu and webgl every new tensor is an upload from the CPU, a staging
 * buffer and a copy. For a one-layer LSTM with a dense head (14 variables, 6 numbers each) that is
 * 86 uploads a step (counted with `bench/gpu-counters.ts`). {@link adamInOps} runs the same ops in
 * the same order on the same operands, taking the numbers from {@link AdamConstants}, so its
 * results are tfjs's to the bit (test/webgpu.test.ts compares them) and a step uploads none of
 * them:
 *
 * $$m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
 * x \leftarrow x - \eta \, \frac{m / (1 - \hat\beta_1)}{\sqrt{v / (1 - \hat\beta_2)} + \epsilon}$$
 */
import * as tf from '@tensorflow/tfjs';

/** The fields of tfjs 4.22's `AdamOptimizer` that its `applyGradients` works on (private there). */
export interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

/** Scalar tensors by value, each made once and kept until {@link AdamConstants.dispose}. */
export class AdamConstants {
  private readonly scalars = new Map<number, tf.Scalar>();

  /** The float32 scalar `value`, as tfjs makes a number it is given into an operand. */
  of(value: number): tf.Scalar {
    let scalar = this.scalars.get(value);
    if (scalar === undefined || scalar.isDisposed) {
      scalar = tf.keep(tf.scalar(value));
      this.scalars.set(value, scalar);
    }
    return scalar;
  }

  dispose(): void {
    tf.dispose([...this.scalars.values()]);
    this.scalars.clear();
  }
}

/**
 * One update of tfjs 4.22's `AdamOptimizer.applyGradients` (its ops, in its order) with the
 * numbers from `constants`; the moments must exist (`makeMoments`).
 */
export function adamInOps(
  adam: AdamState,
  variables: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  constants: AdamConstants,
): void {
  const c = (value: number) => constants.of(value);
  const { beta1, beta2, epsilon, learningRate } = adam;
  tf.tidy(() => {
    const oneMinusAccBeta1 = tf.sub(c(1), adam.accBeta1);
    const oneMinusAccBeta2 = tf.sub(c(1), adam.accBeta2);
    variables.forEach((value, i) => {
      const m = adam.accumulatedFirstMoment[i].variable;
      const v = adam.accumulatedSecondMoment[i].variable;
      const g = grads[i];
      const newM = tf.add(tf.mul(m, c(beta1)), tf.mul(g, c(1 - beta1)));
      const newV = tf.add(tf.mul(v, c(beta2)), tf.mul(tf.square(g), c(1 - beta2)));
      const mHat = tf.div(newM, oneMinusAccBeta1);
      const vHat = tf.div(newV, oneMinusAccBeta2);
      m.assign(newM);
      v.assign(newV);
      value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), c(epsilon))), c(-learningRate)), value));
    });
    adam.accBeta1.assign(tf.mul(adam.accBeta1, c(beta1)));
    adam.accBeta2.assign(tf.mul(adam.accBeta2, c(beta2)));
  });
  adam.incrementIterations();
}
