/**
 * The fused scan of the cpu and wasm backends ({@link ScanKernel}) for minGRU, minLSTM and IndRNN:
 * the whole sequence forward in one call of `assembly/scan.ts` (WebAssembly SIMD), as a tfjs
 * kernel of ours whose gradient is the whole sequence backward in one more. The input product of
 * every step is inside the calls (a step's rows at a time, in cache), and the outputs come out
 * batch-major in input order, so that `unroll` transposes nothing.
 *
 * A call copies its tensors' values into the module's memory (padded to whole SIMD lanes, see
 * {@link Arena.put}), runs, and copies the results out; the backward recomputes the gates from
 * `x_t` rather than keeping them, so nothing stays in the module between calls.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig } from '../../cells/cell.js';
import { definitionOf } from '../../cells/kinds.js';
import { hostMemory, ownKernel } from '../kernels.js';
import type { ScanKernel } from '../registry.js';
import { Arena, compileBuilds, lanes, type ModuleExports } from './module.js';
import { SCAN_WASM, SCAN_WASM_RELAXED } from './scan-wasm.js';

type Fn = (...args: number[]) => void;

/** The kernels `assembly/scan.ts` exports (see there for their arguments). */
interface ScanExports extends ModuleExports {
  scanForward: Fn;
  scanBackward: Fn;
}

/** The cells, and the activations, by their codes in `assembly/scan.ts` and `assembly/simd.ts`. */
const KINDS: Record<string, number> = { mingru: 0, minlstm: 1, indrnn: 2 };
const CODES: Record<string, number> = { tanh: 0, sigmoid: 1, linear: 2, relu: 3 };

/** The most memory a call may take in the module (it never shrinks): larger sequences take the other paths. */
const MAX_BYTES = 2 ** 29;

let shared: ScanExports | null | undefined;

/** The module's instance, made on first use; null where WebAssembly SIMD is unavailable. */
function scanModule(): ScanExports | null {
  if (shared === undefined) {
    const { compiled } = compileBuilds(SCAN_WASM, SCAN_WASM_RELAXED);
    shared = compiled && (new WebAssembly.Instance(compiled, {}).exports as unknown as ScanExports);
  }
  return shared;
}

interface Attrs {
  kind: number;
  act: number;
  rec: number;
  reverse: boolean;
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
 * memory, valid until its next call) and the last state (`[B, U]`).
 */
function forward(wasm: ScanExports, a: Attrs, d: Dims, v: Values): [Float32Array, Float32Array] {
  const { T, B, U, G, Ip, Up } = d;
  const arena = new Arena(wasm);
  const p = load(arena, d, v, false);
  const [H, P] = [arena.alloc(B * T * Up), arena.alloc(B * G * Up)];
  wasm.scanForward(a.kind, a.act, a.rec, a.reverse ? 1 : 0, T, B, Ip, Up, p.X, p.WT, p.b, p.u, p.h0, p.K, H, P);
  const hs = rowsOut(arena, H, B * T, U);
  const last = a.reverse ? 0 : T - 1;
  const hT = new Float32Array(B * U);
  for (let n = 0; n < B; n++) hT.set(hs.subarray((n * T + last) * U, (n * T + last + 1) * U), n * U);
  return [hs, hT];
}

/** The gradients of the inputs the backward computes, by input name (`X` only where asked). */
type Gradients = Partial<Record<'X' | 'W' | 'b' | 'u' | 'h0', Float32Array>>;

