/**
 * Gradient clipping, applied to the gradients of one update before the optimizer sees them.
 *
 * - `clipValue: v` clips every entry to `[-v, v]`.
 * - `clipNorm: c` rescales all gradients together when their global norm
 *   $\|g\| = \sqrt{\sum_p \|g_p\|^2}$ exceeds c: $g_p \leftarrow g_p \cdot c / \max(\|g\|, c)$
 *   (Pascanu et al. 2013). The direction of the update is kept; tfjs's optimizers have no
 *   equivalent.
 *
 * With both, values are clipped first, so the global norm bound holds for what is applied.
 */
import * as tf from '@tensorflow/tfjs';
import { sum } from '../sum.js';

export interface ClipOptions {
  clipNorm?: number;
  clipValue?: number;
}

/** The global norm of a set of gradients, `sqrt(Σ_p ||g_p||^2)`. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(sum(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * The clipped gradients (new tensors; the inputs are left alone), or with neither option the
 * gradients themselves.
 */
export function clipGradients(grads: readonly tf.Tensor[], { clipNorm, clipValue }: ClipOptions): tf.Tensor[] {
  if (clipNorm === undefined && clipValue === undefined) return [...grads];
  return tf.tidy(() => {
    let out = grads.map((g) => (clipValue === undefined ? g : tf.clipByValue(g, -clipValue, clipValue)));
    if (clipNorm !== undefined) {
      const scale = tf.div(clipNorm, tf.maximum(globalNorm(out), clipNorm));
      out = out.map((g) => tf.mul(g, scale));
    }
    return out;
  });
}
