/**
 * Kernels that tfjs-backend-wasm 4.22 lacks and recurrent models need, registered for `wasm` when
 * the package is imported (unless a kernel of that name is there already):
 *
 * - `UnsortedSegmentSum`, the gradient of `tf.gather` and so of every `tf.layers.embedding`:
 *   without it no text model trains on wasm ("Kernel 'UnsortedSegmentSum' not registered").
 *   `out[s, …] = Σ_{i: ids[i] = s} x[i, …]`; ids outside `[0, numSegments)` are dropped, as in
 *   TensorFlow.
 */
import * as tf from '@tensorflow/tfjs';

/** The part of the WASM backend these kernels touch: tensors as views of the module's heap. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

const unsortedSegmentSum: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const heap = backend as unknown as WasmHeap;
  const x = inputs.x as tf.TensorInfo;
  const ids = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const inner = x.shape.slice(ids.shape.length).reduce((a, b) => a * b, 1);
  const out = heap.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], x.dtype);
  const values = heap.typedArrayFromHeap(x);
  const segments = heap.typedArrayFromHeap(ids);
  const sums = heap.typedArrayFromHeap(out);
  sums.fill(0);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s < 0 || s >= numSegments) continue;
    const from = i * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) sums[to + j] += values[from + j];
  }
  return out;
};

/** Registers the kernels above for `wasm` where tfjs has none. */
export function registerWasmKernels(): void {
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
  }
}
