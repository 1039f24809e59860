/**
 * The whole-sequence kernels' WebAssembly module (`assembly/sequence.ts`, embedded by
 * `./sequence-wasm.ts`), instantiated once on first use, and the arena its arrays live in.
 *
 * The kernels work on their own memory: the values of a call are copied in (padded to whole
 * SIMD lanes, see {@link Arena.put}) and the results copied out. Next to a sequence's
 * arithmetic these copies are small. In Node that memory is shared with helper threads
 * (`./threads.ts`) that take their part of each large product.
 */
import { isNode } from '../../lazy-import.js';
import {
  SEQUENCE_WASM,
  SEQUENCE_WASM_RELAXED,
  SEQUENCE_WASM_THREADS,
  SEQUENCE_WASM_THREADS_RELAXED,
} from './sequence-wasm.js';
import { setThreads } from './threads.js';

type Fn = (...args: number[]) => void;

/** What each of our modules exports besides its kernels: its memory, and where the caller's arrays may start. */
export interface ModuleExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
}

/** The kernels the module exports (see `assembly/sequence.ts` for their arguments). */
export interface SequenceExports extends ModuleExports {
  elmanForward: Fn;
  elmanBackward: Fn;
  lstmForward: Fn;
  lstmBackward: Fn;
  gruForward: Fn;
  gruBackward: Fn;
  /** Splits the large jobs over `n` threads (helpers 1 to n - 1 in `serve`); 1 in the other builds. */
  setParts(n: number): void;
  /** A helper's loop (threaded build only): serves part `p` of every split job, for good. */
  serve(p: number): void;
  /** How many parts of jobs the helpers have run (0 in the other builds). */
  served(): number;
}

/** Pages of the threaded build's shared memory at most (`--maximumMemory` of `scripts/build-wasm.ts`). */
const SHARED_PAGES = 16384;

let compiled: WebAssembly.Module | null | undefined;
let build: 'relaxed SIMD' | 'SIMD' | null = null;
let shared: SequenceExports | null | undefined;

/**
 * A new instance of the module, with its own memory, or null where WebAssembly SIMD is
 * unavailable. The build with relaxed SIMD's fused multiply-add where the runtime validates it
 * (Node 22, Chrome 114 and later), else the plain SIMD build. Compiled once, synchronously: the
 * module is a few kilobytes.
 */
export function newSequenceInstance(): SequenceExports | null {
  if (compiled === undefined) ({ compiled, build } = compileBuilds(SEQUENCE_WASM, SEQUENCE_WASM_RELAXED));
  return compiled && (new WebAssembly.Instance(compiled, {}).exports as unknown as SequenceExports);
}

/**
 * One of our modules from its two builds (base64): the one with relaxed SIMD's fused multiply-add
 * where the runtime validates it, else the plain SIMD one; null where WebAssembly SIMD is
 * unavailable.
 */
export function compileBuilds(
  plain: string,
  relaxed: string,
): { compiled: WebAssembly.Module | null; build: 'relaxed SIMD' | 'SIMD' | null } {
  const bytes = (base64: string) => Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const withFma = bytes(relaxed);
  try {
    const fma = WebAssembly.validate(withFma);
    return { compiled: new WebAssembly.Module(fma ? withFma : bytes(plain)), build: fma ? 'relaxed SIMD' : 'SIMD' };
  } catch {
    return { compiled: null, build: null };
  }
}

/** Which build the kernels run (null before the first use, or where WebAssembly SIMD is unavailable). */
export function sequenceModuleBuild(): 'relaxed SIMD' | 'SIMD' | null {
  return build;
}

/**
 * The instance the whole-sequence kernels share (each call fills its memory anew), or null (see
 * {@link newSequenceInstance}): in Node, the threaded build on a shared memory, its helper
 * threads starting in the background ({@link setThreads}).
 */
export function sequenceModule(): SequenceExports | null {
  if (shared === undefined) shared = threadedInstance() ?? newSequenceInstance();
  return shared;
}

