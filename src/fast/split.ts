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

const KERNEL = 'TfjsRecurrentSplit';

interface SplitAttrs {
  sizes: number[];
  axis: number;
  /** Drop the split axis from the pieces (all of size 1), as `unstack` does. */
  squeeze: boolean;
}

/** The parts of the CPU and WASM backends the kernel uses. */
interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** The pieces of `shape` split by `attrs`: their shapes, and a row-by-row copy of piece `j`. */
function pieces(shape: number[], { sizes, axis, squeeze }: SplitAttrs) {
  const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const row = shape[axis] * inner;
  const starts = sizes.map((_, j) => product([sizes.slice(0, j).reduce((a, b) => a + b, 0), inner]));
  return {
    shapes: sizes.map((s) =>
      squeeze ? shape.filter((_, i) => i !== axis) : shape.map((d, i) => (i === axis ? s : d)),
    ),
    /** Piece `j` as a view of `x`, when it is one contiguous block. */
    view: (j: number, x: Float32Array) => (outer === 1 ? x.subarray(starts[j], starts[j] + sizes[j] * inner) : null),
    copy(j: number, x: Float32Array, out: Float32Array) {
      const len = sizes[j] * inner;
      if (outer === 1) return (out.set(x.subarray(starts[j], starts[j] + len)), out);
      // Short rows: a plain loop beats a subarray (an allocation) per row.
      for (let r = 0, o = 0; r < outer; r++) {
        for (let i = r * row + starts[j], end = i + len; i < end; i++) out[o++] = x[i];
      }
      return out;
    },
  };
}

const splitCpu: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const cpu = backend as CpuBackend;
  const values = cpu.data.get(x.dataId).values;
  const p = pieces(x.shape, attrs as unknown as SplitAttrs);
  return p.shapes.map((shape, j) =>
    cpu.makeTensorInfo(
      shape,
      'float32',
      p.view(j, values) ?? p.copy(j, values, new Float32Array(tf.util.sizeFromShape(shape))),
    ),
  );
};

const splitWasm: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const wasm = backend as WasmBackend;
  const p = pieces(x.shape, attrs as unknown as SplitAttrs);
  const outs = p.shapes.map((shape) => wasm.makeOutput(shape, 'float32'));
  // Views of the heap only after every allocation: an allocation may move the heap.
  const values = wasm.typedArrayFromHeap(x);
  outs.forEach((out, j) => p.copy(j, values, wasm.typedArrayFromHeap(out)));
  return outs;
};

let registered = false;
function register(): void {
  registered = true;
  tf.registerKernel({ kernelName: KERNEL, backendName: 'cpu', kernelFunc: splitCpu });
  tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: splitWasm });
  tf.registerGradient({
    kernelName: KERNEL,
    gradFunc: (dys, _saved, attrs) => {
      const { axis, squeeze } = attrs as unknown as SplitAttrs;
      const grads = Array.isArray(dys) ? dys : [dys]; // one piece: tfjs hands over the tensor itself
      return { x: () => (squeeze ? tf.stack(grads, axis) : tf.concat(grads, axis)) };
    },
  });
}

/** `tf.split(x, sizes, axis)`, copying each piece once (see the module notes). */
export function split(x: tf.Tensor, sizes: number | number[], axis: number): tf.Tensor[] {
  const list = typeof sizes === 'number' ? new Array<number>(sizes).fill(x.shape[axis] / sizes) : sizes;
  return run(x, { sizes: list, axis, squeeze: false }) ?? tf.split(x, list, axis);
}

/** `tf.unstack(x)` along the first axis, copying each step once. */
export function unstack(x: tf.Tensor): tf.Tensor[] {
  return run(x, { sizes: new Array<number>(x.shape[0]).fill(1), axis: 0, squeeze: true }) ?? tf.unstack(x);
}

/** The kernel's pieces, or null where it does not run (other backends, other dtypes). */
function run(x: tf.Tensor, attrs: SplitAttrs): tf.Tensor[] | null {
  if (!registered && !tf.getKernel(KERNEL, 'cpu')) register();
  if (x.dtype !== 'float32' || !tf.getKernel(KERNEL, tf.getBackend())) return null;
  return tf.engine().runKernel(KERNEL, { x }, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