/** The backward: `dL/dX` (where `withDX`), `dL/dW`, `dL/db`, `dL/du` (IndRNN's) and `dL/dh0`. */
function backward(wasm: ScanExports, a: Attrs, d: Dims, v: Values, withDX: boolean): Gradients {
  const { T, B, I, U, G, Ip, Up } = d;
  const arena = new Arena(wasm);
  const p = load(arena, d, v, withDX);
  const [H, dH, dhT] = [arena.put(v.H, B * T, 1, U), arena.put(v.dH, B * T, 1, U), arena.put(v.dhT, B, 1, U)];
  const [P, D, Gc] = [arena.alloc(B * G * Up), arena.alloc(B * G * Up), arena.alloc(B * Up)];
  const [dX, dWT, db, du, dh0] = [withDX ? T * B * Ip : 0, Ip * G * Up, G * Up, Up, B * Up].map((n) =>
    n ? arena.alloc(n) : 0,
  );
  wasm.scanBackward(
    ...[a.kind, a.act, a.rec, a.reverse ? 1 : 0, T, B, Ip, Up, p.X, p.WT, p.W, p.b, p.u, p.h0, p.K, H, dH, dhT],
    ...[P, D, Gc, dX, dWT, db, p.u && du, dh0],
  );
  const WT = arena.view(dWT, Ip * G * Up);
  const dW = new Float32Array(G * U * I);
  for (let k = 0; k < G; k++) {
    for (let j = 0; j < U; j++) {
      for (let i = 0; i < I; i++) dW[(k * U + j) * I + i] = WT[i * G * Up + k * Up + j];
    }
  }
  return {
    ...(withDX && { X: arena.get(dX, T * B, 1, I, Ip) }),
    W: dW,
    b: arena.get(db, 1, G, U),
    ...(p.u && { u: arena.get(du, 1, 1, U) }),
    h0: arena.get(dh0, B, 1, U),
  };
}

const INPUTS = ['X', 'W', 'b', 'u', 'h0', 'keep'] as const;

/** The forward on the cpu or the wasm backend: `[H, h_T]`. */
const forwardKernel: tf.KernelFunc = ({ inputs: map, attrs, backend }) => {
  const inputs = map as Record<string, tf.TensorInfo>;
  const d = dims(inputs.X.shape, inputs.W.shape, inputs.h0.shape);
  const mem = hostMemory(backend);
  const v = Object.fromEntries(INPUTS.map((name) => [name, mem.view(inputs[name])]));
  const outputs = forward(scanModule()!, attrs as unknown as Attrs, d, v);
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
    inputsToSave: [...INPUTS],
    outputsToSave: [true, false],
    gradFunc: (dy, saved, attrs) => {
      const [X, W, b, u, h0, keep, H] = saved;
      const [dH, dhT] = dy as tf.Tensor[];
      const inputs = { X, W, b, u, h0, keep, H, dH, dhT };
      // The backward runs on the first gradient tfjs asks for, reading the tensors in place. tfjs
      // asks only for those of inputs on the way to what it differentiates, in the inputs' order:
      // X's first where it asks for it at all, so dL/dX is computed only where it is needed (a
      // later ask for it runs the backward again).
      let grads: Gradients | undefined;
      const gradient = (name: keyof Gradients) => {
        const of = { X, W, b, u, h0 }[name];
        if (of.size === 0) return tf.zerosLike(of);
        if (!grads?.[name]) {
          const mem = hostMemory(tf.backend());
          const values = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, mem.view(t)]));
          const d = dims(X.shape, W.shape, h0.shape);
          grads = backward(scanModule()!, attrs as unknown as Attrs, d, values, name === 'X');
        }
        return tf.tensor(grads[name]!, of.shape);
      };
      return {
        X: () => gradient('X'),
        W: () => gradient('W'),
        b: () => gradient('b'),
        u: () => gradient('u'),
        h0: () => gradient('h0'),
        keep: () => tf.zerosLike(keep),
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
  if (kind === undefined || act === undefined || rec === undefined || !scanModule()) return undefined;
  const gates = definitionOf(config.kind).gates;
  const [Ip, Up] = [lanes(config.inputSize), lanes(config.units)];
  // Per row of the sequence: X and dX, H and dH, the mask; the weights twice, two steps' input
  // halves, and four states.
  const perRow = 2 * Ip + 2 * Up + 1;
  const G = gates.length;
  return {
    fits: (time, batch) => 4 * (time * batch * perRow + 2 * G * Up * (Ip + batch) + 4 * batch * Up) <= MAX_BYTES,
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
      const [outputs, h] = kernel.run(inputs, { kind, act, rec, reverse }) as [tf.Tensor3D, tf.Tensor2D];
      return { outputs, state: { h } };
    },
  };
}