/** The threaded build's instance on a new shared memory, or null where Node's worker threads cannot help. */
function threadedInstance(): SequenceExports | null {
  if (!isNode() || typeof SharedArrayBuffer === 'undefined') return null;
  const threaded = compileBuilds(SEQUENCE_WASM_THREADS, SEQUENCE_WASM_THREADS_RELAXED);
  if (!threaded.compiled) return null;
  const module = threaded.compiled;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_PAGES, shared: true });
  const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SequenceExports;
  build = threaded.build;
  void setThreads({ module, memory, setParts: (n) => wasm.setParts(n) });
  return wasm;
}

/** `n` rounded up to whole f32x4 lanes. */
export const lanes = (n: number): number => Math.ceil(n / 4) * 4;

/** The most bytes any {@link Arena} has held since {@link resetArenaPeak} (for memory benchmarks). */
let arenaPeak = 0;

/** The most bytes one call of our kernels has held in a module's memory since the last reset. */
export function arenaPeakBytes(): number {
  return arenaPeak;
}

export function resetArenaPeak(): void {
  arenaPeak = 0;
}

/**
 * Arrays in the module's memory for one call: {@link alloc} hands out 16-byte aligned blocks
 * from the module's heap base on, growing the memory as needed.
 */
export class Arena {
  private top: number;

  constructor(private readonly wasm: ModuleExports) {
    this.top = wasm.heapBase();
  }

  /** A block of `n` floats (zeros not guaranteed); its byte offset. */
  alloc(n: number): number {
    const at = Math.ceil(this.top / 16) * 16;
    this.top = at + Math.max(n, 1) * 4;
    arenaPeak = Math.max(arenaPeak, this.top - this.wasm.heapBase());
    const { memory } = this.wasm;
    const short = this.top - memory.buffer.byteLength;
    if (short > 0) memory.grow(Math.ceil(short / 65536));
    return at;
  }

  /** A view of `n` floats at byte offset `at` (valid until the memory grows). */
  view(at: number, n: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, at, n);
  }

  /**
   * Copies `values` (`[rows, blocks * width]`) into a new block `[rowsTo, blocks * widthTo]`,
   * each of the `blocks` column blocks widened from `width` to `widthTo` and the rows from `rows`
   * to `rowsTo`, with zeros.
   */
  put(
    values: Float32Array,
    rows: number,
    blocks: number,
    width: number,
    rowsTo = rows,
    widthTo = lanes(width),
  ): number {
    const at = this.alloc(rowsTo * blocks * widthTo);
    const out = this.view(at, rowsTo * blocks * widthTo);
    if (width === widthTo) {
      out.set(values);
      out.fill(0, values.length);
      return at;
    }
    out.fill(0);
    copyRows(values, width, out, widthTo, rows * blocks, width);
    return at;
  }

  /** The inverse of {@link put}: `[rows, blocks * width]` from the padded block at `at`. */
  get(at: number, rows: number, blocks: number, width: number, widthTo = lanes(width)): Float32Array {
    if (width === widthTo) return this.view(at, rows * blocks * width).slice();
    const out = new Float32Array(rows * blocks * width);
    copyRows(this.view(at, rows * blocks * widthTo), widthTo, out, width, rows * blocks, width);
    return out;
  }
}

/**
 * Copies the first `n` values of each of `count` rows from `from` (rows `fromWidth` apart) to `to`
 * (rows `toWidth` apart), value by value: the rows copied here are a few lanes wide, where a view
 * per row (`subarray`) would cost more than the copy.
 */
function copyRows(
  from: Float32Array,
  fromWidth: number,
  to: Float32Array,
  toWidth: number,
  count: number,
  n: number,
): void {
  for (let r = 0; r < count; r++) {
    const [a, b] = [r * fromWidth, r * toWidth];
    for (let j = 0; j < n; j++) to[b + j] = from[a + j];
  }
}
