/**
 * Fused weights: the per-symbol parameters of a cell concatenated once per sequence, so that the
 * input halves of all gates and all steps take one matMul (`X W_x^T + b`, `[T*B, G*U]`) and the
 * recurrent halves of a step one more (`h W_h^T + b_h`). The stored parameters stay per symbol;
 * gradients flow back to them through the concatenation.
 *
 * The fused matrices are kept transposed (`W^T`, the layout Keras calls a kernel), because a matMul
 * with a transposed operand is about ten times slower on the WASM backend than one without.
 * {@link fusedTerms} hands a cell's equations ({@link Terms}) slices of these products, so the
 * equations the cell's file writes are the ones the fast path computes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Terms } from '../cells/cell.js';
import { matMul } from './matmul.js';
import { split } from './split.js';

/** Which gates share the fused matrices. */
export interface FusedLayout {
  /** Every gate, in the order of `W_x` (the cell's order). */
  gates: readonly string[];
  /**
   * The gates whose `W_kh` multiplies `h_{t-1}` in the one per-step matMul: a prefix of `gates`
   * (all of them, but for the GRU without `resetAfter`, whose `W_nh` multiplies `r_t ⊙ h_{t-1}`).
   */
  recurrentGates: readonly string[];
  /** Biases inside the recurrent half, by gate (the GRU's `{ n: 'b_nh' }`). */
  recurrentBias: Record<string, string>;
}

/** The fused weights of one sequence. */
export interface FusedWeights {
  /** `W_x^T`: `[inputSize, gates * units]` */
  WxT: tf.Tensor2D;
  /** `b`: `[gates * units]`; absent for a cell without biases (`useBias: false`). */
  b?: tf.Tensor1D;
  /** `W_h^T` of the recurrent gates: `[units, recurrentGates * units]` */
  WhT: tf.Tensor2D;
  /** The recurrent biases `[recurrentGates * units]` (zeros where a gate has none), if any. */
  bh?: tf.Tensor1D;
  /** `W_kh^T` of every gate outside `recurrentGates`, applied on its own. */
  separate: Record<string, tf.Tensor2D>;
}

/** The gates outside the per-step matMul. */
export function separateGates(layout: FusedLayout): string[] {
  return layout.gates.filter((k) => !layout.recurrentGates.includes(k));
}

/**
 * Concatenates the per-symbol parameters (gradients flow back to the symbols). A cell without
 * biases (`useBias: false`) has no `b_k` and no recurrent biases: `b` and `bh` are then absent.
 */
export function fuse(params: Record<string, tf.Tensor>, layout: FusedLayout, units: number): FusedWeights {
  return tf.tidy(() => {
    const { gates, recurrentGates, recurrentBias } = layout;
    const stackT = (symbols: string[]) => tf.transpose(tf.concat(symbols.map((s) => params[s]))) as tf.Tensor2D;
    const hasB = gates.every((k) => params[`b_${k}`] !== undefined);
    const hasBh = hasB && recurrentGates.some((k) => recurrentBias[k]);
    return {
      WxT: stackT(gates.map((k) => `W_${k}x`)),
      ...(hasB && { b: tf.concat(gates.map((k) => params[`b_${k}`])) as tf.Tensor1D }),
      WhT: stackT(recurrentGates.map((k) => `W_${k}h`)),
      ...(hasBh && {
        bh: tf.concat(recurrentGates.map((k) => params[recurrentBias[k]] ?? tf.fill([units], 0))) as tf.Tensor1D,
      }),
      separate: Object.fromEntries(separateGates(layout).map((k) => [k, stackT([`W_${k}h`])])),
    };
  });
}

/** `X W_x^T + b`: the input halves of every gate for all rows `[n, inputSize] -> [n, G*U]`. */
export function project(X: tf.Tensor2D, w: FusedWeights): tf.Tensor2D {
  return matMul(X, w.WxT, false, false, w.b);
}

/** `h W_h^T + b_h`: the recurrent halves of the recurrent gates `[n, units] -> [n, F*U]`. */
export function hidden(h: tf.Tensor2D, w: FusedWeights): tf.Tensor2D {
  return matMul(h, w.WhT, false, false, w.bh);
}

/**
 * The {@link Terms} of one step as slices of the fused products: `xp = x_t W_x^T + b` (all gates)
 * and `hp = h_{t-1} W_h^T + b_h` (the recurrent gates; the caller applies a recurrent dropout mask
 * `m` to `h_{t-1}`, and `h(k, v)` of a gate outside the per-step matMul applies it to `v`). Each
 * product is split at most once, and `a(k)` of all recurrent gates is one add and one split.
 */
export function fusedTerms(
  xp: tf.Tensor2D,
  hp: tf.Tensor2D,
  w: FusedWeights,
  layout: FusedLayout,
  recurrentMask?: tf.Tensor2D,
): Terms {
  const { gates, recurrentGates } = layout;
  const [G, F] = [gates.length, recurrentGates.length];
  const units = xp.shape[1] / G;
  const separate = separateGates(layout);
  const memo = <T>(make: () => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const pieces = (t: tf.Tensor, n: number) => (n === 1 ? [t] : split(t, n, 1));
  const xs = memo(() => pieces(xp, G));
  const hs = memo(() => pieces(hp, F));
  const as = memo(() => pieces(tf.add(F === G ? xp : split(xp, [F * units, (G - F) * units], 1)[0], hp), F));
  const at = (list: readonly string[], k: string) => {
    const i = list.indexOf(k);
    if (i < 0) throw new Error(`fast path: gate '${k}' is not one of ${list.join(', ')}`);
    return i;
  };
  return {
    a: (k) => as()[at(recurrentGates, k)] as tf.Tensor2D,
    x: (k) => xs()[at(gates, k)] as tf.Tensor2D,
    h: (k, v) => {
      if (v === undefined) return hs()[at(recurrentGates, k)] as tf.Tensor2D;
      at(separate, k); // only a gate outside the per-step matMul has its W_kh^T on its own
      return matMul(recurrentMask ? (tf.mul(v, recurrentMask) as tf.Tensor2D) : v, w.separate[k]);
    },
  };
}
