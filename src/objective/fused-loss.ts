/**
 * Our losses (`./loss.ts`) as one kernel forward and one for the gradient (`mse` on the cpu and
 * wasm backends, the cross-entropies on cpu: see {@link KERNELS}), in place of the handful of tf
 * ops each (and their gradients) of the readable form in `./loss-ops.ts`, which still runs elsewhere.
 * Each reads the tensors' values in one pass, summing in double precision: `mse` in WebAssembly SIMD
 * (`src/fast/wasm/loss-module.ts`: in place in tfjs-wasm's heap, on copies for the cpu backend), the
 * cross-entropies in JavaScript on the cpu backend's typed arrays. `mse` rounds to float32 where
 * tfjs's ops store a value (the difference, its square, the sum; `dy / n` in the gradient), as
 * `src/train/fused-step.ts` does, so that training through either gives the same losses; the
 * cross-entropies round only their results. The values and gradients are those of
 * `./loss-ops.ts`'s notes; the cross-entropies take each row's largest logit out before `log Σ_k e^{ŷ_k}`,
 * and a sparse label is truncated to an integer (as `tf.cast` does; an index outside `[0, K)` gives
 * a zero row, as `tf.oneHot` does). The gradient with respect to the labels, asked for only where
 * they are differentiated, is in tf ops.
 */
import * as tf from '@tensorflow/tfjs';
import { hostMemory, ownKernel, wasmHeap, type Memory } from '../fast/kernels.js';
import { squaredError, squaredErrorRuns } from '../fast/wasm/loss-module.js';
import { crossEntropyLabelGradient, fitsLoss, type OurLossName } from './loss-ops.js';

const CODES: Record<OurLossName, number> = { mse: 0, softmaxCrossEntropy: 1, sparseSoftmaxCrossEntropy: 2 };
const [MSE, SPARSE] = [CODES.mse, CODES.sparseSoftmaxCrossEntropy];

type Values = ArrayLike<number>;

/** Rounding to float32, where tfjs's ops store a value. */
const f = Math.fround;

/** The largest of the K logits of row `r`. */
function rowMax(p: Values, r: number, K: number): number {
  let max = -Infinity;
  for (let k = r * K; k < (r + 1) * K; k++) max = Math.max(max, p[k]);
  return max;
}

/** `log Σ_k e^{p_k}` over the K logits of row `r`, its largest one taken out first. */
function logSumExp(p: Values, r: number, K: number): number {
  const max = rowMax(p, r, K);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let k = r * K; k < (r + 1) * K; k++) sum += Math.exp(p[k] - max);
  return max + Math.log(sum);
}

/** The cross-entropy `code` of labels `y` and predictions `p` (`K` classes a row). */
function crossEntropy(code: number, y: Values, p: Values, K: number): number {
  const R = p.length / K;
  let sum = 0;
  for (let r = 0; r < R; r++) {
    const lse = logSumExp(p, r, K);
    if (code === SPARSE) {
      const c = Math.trunc(y[r]);
      if (c >= 0 && c < K) sum += p[r * K + c] - lse;
    } else {
      for (let k = r * K; k < (r + 1) * K; k++) sum += y[k] * (p[k] - lse);
    }
  }
  return -sum / R;
}

/** `dL/dp` of the cross-entropy `code`, times the upstream gradient `dy`, into `out`. */
function crossEntropyGradient(code: number, y: Values, p: Values, K: number, dy: number, out: Float32Array): void {
  const R = p.length / K;
  const scale = dy / R;
  for (let r = 0; r < R; r++) {
    const [at, max] = [r * K, rowMax(p, r, K)];
    // softmax(p_r) = e^{p_r - max} / Σ e^{p_r - max}, the exponentials kept in `out` meanwhile.
    let sum = 0;
    for (let k = at; k < at + K; k++) sum += out[k] = Math.exp(p[k] - max);
    if (code === SPARSE) {
      const c = Math.trunc(y[r]);
      const inRange = c >= 0 && c < K;
      for (let k = 0; k < K; k++) out[at + k] = inRange ? scale * (out[at + k] / sum - (k === c ? 1 : 0)) : 0;
    } else {
      let total = 0;
      for (let k = at; k < at + K; k++) total += y[k];
      for (let k = at; k < at + K; k++) out[k] = scale * ((total * out[k]) / sum - y[k]);
    }
  }
}

