/**
 * The fused scan of the cpu and wasm backends ({@link ScanKernel}) for minGRU, minLSTM and IndRNN:
 * the whole sequence forward in one call of `assembly/scan.ts` (in the sequence module, on its
 * threads in Node), as a tfjs kernel of ours whose gradient is the whole sequence backward in one
 * more. The input product of every step is inside the calls (a chunk of a row's steps at a time,
 * in cache), and the outputs come out batch-major in input order, so that `unroll` transposes
 * nothing.
 *
 * The forward copies its tensors' values into the module's memory (padded to whole SIMD lanes,
 * see {@link Arena.put}), runs, and copies the outputs out. Where tfjs records gradients, what the
 * backward reads stays where the forward wrote it (`Arena.keep`), handed to the gradient through
 * the kernel's attributes ({@link Held}): tfjs's own way, inputs and outputs to save, copies each
 * of them on wasm (an `Identity` kernel, 1.5 ms of minGRU's ~45 ms training step at B = 32,
 * T = 512, U = 128), and the backward would copy them in again. Those arrays include the gates
 * (all but IndRNN's), which the backward reads rather than computing them again.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig } from '../../cells/cell.js';
import { definitionOf } from '../../cells/kinds.js';
import { hostMemory, ownKernel } from '../kernels.js';
import type { ScanKernel } from '../registry.js';
import { Arena, lanes, sequenceModule, type KeptArrays, type SequenceExports } from './module.js';

/** The cells, and the activations, by their codes in `assembly/scan.ts` and `assembly/simd.ts`. */
const KINDS: Record<string, number> = { mingru: 0, minlstm: 1, indrnn: 2 };
const CODES: Record<string, number> = { tanh: 0, sigmoid: 1, linear: 2, relu: 3 };

/** The most memory a call may take in the module (it never shrinks): larger sequences take the other paths. */
const MAX_BYTES = 2 ** 29;

/**
 * What a forward run while tfjs records gradients leaves its gradient: the arrays it kept in the
 * module, and the inputs' shapes (tfjs saves no tensor for this kernel).
 */
interface Held {
  arrays?: KeptArrays;
  shapes?: Record<(typeof INPUTS)[number], number[]>;
}

interface Attrs {
  kind: number;
  act: number;
  rec: number;
  reverse: boolean;
  /** Present where tfjs records gradients: the forward fills it. */
  held?: Held;
}

/** A call's sizes: steps, batch, input size, units, gates; and the padded input size and units. */
interface Dims {
  T: number;
  B: number;
  I: number;
  U: number;
  G: number;
  Ip: number;
  Up: number;
}

/** The sizes from the shapes of `X` (`[T*B, I]`), `W` (`[G*U, I]`) and `h0` (`[B, U]`). */
function dims(X: number[], W: number[], h0: number[]): Dims {
  const [B, U] = h0;
  const I = X[1];
  return { T: X[0] / B, B, I, U, G: W[0] / U, Ip: lanes(I), Up: lanes(U) };
}

/** The values the forward and the backward read, by input name. */
type Values = Record<string, Float32Array>;

/**
 * Copies the inputs into a fresh arena: `X`, the stacked weights as `WT` (`[Ip, G*Up]`) and `W`
 * (`[G*Up, Ip]`, where `withW`: the backward's dL/dX), `b`, `u` (0 where empty: all but IndRNN),
 * `h0`, the mask `K` (0 where empty: none).
 */
function load(arena: Arena, d: Dims, v: Values, withW: boolean) {
  const { T, B, I, U, G, Ip, Up } = d;
  const weights = (transposed: boolean) => {
    const at = arena.alloc(G * Up * Ip);
    const out = arena.view(at, G * Up * Ip).fill(0);
    for (let k = 0; k < G; k++) {
      for (let j = 0; j < U; j++) {
        for (let i = 0; i < I; i++) {
          out[transposed ? i * G * Up + k * Up + j : (k * Up + j) * Ip + i] = v.W[(k * U + j) * I + i];
        }
      }
    }
    return at;
  };
  return {
    X: arena.put(v.X, T * B, 1, I),
    WT: weights(true),
    W: withW ? weights(false) : 0,
    b: arena.put(v.b, 1, G, U),
    u: v.u.length ? arena.put(v.u, 1, 1, U) : 0,
    h0: arena.put(v.h0, B, 1, U),
    K: v.keep.length ? arena.put(v.keep, 1, 1, T * B, 1, T * B) : 0,
  };
}

/** `rows` rows of `U` values from the padded block at `at`: a view of the module's memory where no padding is to drop. */
function rowsOut(arena: Arena, at: number, rows: number, U: number): Float32Array {
  return U === lanes(U) ? arena.view(at, rows * U) : arena.get(at, rows, 1, U);
}

