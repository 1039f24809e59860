/**
 * The whole-sequence kernel of the cpu and wasm backends ({@link SequenceKernel}): the forward of
 * every step in one call of `assembly/sequence.ts` (WebAssembly SIMD) and, while tfjs records
 * gradients, a `tf.customGrad` whose gradient is the backward of every step in one more call.
 *
 * A call reads its tensors, copies them into the module's memory (padded to whole SIMD lanes),
 * runs, and makes tensors of the results. The forward keeps what the backward reads (the gates,
 * the states) where it wrote them in the module's memory, below the arenas of the calls in
 * between (`Arena.keep`; in a profile of the LSTM 128 train step at `[32, 50, 16]` on two threads,
 * copying them out and back in and collecting the copies took about 7 of its ~57 ms). A mask
 * (`unroll`'s `mask`) is read once and handed to both: a padded step carries the state forward.
 *
 * The cpu backend runs the same module rather than typed-array JavaScript: on the 2-core Xeon this
 * was measured on, `./matmul.ts`'s typed-array product (four rows in flight) of `[1600, 128] x
 * [128, 512]` (the LSTM 128 bench's recurrent products) ran at 1.1 GFLOP/s, the module's SIMD
 * products at 15 to 17; and one implementation of each kind is one to test.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig, State } from '../../cells/cell.js';
import { readSync } from '../../read.js';
import type { FusedWeights } from '../fused.js';
import type { SequenceKernel } from '../registry.js';
import { split } from '../split.js';
import { allocGradients, kindKernels, type Dims, type Inputs, type KindKernels } from './kinds.js';
import { Arena, type KeptArrays, lanes, sequenceModule, type SequenceExports } from './module.js';

const read = (t: tf.Tensor) =>
  readSync('fast path (whole-sequence kernel)', 'the cpu or wasm backend', t) as Float32Array;

/**
 * The most memory a call may take in the module. A WebAssembly memory never shrinks: the module
 * keeps what its largest call grew it to, so larger sequences are left to the fast path's tf ops.
 */
const MAX_BYTES = 2 ** 29;

/** The whole-sequence kernel of a configuration, or undefined where the kernels do not compute it. */
export function wasmSequenceKernel(config: CellConfig): SequenceKernel | undefined {
  const kind = kindKernels(config);
  const wasm = kind && sequenceModule();
  if (!kind || !wasm) return undefined;
  const [Ip, Up] = [lanes(config.inputSize), lanes(config.units)];
  const G = kind.gates;
  // A backward's arrays: per row the inputs, kept arrays, dL/dY, the gates' gradients (twice at
  // most) and dL/dX; and the weights with their transposes and gradients.
  const perRow =
    2 * Ip + Object.values(kind.kept({ T: 1, B: 1, I: Ip, U: Up, Ip, Up })).reduce((a, b) => a + b) + (1 + 2 * G) * Up;
  const weights = 3 * (Ip + 2 * Up) * G * Up;
  return {
    fits: (time, batch) => 4 * (time * batch * perRow + weights + 4 * batch * Up) <= MAX_BYTES,
    run: (w, X, state0, keep) => runSequence(wasm, kind, w, X, state0, keep),
  };
}