/** The mean square's passes on the tensors of `mem`, the kernel's `backend`. */
const squaredErrorOf = (mem: Memory, backend: object) => squaredError(mem, wasmHeap(backend));

/**
 * What the mean square's forward leaves its gradient where tfjs records gradients: the
 * differences `e = fl32(p - y)`, in data of the backend's that tfjs does not track (made before
 * the kernel runs, freed after the gradient or, where none comes, once `Held` is collected).
 * tfjs's own way, inputs to save, copies `y` and `p` on wasm (an `Identity` kernel each: 2.5 ms
 * of minGRU's ~37 ms training step at `[32, 512, 128]` outputs); the gradient then reads half as much.
 */
interface Held {
  e: tf.TensorInfo;
  backend: tf.KernelBackend;
}

interface Attrs {
  code: number;
  classes: number;
  /** Present for the mean square where tfjs records gradients: its forward fills `e`. */
  held?: Held;
}

/** Frees the differences a mean square kept (once). */
function release({ e, backend }: Held): void {
  backend.disposeData(e.dataId, true);
}

/** Frees the differences of forwards whose gradient never ran. */
const unconsumed = new FinalizationRegistry<Held>(release);

/** `dL/dp` on the cpu or the wasm backend: inputs `y`, `p` and the upstream gradient `dy` (a scalar). */
const gradientKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { y, p, dy } = inputs as Record<string, tf.TensorInfo>;
  const { code, classes } = attrs as unknown as Attrs;
  const mem = hostMemory(backend);
  const [out] = mem.outputs([[...p.shape]]);
  // Views of the inputs after the output is made (on wasm a new output may move the heap).
  const upstream = mem.view(dy)[0];
  if (code === MSE) {
    squaredErrorOf(mem, backend).scaled(y, p, 2 * f(upstream / mem.view(p).length), out);
  } else {
    crossEntropyGradient(code, mem.view(y), mem.view(p), classes, upstream, mem.view(out));
  }
  return out;
};

const gradient = ownKernel('TfjsRecurrentLossGrad', { cpu: gradientKernel, wasm: gradientKernel });

/** The loss on the cpu or the wasm backend: inputs `y` and `p`, a scalar out. */
const forwardKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { y, p } = inputs as Record<string, tf.TensorInfo>;
  const { code, classes, held } = attrs as unknown as Attrs;
  const mem = hostMemory(backend);
  const n = mem.view(p).length;
  const squares = () => {
    const passes = squaredErrorOf(mem, backend);
    return held ? passes.kept!.sum(y, p, held.e) : passes.sum(y, p);
  };
  const value = code === MSE ? f(f(squares()) / n) : crossEntropy(code, mem.view(y), mem.view(p), classes);
  const [out] = mem.outputs([[]]);
  mem.view(out)[0] = value;
  return out;
};

/**
 * The gradient of the loss kernels that keep their inputs (tfjs saves them: on cpu without a copy):
 * `dL/dp` by our kernel, `dL/dy` (where asked) as the module notes say.
 */
const lossGradients: Omit<tf.GradConfig, 'kernelName'> = {
  inputsToSave: ['y', 'p'],
  gradFunc: (dy, saved, attrs) => {
    const [y, p] = saved;
    const { code } = attrs as unknown as Attrs;
    const dp = () => gradient.run({ y, p, dy: dy as tf.Tensor }, attrs)! as tf.Tensor;
    const dLabels = (): tf.Tensor => {
      if (code === MSE) return tf.neg(dp());
      if (code === SPARSE) return tf.zerosLike(y);
      return crossEntropyLabelGradient(tf.sub(p, tf.logSumExp(p, -1, true)), dy as tf.Tensor, p);
    };
    return { y: dLabels, p: dp };
  },
};

