/**
 * The linear recurrence `s_t = a_t ⊙ s_{t-1} + b_t` from `s_0` over a whole sequence as one
 * kernel of ours, on `cpu` and `wasm`: one pass over the values in JavaScript, `O(T·batch·units)`
 * work and no per-step dispatch (on a few cores that beats any parallel form). `a` is
 * `[T, 1 or batch, units]`, `b` is `[T, batch, units]`, `s_0` is `[batch, units]`; complex values
 * (the LRU's) are `[Re, Im]` halves of the last axis. `reverse` runs from the last step to the
 * first.
 *
 * Its gradient is the same kernel, backwards: with `g_t = dL/ds_t` in all, `g_t = dy_t +
 * conj(a_{t+1}) ⊙ g_{t+1}` (a recurrence of the same form, reversed, from 0), `dL/db_t = g_t`,
 * `dL/da_t = g_t ⊙ conj(s_{t-1})` (summed over the batch where `a` is shared) and
 * `dL/ds_0 = conj(a_1) ⊙ g_1`.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernel, type CpuBackend, type WasmBackend } from './kernels.js';
import { split } from './split.js';

interface ScanAttrs {
  complex: boolean;
  reverse: boolean;
}

/** The recurrence over typed arrays of the layouts above, into `out`. */
function recur([a, b, s0, out]: Float32Array[], shape: number[], aRows: number, { complex, reverse }: ScanAttrs): void {
  const [T, batch, units] = shape;
  const row = batch * units;
  const half = units / 2;
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    // The state before: s_0, or the previous step's row of `out`.
    const [prev, p0] = k === 0 ? [s0, 0] : [out, (reverse ? t + 1 : t - 1) * row];
    for (let n = 0; n < batch; n++) {
      const at = (t * aRows + (aRows === 1 ? 0 : n)) * units;
      const bt = t * row + n * units;
      const pt = p0 + n * units;
      if (!complex) {
        for (let j = 0; j < units; j++) out[bt + j] = a[at + j] * prev[pt + j] + b[bt + j];
        continue;
      }
      for (let j = 0; j < half; j++) {
        const [ar, ai, sr, si] = [a[at + j], a[at + half + j], prev[pt + j], prev[pt + half + j]];
        out[bt + j] = ar * sr - ai * si + b[bt + j];
        out[bt + half + j] = ar * si + ai * sr + b[bt + half + j];
      }
    }
  }
}

type Inputs = { a: tf.TensorInfo; b: tf.TensorInfo; s0: tf.TensorInfo };

const scanCpu: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { a, b, s0 } = inputs as Inputs;
  const cpu = backend as CpuBackend;
  const out = new Float32Array(b.shape.reduce((x, y) => x * y, 1));
  const values = [a, b, s0].map((t) => cpu.data.get(t.dataId).values);
  recur([...values, out], b.shape, a.shape[1], attrs as unknown as ScanAttrs);
  return cpu.makeTensorInfo(b.shape, 'float32', out);
};

const scanWasm: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { a, b, s0 } = inputs as Inputs;
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(b.shape, 'float32');
  // Views of the heap only after every allocation: an allocation may move the heap.
  const views = [a, b, s0, out].map((t) => wasm.typedArrayFromHeap(t));
  recur(views, b.shape, a.shape[1], attrs as unknown as ScanAttrs);
  return out;
};

/** `v ⊙ conj(w)`, or `v ⊙ w` for real values (complex as `[Re, Im]` halves of the last axis). */
function timesConj(v: tf.Tensor, w: tf.Tensor, complex: boolean): tf.Tensor {
  if (!complex) return tf.mul(v, w);
  const axis = v.rank - 1;
  const [vr, vi] = split(v, 2, axis);
  const [wr, wi] = split(w, 2, w.rank - 1);
  return tf.concat([tf.add(tf.mul(vr, wr), tf.mul(vi, wi)), tf.sub(tf.mul(vi, wr), tf.mul(vr, wi))], axis);
}

/** `conj(v)` (complex as `[Re, Im]` halves of the last axis), or `v` for real values. */
function conj(v: tf.Tensor, complex: boolean): tf.Tensor {
  if (!complex) return v;
  const [re, im] = split(v, 2, v.rank - 1);
  return tf.concat([re, tf.neg(im)], -1);
}

/** The first step in processing order and the others: `[v_1, v_2..T]` (reversed: `[v_T, v_1..T-1]`). */
function firstAndRest(v: tf.Tensor, reverse: boolean): [tf.Tensor, tf.Tensor | null] {
  const T = v.shape[0];
  if (T === 1) return [v, null];
  const [x, y] = split(v, reverse ? [T - 1, 1] : [1, T - 1], 0);
  return reverse ? [y, x] : [x, y];
}

/** `[first, ...rest]` in processing order (reversed: `[...rest, first]`). */
function withFirst(first: tf.Tensor, rest: tf.Tensor | null, reverse: boolean): tf.Tensor {
  if (rest === null) return first;
  return tf.concat(reverse ? [rest, first] : [first, rest]);
}

const kernel = ownKernel(
  'TfjsRecurrentLinearScan',
  { cpu: scanCpu, wasm: scanWasm },
  {
    inputsToSave: ['a', 's0'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [a, s0, s] = saved;
      const { complex, reverse } = attrs as unknown as ScanAttrs;
      // g runs back from the last step: at step t it is carried by conj(a_{t+1}) (0 after the last).
      const [a1, aRest] = firstAndRest(a, reverse);
      const carried = withFirst(tf.zerosLike(a1), aRest && conj(aRest, complex), !reverse);
      // Computed once, here: tfjs runs each input's gradient function in a scope of its own.
      const G = runScan(carried, dy as tf.Tensor, tf.zerosLike(s0), { complex, reverse: !reverse })!;
      return {
        b: () => G,
        a: () => {
          // s_{t-1} at step t: s_0 at the first step, then every state but the last.
          const before = withFirst(s0.expandDims(0), firstAndRest(s, !reverse)[1], reverse);
          const da = timesConj(G, before, complex);
          return a.shape[1] === 1 && da.shape[1] !== 1 ? tf.sum(da, 1, true) : da;
        },
        s0: () => timesConj(firstAndRest(G, reverse)[0], a1, complex).reshape(s0.shape),
      };
    },
  },
);

function runScan(a: tf.Tensor, b: tf.Tensor, s0: tf.Tensor, attrs: ScanAttrs): tf.Tensor | null {
  return kernel.run({ a, b, s0 }, attrs) as tf.Tensor | null;
}

/**
 * `s_t = a_t ⊙ s_{t-1} + b_t` from `s0` for every step, as this kernel, or null where the current
 * backend has none (or `a` is not `[T, 1 or batch, units]`).
 */
export function linearScanKernel(a: tf.Tensor, b: tf.Tensor, s0: tf.Tensor, complex: boolean): tf.Tensor | null {
  const [T, batch, units] = b.shape;
  const fits = a.shape[0] === T && (a.shape[1] === 1 || a.shape[1] === batch) && a.shape[2] === units;
  const float = [a, b, s0].every((t) => t.dtype === 'float32');
  return fits && float ? runScan(a, b, s0, { complex, reverse: false }) : null;
}
