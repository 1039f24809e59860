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
  /** The fused scans of minGRU, minLSTM and IndRNN (`assembly/scan.ts`). */
  scanForward: Fn;
  scanBackward: Fn;
  /** Floats of scratch a scan of `G` gates of `Up` units takes, every thread's share. */
  scanScratch(G: number, Up: number): number;
  /** Floats of a scan backward's partial sums. */
  scanPartials(G: number, B: number, Ip: number, Up: number): number;
  /** tfjs's Adam update of `n` values in place (`assembly/adam.ts`). */
  adam: Fn;
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
 * from the module's heap base on (above the arrays forwards keep for their backward, see
 * {@link keep}), growing the memory as needed.
 */
export class Arena {
  private top: number;

  constructor(private readonly wasm: ModuleExports) {
    this.top = floor(wasm);
  }

  /**
   * Keeps this arena's arrays in the module's memory after the call, for a backward to read in
   * place ({@link KeptArrays.place}): the arrays `at` of it, by name. Later arenas start above it
   * until it is released: after its backward, or once nothing refers to what this returns.
   */
  keep(at: Record<string, { at: number; size: number }>): KeptArrays {
    const block = new Kept(this.wasm, this.top, at);
    stackOf(this.wasm).push(block);
    const handle = new KeptArrays(block);
    unreferenced.register(handle, block);
    return handle;
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
 * The most bytes (`keepMax`) that kept arrays ({@link Arena.keep}) may hold below the arenas: past it, the
 * live ones are copied out to JavaScript arrays and the module's memory is used from its heap
 * base again. A backward normally follows its forward (the last kept is the first released), so
 * this is reached only by forwards whose backward never runs and is not yet collected.
 */
let keepMax = 2 ** 28;

/** Sets the bytes kept arrays may hold (tests set 0 to have every backward read copies), and returns the previous. */
export function setKeepMax(bytes: number): number {
  const previous = keepMax;
  keepMax = bytes;
  return previous;
}

/** The kept blocks of each module instance, in the order of their addresses. */
const stacks = new WeakMap<ModuleExports, Kept[]>();

function stackOf(wasm: ModuleExports): Kept[] {
  let stack = stacks.get(wasm);
  if (!stack) stacks.set(wasm, (stack = []));
  return stack;
}

/** Where a new arena of `wasm` starts: past the live kept blocks (all copied out when they hold too much). */
function floor(wasm: ModuleExports): number {
  const stack = stackOf(wasm);
  const base = wasm.heapBase();
  if (stack.length > 0 && stack[stack.length - 1].end - base > keepMax) {
    for (const block of stack) block.copyOut();
    stack.length = 0;
  }
  return stack.length > 0 ? stack[stack.length - 1].end : base;
}

/** Releases the kept blocks whose handles were collected before their backward ran. */
const unreferenced = new FinalizationRegistry<Kept>((block) => block.release());

/** One forward's arena, kept for its backward (see {@link Arena.keep}). */
class Kept {
  state: 'live' | 'copied' | 'released' = 'live';
  copies: Record<string, Float32Array> = {};

  constructor(
    readonly wasm: ModuleExports,
    readonly end: number,
    readonly arrays: Record<string, { at: number; size: number }>,
  ) {}

  /** Copies the arrays out of the module's memory, which is then free. */
  copyOut(): void {
    if (this.state !== 'live') return;
    const buffer = this.wasm.memory.buffer;
    for (const [name, { at, size }] of Object.entries(this.arrays)) {
      this.copies[name] = new Float32Array(buffer, at, size).slice();
    }
    this.state = 'copied';
  }

  /** Frees the block, and every block above it already freed. */
  release(): void {
    this.state = 'released';
    this.copies = {};
    const stack = stackOf(this.wasm);
    while (stack.length > 0 && stack[stack.length - 1].state !== 'live') stack.pop();
  }
}

/** What a forward kept for its backward (see {@link Arena.keep}). */
export class KeptArrays {
  constructor(private readonly block: Kept) {}

  /**
   * The kept arrays' byte offsets for a backward in `arena`: where they are, or copies put into
   * `arena` where they were copied out. Throws once {@link release}d.
   */
  place(arena: Arena): Record<string, number> {
    const { block } = this;
    if (block.state === 'released') {
      throw new Error(
        'tfjs-recurrent: a whole-sequence backward ran a second time for one forward; its arrays are gone',
      );
    }
    return Object.fromEntries(
      Object.entries(block.arrays).map(([name, { at, size }]) => {
        if (block.state === 'live') return [name, at];
        const to = arena.alloc(size);
        arena.view(to, size).set(block.copies[name]);
        return [name, to];
      }),
    );
  }

  /** Frees the arrays (after the backward). */
  release(): void {
    this.block.release();
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