/**
 * `dL/dp = 2 fl32(dy / n) e` from the differences a mean square's forward kept ({@link Held}), or
 * its negation `dL/dy` (`sign` -1): input the upstream gradient `dy` (a scalar).
 */
const squaredErrorGradientKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { held, sign } = attrs as unknown as { held: Held; sign: number };
  const mem = hostMemory(backend);
  const [out] = mem.outputs([[...held.e.shape]]);
  const s = 2 * f(mem.view(inputs.dy as tf.TensorInfo)[0] / mem.view(held.e).length);
  squaredErrorOf(mem, backend).kept!.scaled(held.e, sign * s, out);
  return out;
};

const squaredErrorGradient = ownKernel('TfjsRecurrentMseGrad', { wasm: squaredErrorGradientKernel });

/**
 * The mean square's gradient: `dL/dp` and `dL/dy = -dL/dp` by our kernel. tfjs asks in the inputs'
 * order, `y` first where at all; the differences are freed after `p`'s.
 */
const squaredErrorGradients: Omit<tf.GradConfig, 'kernelName'> = {
  gradFunc: (dy, _saved, attrs) => {
    const held = (attrs as unknown as Attrs).held!;
    const gradient = (sign: number) => squaredErrorGradient.run({ dy: dy as tf.Tensor }, { held, sign }) as tf.Tensor;
    return {
      y: () => gradient(-1),
      p: () => {
        const dp = gradient(1);
        unconsumed.unregister(held);
        release(held);
        return dp;
      },
    };
  },
};

/**
 * The mean square on cpu and wasm; the cross-entropies on cpu only: on wasm tfjs's own kernels
 * for them are as fast (`[32, 64, 65]`, value and gradient: 5.5–5.8 ms ours, 4.5–5.6 ms theirs).
 * The mean square of float32 labels where it runs in place in tfjs-wasm's heap keeps its
 * differences ({@link Held}); elsewhere tfjs saves `y` and `p` (on cpu without copying them).
 */
const KERNELS = {
  mse: ownKernel('TfjsRecurrentMse', { cpu: forwardKernel, wasm: forwardKernel }, lossGradients),
  mseInPlace: ownKernel('TfjsRecurrentMseInPlace', { wasm: forwardKernel }, squaredErrorGradients),
  crossEntropy: ownKernel('TfjsRecurrentCrossEntropy', { cpu: forwardKernel }, lossGradients),
};

/** Whether the mean square of `y` keeps its differences: float32 labels, in place in tfjs-wasm's heap. */
function keepsDifferences(y: tf.Tensor): boolean {
  const backend = tf.backend();
  return (
    y.dtype === 'float32' && KERNELS.mseInPlace.runs() && squaredErrorOf(hostMemory(backend), backend).kept !== null
  );
}

/**
 * The loss `name` of labels `y` and predictions `p` as our kernel, or null where it does not run
 * (a backend other than cpu and wasm, or wasm for the cross-entropies; shapes or predictions that
 * {@link fitsLoss} refuses; for `mse`, no WebAssembly SIMD); the caller then runs the tf ops.
 */
export function fusedLoss(name: OurLossName, y: tf.Tensor, p: tf.Tensor): tf.Scalar | null {
  if (!fitsLoss(name, y, p) || (name === 'mse' && !squaredErrorRuns())) return null;
  const attrs = { code: CODES[name], classes: name === 'mse' ? 1 : p.shape[p.rank - 1] };
  if (name !== 'mse') return KERNELS.crossEntropy.run({ y, p }, attrs) as tf.Scalar | null;
  if (!keepsDifferences(y)) return KERNELS.mse.run({ y, p }, attrs) as tf.Scalar | null;
  if (!tf.engine().isTapeOn()) return KERNELS.mseInPlace.run({ y, p }, attrs) as tf.Scalar;
  // The differences' data, made outside the kernel (tfjs counts a kernel's data as its outputs).
  const backend = tf.backend();
  const [e] = hostMemory(backend).outputs([[...p.shape]]);
  const held: Held = { e, backend };
  unconsumed.register(held, { e, backend }, held);
  return KERNELS.mseInPlace.run({ y, p }, { ...attrs, held }) as tf.Scalar;
}