function runSequence(
  wasm: SequenceExports,
  kind: KindKernels,
  w: FusedWeights,
  X: tf.Tensor2D,
  state0: State,
  keep: tf.Tensor3D | null,
): { hs: tf.Tensor3D; state: State } {
  const [B, U] = state0.h.shape;
  const I = X.shape[1];
  const d: Dims = { T: X.shape[0] / B, B, I, U, Ip: lanes(I), Up: lanes(U) };
  const { T } = d;
  const G = kind.gates;
  const F = kind.recurrentGates;
  const WnhT = w.separate.n;
  // Biases where the cell has them (not with `useBias: false`).
  const [withB, withBh] = [w.b !== undefined, w.bh !== undefined];
  const inputs: tf.Tensor[] = [
    X,
    w.WxT,
    ...(withB ? [w.b!] : []),
    w.WhT,
    ...(withBh ? [w.bh!] : []),
    ...(kind.withWnh ? [WnhT] : []),
    state0.h,
    ...(kind.withC ? [state0.c!] : []),
  ];

  // The mask needs no gradient: read once, outside the op.
  const mask = keep ? read(keep) : null;

  /** Copies the input values (and the mask) into a fresh arena. */
  const load = (arena: Arena, v: Float32Array[]): Inputs => {
    const values = [...v];
    const next = () => values.shift()!;
    return {
      X: arena.put(next(), T * B, 1, I),
      WxT: arena.put(next(), I, G, U, d.Ip),
      b: withB ? arena.put(next(), 1, G, U) : 0,
      WhT: arena.put(next(), U, F, U, d.Up),
      bh: withBh ? arena.put(next(), 1, F, U) : 0,
      WnhT: kind.withWnh ? arena.put(next(), U, 1, U, d.Up) : 0,
      h0: arena.put(next(), B, 1, U),
      c0: kind.withC ? arena.put(next(), B, 1, U) : 0,
      K: mask ? arena.put(mask, 1, 1, T * B, 1, T * B) : 0,
    };
  };

  /** The forward: `[(c_T,) h_1..h_T]` as values, and (where asked) copies of the kept arrays. */
  const forward = (values: Float32Array[], keep: boolean) => {
    const arena = new Arena(wasm);
    const p = load(arena, values);
    const sizes = kind.kept(d);
    const k = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, arena.alloc(size)]));
    kind.forward(wasm, d, p, k);
    const hs = arena.get(k.H, T * B, 1, U);
    const cT = kind.withC ? arena.get(k.Cs + (T - 1) * B * d.Up * 4, B, 1, U) : undefined;
    const kept = keep
      ? arena.keep(Object.fromEntries(Object.entries(k).map(([name, at]) => [name, { at, size: sizes[name] }])))
      : null;
    return { hs, cT, kept };
  };

  const finish = (hs: tf.Tensor, cT?: tf.Tensor) => {
    const h = (T > 1 ? split(hs, [T - 1, 1], 0)[1] : hs).reshape([B, U]) as tf.Tensor2D;
    return { hs: hs as tf.Tensor3D, state: cT ? { h, c: cT.reshape([B, U]) as tf.Tensor2D } : { h } };
  };

  if (!tf.engine().isTapeOn()) {
    const { hs, cT } = forward(inputs.map(read), false);
    return finish(tf.tensor3d(hs, [T, B, U]), cT && tf.tensor2d(cT, [B, U]));
  }

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const values = (args.slice(0, inputs.length) as tf.Tensor[]).map(read);
    const { hs, cT, kept } = forward(values, true);
    const value = cT ? new Float32Array(cT.length + hs.length) : hs;
    if (cT) {
      value.set(cT);
      value.set(hs, cT.length);
    }
    return {
      value: tf.tensor3d(value, [T + (cT ? 1 : 0), B, U]),
      gradFunc: (dy: tf.Tensor) => backward(values, kept!, read(dy)),
    };
  });

  const backward = (values: Float32Array[], kept: KeptArrays, dy: Float32Array): tf.Tensor[] => {
    const arena = new Arena(wasm);
    const p = load(arena, values);
    const k = kept.place(arena);
    const dY = arena.put(dy, dy.length / U, 1, U);
    const g = allocGradients(arena, kind, d, p);
    kind.backward(wasm, arena, d, p, k, dY, g);
    const gradients = [
      tf.tensor2d(arena.get(g.dX, T * B, 1, I, d.Ip), [T * B, I]),
      tf.tensor2d(arena.get(g.dWxT, I, G, U), [I, G * U]),
      ...(withB ? [tf.tensor1d(arena.get(g.db, 1, G, U))] : []),
      tf.tensor2d(arena.get(g.dWhT, U, F, U), [U, F * U]),
      ...(withBh ? [tf.tensor1d(arena.get(g.dbh, 1, F, U))] : []),
      ...(kind.withWnh ? [tf.tensor2d(arena.get(g.dWnhT, U, 1, U), [U, U])] : []),
      tf.tensor2d(arena.get(g.dh0, B, 1, U), [B, U]),
      ...(kind.withC ? [tf.tensor2d(arena.get(g.dc0, B, 1, U), [B, U])] : []),
    ];
    kept.release();
    return gradients;
  };

  const value = op(...inputs) as tf.Tensor3D;
  if (!kind.withC) return finish(value);
  const [cT, hs] = split(value, [1, T], 0);
  return finish(hs, cT);
}
