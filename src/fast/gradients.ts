/**
 * The gradients of a whole-sequence op's inputs once its steps are walked back: every weight
 * gradient as one matMul over the rows of all steps, `dX`, and `dL/d state_0`, each made only
 * when tfjs asks for it (`./kernels.ts`, `customOp`). The steps back are the fast path's
 * (`./sequence.ts`) or a backend's whole-sequence kernel's (`./webgpu-sequence.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../cells/cell.js';
import { matMul } from './matmul.js';

/**
 * What the gradients of the op's inputs are made of once the steps are walked back: the rows of
 * all steps stacked (`dXP`, `dHP` and the operands they meet), the separate gates' `dW_kh`, and
 * `dL/dh_0` (`dL/dc_0`).
 */
export type Walked = {
  X: tf.Tensor2D;
  WxT: tf.Tensor2D;
  /** The rows the per-step matMul saw: `h_0..h_{T-1}` (times the recurrent dropout mask). */
  prevH: tf.Tensor2D;
  dXP: Rows;
  dHP: Rows;
  /** `dW_kh^T` of each separate gate. */
  dSeparate: tf.Tensor2D[];
  carry: Partial<State>;
  hasB: boolean;
  hasBh: boolean;
};

/**
 * A gradient with the rows of all steps stacked (`[T*B, n]`) and, on WebGL, its transpose, made
 * once for the products over all rows ({@link overRows}, {@link columnSum}).
 */
export type Rows = { rows: tf.Tensor2D; transposed?: tf.Tensor2D };

export function rowsOf(m: tf.Tensor2D): Rows {
  return tf.getBackend() === 'webgl' ? { rows: m, transposed: tf.transpose(m) } : { rows: m };
}

/**
 * `A^T D` (`[a, n]`), a product over all rows. On WebGL as `(D^T A)^T`: tfjs's packed matMul with
 * its first operand transposed and the rows as the inner size runs slower (SwiftShader: the LSTM's
 * `dW_h^T`, `dW_x^T` and `db` took 178 ms so, 105 ms with `D^T` made once).
 */
function overRows(A: tf.Tensor2D, D: Rows): tf.Tensor2D {
  return D.transposed ? tf.transpose(matMul(D.transposed, A)) : matMul(A, D.rows, true);
}

/**
 * The column sums of `D` (`[n]`) as a product with ones (`tf.fill`: made on the backend, where
 * `tf.ones` would upload them from JavaScript on a GPU). On WebGL with two columns of ones, the
 * first kept: a product with one column ran slower.
 */
function columnSum(D: Rows): tf.Tensor1D {
  const n = D.rows.shape[0];
  if (D.transposed) return tf.reshape(tf.slice(matMul(D.transposed, tf.fill([n, 2], 1)), [0, 0], [-1, 1]), [-1]);
  return tf.reshape(matMul(tf.fill([1, n], 1), D.rows), [-1]);
}

/**
 * The gradients of the op's inputs, each when tfjs asks for it: every weight gradient as one
 * matMul over all steps, `dX`, and `dh_0` (`dc_0`).
 */
export function inputGradients(w: Walked): (() => tf.Tensor)[] {
  return [
    () => matMul(w.dXP.rows, w.WxT, false, true), // dX
    () => overRows(w.X, w.dXP), // dW_x^T
    ...(w.hasB ? [() => columnSum(w.dXP)] : []), // db
    () => overRows(w.prevH, w.dHP), // dW_h^T
    ...(w.hasBh ? [() => columnSum(w.dHP)] : []), // db_h
    ...w.dSeparate.map((d) => () => d), // dW_kh^T of the separate gates
    () => w.carry.h!, // dh_0
    ...(w.carry.c ? [() => w.carry.c!] : []), // dc_0
  ];
}