/**
 * The forward: every `h_t` (`[B*T, U]`, batch-major in input order; maybe a view of the module's
 * memory, valid until its next call) and the last state (`[B, U]`). With `held`, what the
 * backward reads stays in the module for it.
 */
function forward(wasm: SequenceExports, a: Attrs, d: Dims, v: Values): [Float32Array, Float32Array] {
  const { T, B, I, U, G, Ip, Up } = d;
  const arena = new Arena(wasm);
  const p = load(arena, d, v, a.held !== undefined);
  const H = arena.alloc(B * T * Up);
  // The gates, for the backward (IndRNN's reads only h_t).
  const A = a.held && a.kind !== KINDS.indrnn ? arena.alloc(B * T * G * Up) : 0;
  // Scratch for the input halves where they are not kept (it would be kept with them otherwise).
  const S = A ? 0 : arena.alloc(wasm.scanScratch(G, Up));
  wasm.scanForward(a.kind, a.act, a.rec, a.reverse ? 1 : 0, T, B, Ip, Up, p.X, p.WT, p.b, p.u, p.h0, p.K, H, A, S);
  if (a.held) {
    // Every array but the scratch, where the call has it (not 0).
    const sizes = {
      ...{ X: T * B * Ip, WT: G * Up * Ip, W: G * Up * Ip, b: G * Up, u: Up, h0: B * Up, K: T * B },
      ...{ H: B * T * Up, A: B * T * G * Up },
    };
    const at: Record<string, number> = { ...p, H, A };
    const kept = Object.entries(sizes).filter(([name]) => at[name] !== 0);
    a.held.arrays = arena.keep(Object.fromEntries(kept.map(([name, size]) => [name, { at: at[name], size }])));
    a.held.shapes = { X: [T * B, I], W: [G * U, I], b: [G * U], u: [v.u.length], h0: [B, U], keep: [v.keep.length] };
  }
  const hs = rowsOut(arena, H, B * T, U);
  const last = a.reverse ? 0 : T - 1;
  const hT = new Float32Array(B * U);
  for (let n = 0; n < B; n++) hT.set(hs.subarray((n * T + last) * U, (n * T + last + 1) * U), n * U);
  return [hs, hT];
}

/** The gradients of the inputs the backward computes, by input name (`X` only where asked). */
type Gradients = Partial<Record<'X' | 'W' | 'b' | 'u' | 'h0', Float32Array>>;

/**
 * The backward from `dH` and `dhT` (views of the tensors' values), on the arrays the forward kept
 * (released after): `dL/dX` (where `withDX`), `dL/dW`, `dL/db`, `dL/du` (IndRNN's) and `dL/dh0`.
 */
function backward(
  wasm: SequenceExports,
  a: Attrs,
  d: Dims,
  arrays: KeptArrays,
  dy: { dH: Float32Array; dhT: Float32Array },
  withDX: boolean,
): Gradients {
  const { T, B, I, U, G, Ip, Up } = d;
  const arena = new Arena(wasm);
  const k = arrays.place(arena);
  const [dH, dhT] = [arena.put(dy.dH, B * T, 1, U), arena.put(dy.dhT, B, 1, U)];
  const [S, Q] = [arena.alloc(wasm.scanScratch(G, Up)), arena.alloc(wasm.scanPartials(G, B, Ip, Up))];
  const withU = a.kind === KINDS.indrnn;
  const [dX, dWT, db, du, dh0] = [withDX ? T * B * Ip : 0, Ip * G * Up, G * Up, withU ? Up : 0, B * Up].map((n) =>
    n ? arena.alloc(n) : 0,
  );
  const [W, u, K, A] = [k.W ?? 0, k.u ?? 0, k.K ?? 0, k.A ?? 0];
  wasm.scanBackward(
    ...[a.kind, a.act, a.rec, a.reverse ? 1 : 0, T, B, Ip, Up, k.X, k.WT, W, k.b, u, k.h0, K, k.H, A],
    ...[dH, dhT, S, Q, dX, dWT, db, du, dh0],
  );
  const WT = arena.view(dWT, Ip * G * Up);
  const dW = new Float32Array(G * U * I);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < U; j++) {
      for (let i = 0; i < I; i++) dW[(g * U + j) * I + i] = WT[i * G * Up + g * Up + j];
    }
  }
  const gradients = {
    ...(withDX && { X: arena.get(dX, T * B, 1, I, Ip) }),
    W: dW,
    b: arena.get(db, 1, G, U),
    ...(withU && { u: arena.get(du, 1, 1, U) }),
    h0: arena.get(dh0, B, 1, U),
  };
  arrays.release();
  return gradients;
}

