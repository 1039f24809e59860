/**
 * The document's output function, the same for every cell:
 *
 * $$y_t = g(W_{yh} h_t + b_y)$$
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_yh` | `[outputSize, units]` | output weights, the document's orientation: `W_yh h_t`, computed as `H W_yh^T` |
 * | `b_y`  | `[outputSize]` | output bias |
 *
 * Shared by the network (`network.ts`) and the `output` layer (`layers/output.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { matMul } from './fast/matmul.js';

/**
 * `y_t = g(W_yh h_t + b_y)` applied along the last axis of `h` (`[batch, time, units]` or
 * `[batch, units]`), with `W_yh: [outputSize, units]`; `y` has `h`'s shape with the last axis
 * `outputSize`.
 */
export function applyOutput<T extends tf.Tensor>(
  h: T,
  W_yh: tf.Tensor,
  b_y: tf.Tensor,
  g: (x: tf.Tensor) => tf.Tensor,
): T {
  return tf.tidy(() => {
    const [outputSize, units] = W_yh.shape;
    const flat = h.reshape([-1, units]) as tf.Tensor2D;
    // Through ./fast/matmul.ts: tfjs-wasm multiplies by a transposed W_yh in a slow loop (LSTM 128,
    // [32, 50, 16] forward on wasm: 5.5 of its ~20 ms).
    const a = matMul(flat, W_yh, false, true, b_y);
    return g(a).reshape([...h.shape.slice(0, -1), outputSize]) as T;
  });
}
