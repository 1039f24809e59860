/**
 * What `rt.train` reads after differentiating a step, before it updates anything: the loss, and
 * $\sum_p \sum 0 \cdot g_p$ over the gradients, which is NaN exactly when some gradient entry is
 * not finite (0 · ±∞ and 0 · NaN are NaN) and 0 otherwise. Both in one tensor, so one read.
 *
 * Written with tfjs ops that is two kernels per gradient and a few more; on cpu and wasm, where a
 * small network's step is mostly kernel dispatch, it is one kernel, `TfjsRecurrentProbe`, with the
 * same result.
 */
import * as tf from '@tensorflow/tfjs';
import { hostMemory, ownKernel } from '../fast/kernels.js';
import { sum } from '../sum.js';

/** `Σ 0 · g` over `values`: NaN exactly when some entry is not finite, else 0. */
export function zeroProbe(values: ArrayLike<number>): number {
  let zero = 0;
  for (let j = 0; j < values.length; j++) zero += 0 * values[j];
  return zero;
}

/** `[loss, Σ 0 · g]` from the values of the loss and the gradients. */
function probe(loss: Float32Array, grads: Float32Array[], out: Float32Array): void {
  out[0] = loss[0];
  out[1] = grads.reduce((zero, g) => zero + zeroProbe(g), 0);
}

const names = (count: number) => Array.from({ length: count }, (_, i) => `g${i}`);

/** The probe on the cpu or the wasm backend. */
const probeKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const mem = hostMemory(backend);
  const [out] = mem.outputs([[2]]);
  const values = (name: string) => mem.view(inputs[name] as tf.TensorInfo);
  probe(values('loss'), names((attrs as { count: number }).count).map(values), mem.view(out));
  return out;
};

const kernel = ownKernel('TfjsRecurrentProbe', { cpu: probeKernel, wasm: probeKernel });

/** `[loss, 0 or NaN]`, a new tensor of shape [2] (see the module notes); `loss` is a scalar. */
export function lossAndProbe(loss: tf.Tensor, grads: readonly tf.Tensor[]): tf.Tensor1D {
  const inputs: tf.NamedTensorMap = { loss };
  grads.forEach((g, i) => (inputs[`g${i}`] = g));
  const fused = kernel.run(inputs, { count: grads.length }) as tf.Tensor1D | null;
  // The zero made on the backend (`tf.fill`): a number in `tf.mul` is a tensor made in JavaScript,
  // an upload per gradient on a GPU.
  return (
    fused ??
    tf.tidy(() => {
      const zero = tf.fill([], 0);
      return tf.stack([loss, sum(grads.map((g) => tf.sum(tf.mul(g, zero))))]) as tf.Tensor1D;
    })
  );
}