const INPUTS = ['X', 'W', 'b', 'u', 'h0', 'keep'] as const;

/** The forward on the cpu or the wasm backend: `[H, h_T]`. */
const forwardKernel: tf.KernelFunc = ({ inputs: map, attrs, backend }) => {
  const inputs = map as Record<string, tf.TensorInfo>;
  const d = dims(inputs.X.shape, inputs.W.shape, inputs.h0.shape);
  const mem = hostMemory(backend);
  const v = Object.fromEntries(INPUTS.map((name) => [name, mem.view(inputs[name])]));
  const outputs = forward(sequenceModule()!, attrs as unknown as Attrs, d, v);
  // Views of the outputs only after every one is made: on wasm a new output may move the heap.
  const infos = mem.outputs([
    [d.B, d.T, d.U],
    [d.B, d.U],
  ]);
  infos.forEach((info, i) => mem.view(info).set(outputs[i]));
  return infos;
};

const kernel = ownKernel(
  'TfjsRecurrentFusedScan',
  { cpu: forwardKernel, wasm: forwardKernel },
  {
    gradFunc: (dy, _saved, attrs) => {
      const a = attrs as unknown as Attrs;
      const { arrays, shapes } = a.held!;
      const [dH, dhT] = dy as tf.Tensor[];
      // The backward runs on the first gradient tfjs asks for. tfjs asks only for those of inputs
      // on the way to what it differentiates, in the inputs' order: X's first where it asks for it
      // at all, so dL/dX is computed only where it is needed.
      let grads: Gradients | undefined;
      const gradient = (name: keyof Gradients) => {
        const shape = shapes![name];
        if (shape.includes(0)) return tf.zeros(shape);
        if (!grads) {
          const mem = hostMemory(tf.backend());
          const d = dims(shapes!.X, shapes!.W, shapes!.h0);
          grads = backward(sequenceModule()!, a, d, arrays!, { dH: mem.view(dH), dhT: mem.view(dhT) }, name === 'X');
        }
        if (!grads[name])
          throw new Error(`tfjs-recurrent: the fused scan was asked for dL/d${name} after its backward`);
        return tf.tensor(grads[name]!, shape);
      };
      return {
        X: () => gradient('X'),
        W: () => gradient('W'),
        b: () => gradient('b'),
        u: () => gradient('u'),
        h0: () => gradient('h0'),
        keep: () => tf.zeros(shapes!.keep),
      };
    },
  },
);

/**
 * The fused scan of a configuration, or undefined where `assembly/scan.ts` does not compute it
 * (another kind or activation, or no WebAssembly SIMD).
 */
export function wasmScanKernel(config: CellConfig): ScanKernel | undefined {
  const kind = KINDS[config.kind];
  const [act, rec] = [CODES[config.activation], CODES[config.recurrentActivation ?? 'sigmoid']];
  if (kind === undefined || act === undefined || rec === undefined || !sequenceModule()) return undefined;
  const gates = definitionOf(config.kind).gates;
  const [Ip, Up] = [lanes(config.inputSize), lanes(config.units)];
  // Per row of the sequence: X and dX, H and dH, the gates, the mask; the weights three times,
  // the states, the threads' scratch (two chunks of at most 64 steps each) and the blocks'
  // partial sums (17 blocks at most).
  const N = gates.length * Up;
  const perRow = 2 * Ip + 2 * Up + N + 1;
  const fixed = 3 * N * (Ip + 1) + 4 * 2 * 64 * N + 17 * ((Ip + 1) * N + Up);
  return {
    fits: (time, batch) => 4 * (time * batch * perRow + fixed + 4 * batch * Up) <= MAX_BYTES,
    run: (params, X, state0, keep, reverse) => {
      const none = tf.zeros([0]);
      const stacked = (symbol: (gate: string) => string) => tf.concat(gates.map((k) => params[symbol(k)]));
      const inputs = {
        X,
        W: stacked((k) => `W_${k}x`),
        b: stacked((k) => `b_${k}`),
        u: params.u_h ?? none,
        h0: state0.h,
        keep: keep ? keep.reshape([-1]) : none,
      };
      // Where tfjs records gradients, the forward leaves its arrays to the gradient (see Held).
      const held = tf.engine().isTapeOn() ? {} : undefined;
      const [outputs, h] = kernel.run(inputs, { kind, act, rec, reverse, held }) as [tf.Tensor3D, tf.Tensor2D];
      return { outputs, state: { h } };
    },
  };
}
