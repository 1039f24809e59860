/**
 * `split` and `unstack` that copy only what they return.
 *
 * On the WASM backend every tfjs slice (and so `tf.split`, `tf.unstack`) first copies the whole
 * input out of the WASM heap into a fresh JavaScript array: unstacking `[50, 32, 512]` into steps
 * copies 50 times 3.2 MB. On the CPU backend a slice across columns walks element by element
 * through index arithmetic. A recurrent step splits its gates and a sequence is cut into steps,
 * so both sit in the hot loop. This kernel, registered for `cpu` and `wasm`, copies each piece
 * once with typed-array row copies (on WASM through views of the heap, as tfjs's own concat
 * does). Its gradient concatenates the pieces' gradients. Other backends use `tf.split`.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernel, type CpuBackend, type WasmBackend } from './kernels.js';

interface SplitAttrs {
  sizes: number[];
  axis: number;
  /** Drop the split axis from the pieces (all of size 1), as `unstack` does. */
  squeeze: boolean;
}

/** Where the pieces of `shape` lie: `outer` rows of `row` values, piece `j` at `starts[j]` in each. */
interface Layout {
  shapes: number[][];
  outer: number;
  row: number;
  starts: number[];
  lengths: number[];
}

function layout(shape: number[], { sizes, axis, squeeze }: SplitAttrs): Layout {
  const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  const inner = product(shape.slice(axis + 1));
  const starts: number[] = [];
  for (let j = 0, at = 0; j < sizes.length; at += sizes[j++] * inner) starts.push(at);
  return {
    shapes: sizes.map((s) =>
      squeeze ? shape.filter((_, i) => i !== axis) : shape.map((d, i) => (i === axis ? s : d)),
    ),
    outer: product(shape.slice(0, axis)),
    row: shape[axis] * inner,
    starts,
    lengths: sizes.map((s) => s * inner),
  };
}

/** Copies piece `j` of `x` into `out`, row by row. */
function copyPiece(
  x: Float32Array,
  out: Float32Array,
  { outer, row, starts, lengths }: Layout,
  j: number,
): Float32Array {
  const [start, len] = [starts[j], lengths[j]];
  for (let r = 0; r < outer; r++) out.set(x.subarray(r * row + start, r * row + start + len), r * len);
  return out;
}

const splitCpu: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const cpu = backend as CpuBackend;
  const values = cpu.data.get(x.dataId).values;
  const l = layout(x.shape, attrs as unknown as SplitAttrs);
  // A contiguous piece is a view of the input, as tfjs's own cpu slice does.
  return l.shapes.map((shape, j) =>
    cpu.makeTensorInfo(
      shape,
      'float32',
      l.outer === 1
        ? values.subarray(l.starts[j], l.starts[j] + l.lengths[j])
        : copyPiece(values, new Float32Array(l.lengths[j] * l.outer), l, j),
    ),
  );
};

const splitWasm: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const wasm = backend as WasmBackend;
  const l = layout(x.shape, attrs as unknown as SplitAttrs);
  const outs = l.shapes.map((shape) => wasm.makeOutput(shape, 'float32'));
  // Views of the heap only after every allocation: an allocation may move the heap.
  const values = wasm.typedArrayFromHeap(x);
  for (let j = 0; j < outs.length; j++) copyPiece(values, wasm.typedArrayFromHeap(outs[j]), l, j);
  return outs;
};

const kernel = ownKernel(
  'TfjsRecurrentSplit',
  { cpu: splitCpu, wasm: splitWasm },
  {
    gradFunc: (dys, _saved, attrs) => {
      const { axis, squeeze } = attrs as unknown as SplitAttrs;
      const grads = Array.isArray(dys) ? dys : [dys]; // one piece: tfjs hands over the tensor itself
      return { x: () => (squeeze ? tf.stack(grads, axis) : tf.concat(grads, axis)) };
    },
  },
);

/** `tf.split(x, sizes, axis)`, copying each piece once (see the module notes). */
export function split(x: tf.Tensor, sizes: number | number[], axis: number): tf.Tensor[] {
  const list = typeof sizes === 'number' ? new Array<number>(sizes).fill(x.shape[axis] / sizes) : sizes;
  return run(x, { sizes: list, axis, squeeze: false }) ?? tf.split(x, list, axis);
}

/** `tf.unstack(x)` along the first axis, copying each step once. */
export function unstack(x: tf.Tensor): tf.Tensor[] {
  const attrs = { sizes: new Array<number>(x.shape[0]).fill(1), axis: 0, squeeze: true };
  // tfjs 4.22's unstack gradient fails for one step (it gets a tensor, not a list): squeeze that.
  return run(x, attrs) ?? (x.shape[0] === 1 ? [tf.squeeze(x, [0])] : tf.unstack(x));
}

/** The kernel's pieces, or null where it does not run (other backends, other dtypes). */
function run(x: tf.Tensor, attrs: SplitAttrs): tf.Tensor[] | null {
  return x.dtype === 'float32' ? (kernel.run({ x }, attrs) as tf.Tensor[] | null) : null;
}
