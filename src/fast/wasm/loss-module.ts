/**
 * The mean square error's passes (`assembly/loss.ts`, embedded by `./loss-wasm.ts`) on tensors of
 * the cpu or the wasm backend. The module imports its memory: on the wasm backend it is given
 * tfjs-wasm's own, and reads and writes the tensors in place; on the cpu backend (or where
 * tfjs-wasm's memory cannot be shared: its threaded build) an instance with a memory of its own
 * gets copies.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Memory } from '../kernels.js';
import { LOSS_WASM, LOSS_WASM_RELAXED } from './loss-wasm.js';
import { compileBuilds } from './module.js';

interface LossExports {
  squaredErrorSum(y: number, p: number, n: number, e: number): number;
  scaled(e: number, n: number, scale: number, out: number): void;
}

/** The passes on the tensors of one backend. */
export interface SquaredError {
  /**
   * $\sum_i \mathrm{fl}_{32}(\mathrm{fl}_{32}(p_i - y_i)^2)$, summed in double precision; `e`
   * (where given) gets the differences $\mathrm{fl}_{32}(p_i - y_i)$.
   */
  sum(y: tf.TensorInfo, p: tf.TensorInfo, e?: tf.TensorInfo): number;
  /** `out` ← $s \cdot e$ in float32. */
  scaled(e: tf.TensorInfo, s: number, out: tf.TensorInfo): void;
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
  return {
    sum: (y, p, e) =>
      floats(y) ? wasm.squaredErrorSum(at(y), at(p), mem.view(p).length, e ? at(e) : 0) : onCopies(mem).sum(y, p, e),
    scaled: (e, s, out) => wasm.scaled(at(e), mem.view(e).length, s, at(out)),
  };
}

/** The passes on copies of `mem`'s tensors in the module's own memory (grown as needed). */
function onCopies(mem: Memory): SquaredError {
  if (!own) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    own = { exports: instanceOn(memory)!, memory };
  }
  const { exports, memory } = own;
  /** Room for `n` values twice; their byte offsets (neither 0, which tells the module "none"). */
  const room = (n: number) => {
    const short = 16 + 8 * n - memory.buffer.byteLength;
    if (short > 0) memory.grow(Math.ceil(short / 65536));
    return [16, 16 + 4 * n];
  };
  const copy = (values: ArrayLike<number>, at: number) =>
    new Float32Array(memory.buffer, at, values.length).set(values);
  return {
    // `y` converted to float32 by the copy; the differences written over it, each value read first.
    sum: (y, p, e) => {
      const n = mem.view(p).length;
      const [atY, atP] = room(n);
      copy(mem.view(y), atY);
      copy(mem.view(p), atP);
      const sum = exports.squaredErrorSum(atY, atP, n, e ? atY : 0);
      if (e) mem.view(e).set(new Float32Array(memory.buffer, atY, n));
      return sum;
    },
    scaled: (e, s, out) => {
      const n = mem.view(e).length;
      const [at] = room(n);
      copy(mem.view(e), at);
      exports.scaled(at, n, s, at);
      mem.view(out).set(new Float32Array(memory.buffer, at, n));
    },
  };
}
