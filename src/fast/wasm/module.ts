/**
 * The whole-sequence kernels' WebAssembly module (`assembly/sequence.ts`, embedded by
 * `./sequence-wasm.ts`), instantiated once on first use, and the arena its arrays live in.
 *
 * The kernels work on their own memory: the values of a call are copied in (padded to whole
 * SIMD lanes, see {@link Arena.put}) and the results copied out. Next to a sequence's
 * arithmetic these copies are small.
 */
import { SEQUENCE_WASM, SEQUENCE_WASM_RELAXED } from './sequence-wasm.js';

type Fn = (...args: number[]) => void;

/** The kernels the module exports (see `assembly/sequence.ts` for their arguments). */
export interface SequenceExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  elmanForward: Fn;
  elmanBackward: Fn;
  lstmForward: Fn;
  lstmBackward: Fn;
  gruForward: Fn;
  gruBackward: Fn;
}

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
  if (compiled === undefined) {
    const bytes = (base64: string) => Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const relaxed = bytes(SEQUENCE_WASM_RELAXED);
    try {
      const withFma = WebAssembly.validate(relaxed);
      compiled = new WebAssembly.Module(withFma ? relaxed : bytes(SEQUENCE_WASM));
      build = withFma ? 'relaxed SIMD' : 'SIMD';
    } catch {
      compiled = null;
    }
  }
  return compiled && (new WebAssembly.Instance(compiled, {}).exports as unknown as SequenceExports);
}

/** Which build the kernels run (null before the first use, or where WebAssembly SIMD is unavailable). */
export function sequenceModuleBuild(): 'relaxed SIMD' | 'SIMD' | null {
  return build;
}

/** The instance the whole-sequence kernels share (each call fills its memory anew), or null (see {@link newSequenceInstance}). */
export function sequenceModule(): SequenceExports | null {
  if (shared === undefined) shared = newSequenceInstance();
  return shared;
}

/** `n` rounded up to whole f32x4 lanes. */
export const lanes = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Arrays in the module's memory for one call: {@link alloc} hands out 16-byte aligned blocks
 * from the module's heap base on, growing the memory as needed.
 */
export class Arena {
  private top: number;

  constructor(private readonly wasm: SequenceExports) {
    this.top = wasm.heapBase();
  }

  /** A block of `n` floats (zeros not guaranteed); its byte offset. */
  alloc(n: number): number {
    const at = Math.ceil(this.top / 16) * 16;
    this.top = at + Math.max(n, 1) * 4;
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
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < blocks; k++) {
        const from = (r * blocks + k) * width;
        out.set(values.subarray(from, from + width), (r * blocks + k) * widthTo);
      }
    }
    return at;
  }

  /** The inverse of {@link put}: `[rows, blocks * width]` from the padded block at `at`. */
  get(at: number, rows: number, blocks: number, width: number, widthTo = lanes(width)): Float32Array {
    if (width === widthTo) return this.view(at, rows * blocks * width).slice();
    const padded = this.view(at, rows * blocks * widthTo);
    const out = new Float32Array(rows * blocks * width);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < blocks; k++) {
        const from = (r * blocks + k) * widthTo;
        out.set(padded.subarray(from, from + width), (r * blocks + k) * width);
      }
    }
    return out;
  }
}
