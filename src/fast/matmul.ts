/**
 * Matrix products for the recurrent path, fast on every backend.
 *
 * - WASM: tfjs's matMul runs XNNPACK only when neither operand is transposed; with a transposed
 *   operand it falls to a loop about ten times slower. So transposes are done explicitly first,
 *   and the gradient is ours too (tfjs's multiplies transposed operands): the same pair of
 *   products through this function (the LRU's read-out `[16384, 128] × [128, 128]`, forward and
 *   gradients: 610 ms in tfjs's loop).
 * - CPU: tfjs's matMul walks a column of `B` in its innermost loop, 0.1 to 0.7 GFLOP/s here. This
 *   kernel, registered for `cpu`, keeps four rows of the result in flight and streams rows of `B`
 *   (or takes dot products of rows, for `A B^T`), several times faster. Its gradient is the usual
 *   pair of products, through this same function.
 * - Elsewhere: `tf.matMul` as it is.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernel, type CpuBackend } from './kernels.js';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** `C = op(A) op(B)` into a new `[M, N]` array, `op` a transpose where asked (not both). */
function product(
  A: Float32Array,
  B: Float32Array,
  M: number,
  K: number,
  N: number,
  { transposeA, transposeB }: MatMulAttrs,
) {
  const C = new Float32Array(M * N);
  if (transposeB) {
    // C[i, j] = A_i · B_j (rows of A and B; A not transposed): four dot products at a time.
    for (let i = 0; i < M; i++) {
      const ai = i * K;
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        const [b0, b1, b2, b3] = [j * K, (j + 1) * K, (j + 2) * K, (j + 3) * K];
        let [s0, s1, s2, s3] = [0, 0, 0, 0];
        for (let k = 0; k < K; k++) {
          const v = A[ai + k];
          s0 += v * B[b0 + k];
          s1 += v * B[b1 + k];
          s2 += v * B[b2 + k];
          s3 += v * B[b3 + k];
        }
        C[i * N + j] = s0;
        C[i * N + j + 1] = s1;
        C[i * N + j + 2] = s2;
        C[i * N + j + 3] = s3;
      }
      for (; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[ai + k] * B[j * K + k];
        C[i * N + j] = s;
      }
    }
    return C;
  }
  // C_i += A[i, k] B_k (rows of B), four rows of C at a time; A[i, k] read from A or A^T.
  const stepI = transposeA ? 1 : K;
  const stepK = transposeA ? M : 1;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const [c0, c1, c2, c3] = [i * N, (i + 1) * N, (i + 2) * N, (i + 3) * N];
    for (let k = 0; k < K; k++) {
      const p = i * stepI + k * stepK;
      const [a0, a1, a2, a3] = [A[p], A[p + stepI], A[p + 2 * stepI], A[p + 3 * stepI]];
      for (let j = 0, bk = k * N; j < N; j++, bk++) {
        const b = B[bk];
        C[c0 + j] += a0 * b;
        C[c1 + j] += a1 * b;
        C[c2 + j] += a2 * b;
        C[c3 + j] += a3 * b;
      }
    }
  }
  for (; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const a = A[i * stepI + k * stepK];
      for (let j = 0, bk = k * N; j < N; j++, bk++) C[i * N + j] += a * B[bk];
    }
  }
  return C;
}

const matMulCpu: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const [a, b] = [inputs.a as tf.TensorInfo, inputs.b as tf.TensorInfo];
  const t = attrs as unknown as MatMulAttrs;
  const cpu = backend as CpuBackend;
  const [M, K] = t.transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const N = t.transposeB ? b.shape[0] : b.shape[1];
  let A = cpu.data.get(a.dataId).values;
  if (t.transposeA && t.transposeB) {
    // product() takes one transposed operand: lay A out untransposed first (never needed here).
    const At = new Float32Array(M * K);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) At[i * K + k] = A[k * M + i];
    A = At;
  }
  const C = product(A, cpu.data.get(b.dataId).values, M, K, N, { ...t, transposeA: t.transposeA && !t.transposeB });
  return cpu.makeTensorInfo([M, N], 'float32', C);
};

const kernel = ownKernel(
  'TfjsRecurrentMatMul',
  { cpu: matMulCpu },
  {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
      const g = dy as tf.Tensor2D;
      // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC, then undo each op.
      return {
        a: () => (transposeA ? matMul(b, g, transposeB, true) : matMul(g, b, false, !transposeB)),
        b: () => (transposeB ? matMul(g, a, true, transposeA) : matMul(a, g, !transposeA, false)),
      };
    },
  },
);

/**
 * `op(a) op(b)` for rank-2 float32 tensors (`op` a transpose where asked), plus `bias` on every row
 * if given; see the module notes for how each backend runs it.
 */
export function matMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
  bias?: tf.Tensor,
): tf.Tensor2D {
  if (a.rank === 2 && b.rank === 2 && a.dtype === 'float32' && b.dtype === 'float32') {
    const attrs: MatMulAttrs = { transposeA, transposeB };
    const c = kernel.run({ a, b }, attrs) as tf.Tensor2D | null;
    if (c) return bias ? (tf.add(c, bias) as tf.Tensor2D) : c;
  }
  if (tf.getBackend() === 'wasm' && a.rank === 2 && b.rank === 2) {
    // Explicit transposes keep XNNPACK's path, forward and back.
    const c = untransposed(transposeA ? a.transpose() : a, transposeB ? b.transpose() : b);
    return bias ? (tf.add(c, bias) as tf.Tensor2D) : c;
  }
  return bias
    ? (tf.fused.matMul({ a, b, transposeA, transposeB, bias }) as tf.Tensor2D)
    : (tf.matMul(a, b, transposeA, transposeB) as tf.Tensor2D);
}

/** `a b` by tfjs's matMul, its gradient `(dC b^T, a^T dC)` through {@link matMul} (for wasm). */
const untransposed = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor2D, [a0, b0]: tf.Tensor[]) => [matMul(dy, b0, false, true), matMul(a0, dy, true, false)],
  };
});
