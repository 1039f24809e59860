/**
 * The mean square error's passes (`assembly/loss.ts`, embedded by `./loss-wasm.ts`) on tensors of
 * the cpu or the wasm backend. The module imports its memory: on the wasm backend it is given
 * tfjs-wasm's own, and reads and writes the tensors in place; on the cpu backend (or where
 * tfjs-wasm's memory cannot be shared: its threaded build) an instance with a memory of its own
 * gets copies. In place, the forward pass can also keep the differences for the gradient.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Memory } from '../kernels.js';
import { LOSS_WASM, LOSS_WASM_RELAXED } from './loss-wasm.js';
import { compileBuilds } from './module.js';

interface LossExports {
  squaredErrorSum(y: number, p: number, n: number, e: number): number;
  scaledError(y: number, p: number, n: number, scale: number, out: number): void;
}

/** The passes on the tensors of one backend. */
export interface SquaredError {
  /** $\sum_i \mathrm{fl}_{32}(\mathrm{fl}_{32}(p_i - y_i)^2)$, summed in double precision. */
  sum(y: tf.TensorInfo, p: tf.TensorInfo): number;
  /** `out` ← $s \cdot \mathrm{fl}_{32}(p - y)$ in float32. */
  scaled(y: tf.TensorInfo, p: tf.TensorInfo, s: number, out: tf.TensorInfo): void;
  /**
   * In place only (else null), for float32 labels: {@link sum} that also writes the differences
   * $\mathrm{fl}_{32}(p_i - y_i)$ to `e`, and `out` ← $s \cdot e$ from them.
   */
  kept: {
    sum(y: tf.TensorInfo, p: tf.TensorInfo, e: tf.TensorInfo): number;
    scaled(e: tf.TensorInfo, s: number, out: tf.TensorInfo): void;
  } | null;
}

let compiled: WebAssembly.Module | null | undefined;
const inPlace = new WeakMap<WebAssembly.Memory, LossExports | null>();
let own: { exports: LossExports; memory: WebAssembly.Memory } | null = null;

/** Whether the module runs here (WebAssembly with SIMD); compiled on the first call. */
export function squaredErrorRuns(): boolean {
  if (compiled === undefined) compiled = compileBuilds(LOSS_WASM, LOSS_WASM_RELAXED).compiled;
  return compiled !== null;
}

/** An instance of the module on `memory`, or null where it cannot be instantiated there. */
function instanceOn(memory: WebAssembly.Memory): LossExports | null {
  if (!squaredErrorRuns()) return null;
  try {
    return new WebAssembly.Instance(compiled!, { env: { memory } }).exports as unknown as LossExports;
  } catch {
    return null; // A shared memory (tfjs-wasm's threaded build) does not link to this import.
  }
}

/**
 * The passes on `mem`'s tensors: in place on `heap` (tfjs-wasm's memory, where reachable), else on
 * copies in a memory of the module's own (also for labels that are not float32: the copy converts
 * them). Where {@link squaredErrorRuns}.
 */
export function squaredError(mem: Memory, heap: WebAssembly.Memory | null): SquaredError {
  if (heap && !inPlace.has(heap)) inPlace.set(heap, instanceOn(heap));
  const wasm = heap && inPlace.get(heap);
  if (!wasm) return onCopies(mem);
  const at = (t: tf.TensorInfo) => mem.view(t).byteOffset;
  const floats = (y: tf.TensorInfo) => mem.view(y) instanceof Float32Array;
  const n = (t: tf.TensorInfo) => mem.view(t).length;
  return {
    sum: (y, p) => (floats(y) ? wasm.squaredErrorSum(at(y), at(p), n(p), 0) : onCopies(mem).sum(y, p)),
    scaled: (y, p, s, out) =>
      floats(y) ? wasm.scaledError(at(y), at(p), n(p), s, at(out)) : onCopies(mem).scaled(y, p, s, out),
    kept: {
      sum: (y, p, e) => wasm.squaredErrorSum(at(y), at(p), n(p), at(e)),
      scaled: (e, s, out) => wasm.scaledError(0, at(e), n(e), s, at(out)),
    },
  };
}

/** Where the copies start in the module's own memory: not at 0, which tells `scaledError` there are no labels. */
const Y = 16;

/** The passes on copies of `mem`'s tensors in the module's own memory (grown as needed). */
function onCopies(mem: Memory): SquaredError {
  if (!own) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    own = { exports: instanceOn(memory)!, memory };
  }
  const { exports, memory } = own;
  /** Copies `y` and `p` in (`y` converted to float32) at {@link Y} and past it: their length. */
  const copyIn = (y: tf.TensorInfo, p: tf.TensorInfo) => {
    const n = mem.view(p).length;
    const short = Y + 8 * n - memory.buffer.byteLength;
    if (short > 0) memory.grow(Math.ceil(short / 65536));
    new Float32Array(memory.buffer, Y, n).set(mem.view(y));
    new Float32Array(memory.buffer, Y + 4 * n, n).set(mem.view(p));
    return n;
  };
  return {
    sum: (y, p) => {
      const n = copyIn(y, p);
      return exports.squaredErrorSum(Y, Y + 4 * n, n, 0);
    },
    scaled: (y, p, s, out) => {
      const n = copyIn(y, p);
      exports.scaledError(Y, Y + 4 * n, n, s, Y); // over y's copy, each value read before it is written
      mem.view(out).set(new Float32Array(memory.buffer, Y, n));
    },
    kept: null,
  };
}
