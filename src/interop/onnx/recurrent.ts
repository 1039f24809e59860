/**
 * ONNX's `RNN`, `LSTM` and `GRU` weights ⇄ our cells, one direction at a time.
 *
 * ONNX stacks the gates along the rows, `W: [directions, gates * hidden, input]`,
 * `R: [directions, gates * hidden, hidden]`, `B: [directions, 2 * gates * hidden]` (the input
 * biases `Wb`, then the recurrent ones `Rb`), in its own gate orders:
 *
 * | operator | ONNX gate order | ours |
 * |----------|-----------------|------|
 * | `RNN` | i (one gate) | h: `b_h = Wb + Rb` |
 * | `LSTM` | i, o, f, c | i, f, g, o: `b_k = Wb_k + Rb_k` (our g is ONNX's c) |
 * | `GRU` | z, r, h | z, r, n: `b_z`, `b_r` summed; `b_n = Wb_h`, `b_nh = Rb_h` with `linear_before_reset = 1` (our `resetAfter: true`), `b_n = Wb_h + Rb_h` without |
 *
 * Activations by name: Tanh, Sigmoid, Relu, HardSigmoid (alpha 0.2, beta 0.5: our
 * `hardSigmoid`), Softsign, Softplus. Anything else is refused, naming it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellKind } from '../../cells/cell.js';
import { createCell } from '../../cells/kinds.js';

/** The cell kinds ONNX has an operator for. */
export type OnnxKind = 'elman' | 'lstm' | 'gru';

/** ONNX's gate order, as our gate letters. */
export const ONNX_GATES: Record<OnnxKind, readonly string[]> = {
  elman: ['h'],
  lstm: ['i', 'o', 'f', 'g'],
  gru: ['z', 'r', 'n'],
};
/** Our cell kind of each ONNX recurrent operator. */
export const ONNX_KIND: Record<string, OnnxKind> = { RNN: 'elman', LSTM: 'lstm', GRU: 'gru' };
/** ONNX's operator of each of our cell kinds. */
export const ONNX_OP: Record<OnnxKind, string> = { elman: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/** Our activation name ⇄ ONNX's recurrent activation name (with alpha, beta where it has them). */
const ACTIVATIONS: readonly { ours: string; onnx: string; alpha?: number; beta?: number }[] = [
  { ours: 'tanh', onnx: 'Tanh' },
  { ours: 'sigmoid', onnx: 'Sigmoid' },
  { ours: 'relu', onnx: 'Relu' },
  { ours: 'hardSigmoid', onnx: 'HardSigmoid', alpha: 0.2, beta: 0.5 },
  { ours: 'softsign', onnx: 'Softsign' },
  { ours: 'softplus', onnx: 'Softplus' },
];

/** An ONNX recurrent activation, with its alpha and beta when it has them. */
export interface OnnxActivation {
  name: string;
  alpha?: number;
  beta?: number;
}

/** ONNX's name for our activation `name`; an error naming it when ONNX has none. */
export function toOnnxActivation(where: string, name: string): OnnxActivation {
  const a = ACTIVATIONS.find((x) => x.ours === name);
  if (!a) {
    throw new Error(
      `${where}: activation '${name}' has no ONNX recurrent activation; expected one of ${ACTIVATIONS.map((x) => x.ours).join(', ')}`,
    );
  }
  return a.alpha === undefined ? { name: a.onnx } : { name: a.onnx, alpha: a.alpha, beta: a.beta };
}

/** Our name for an ONNX recurrent activation (alpha and beta must be ONNX's defaults, as we have no others). */
export function fromOnnxActivation(where: string, act: OnnxActivation): string {
  const a = ACTIVATIONS.find((x) => x.onnx.toLowerCase() === act.name.toLowerCase());
  if (!a) {
    throw new Error(
      `${where}: activation '${act.name}' has no equal here; expected one of ${ACTIVATIONS.map((x) => x.onnx).join(', ')}`,
    );
  }
  const close = (v: number | undefined, want: number | undefined) =>
    v === undefined || Math.abs(v - (want ?? NaN)) < 1e-6;
  if (!close(act.alpha, a.alpha) || !close(act.beta, a.beta)) {
    throw new Error(
      `${where}: activation ${act.name} with alpha ${act.alpha}, beta ${act.beta} has no equal here (ours is alpha ${a.alpha}, beta ${a.beta})`,
    );
  }
  return a.ours;
}

/** The activations of one direction: f (the gates, or the Elman f), g and h (LSTM), as ONNX lists them. */
export interface DirectionConfig {
  kind: OnnxKind;
  /** Our activation (f of the Elman cell, the tanh of the LSTM/GRU). */
  activation: string;
  /** Our σ of the gates (LSTM/GRU). */
  recurrentActivation?: string;
  /** GRU only: ONNX's `linear_before_reset`. */
  resetAfter?: boolean;
}

/**
 * One direction's cell from its slices of W `[G*H, I]`, R `[G*H, H]` and B `[2*G*H]` (zeros when
 * absent). The tensors stay the caller's.
 */
export function cellFromOnnx(config: DirectionConfig, W: tf.Tensor2D, R: tf.Tensor2D, B: tf.Tensor1D | null): Cell {
  const { kind } = config;
  const gates = ONNX_GATES[kind];
  const [rows, inputSize] = W.shape;
  const units = rows / gates.length;
  const params: Record<string, tf.Variable> = {};
  tf.tidy(() => {
    const Ws = tf.split(W, gates.length, 0);
    const Rs = tf.split(R, gates.length, 0);
    const Bs = B ? tf.split(B, 2 * gates.length, 0) : null;
    const zero = tf.zeros([units]);
    const put = (symbol: string, t: tf.Tensor) => (params[symbol] = tf.variable(t, true));
    gates.forEach((g, k) => {
      put(`W_${g}x`, Ws[k]);
      put(`W_${g}h`, Rs[k]);
      const Wb = Bs ? Bs[k] : zero;
      const Rb = Bs ? Bs[gates.length + k] : zero;
      if (kind === 'gru' && g === 'n' && config.resetAfter) {
        put('b_n', Wb);
        put('b_nh', Rb);
      } else {
        put(`b_${g}`, tf.add(Wb, Rb));
      }
    });
  });
  return createCell(
    {
      kind,
      inputSize,
      units,
      activation: config.activation,
      recurrentActivation: kind === 'elman' ? undefined : config.recurrentActivation,
      resetAfter: kind === 'gru' ? config.resetAfter : undefined,
    },
    { params },
  );
}

/** A cell's W `[G*H, I]`, R `[G*H, H]` and B `[2*G*H]` in ONNX's gate order (new tensors). */
export function onnxWeights(where: string, cell: Cell): { W: tf.Tensor2D; R: tf.Tensor2D; B: tf.Tensor1D } {
  const p = cell.params;
  const gates = ONNX_GATES[onnxKind(where, cell.kind)];
  return tf.tidy(() => {
    const zero = tf.zeros([cell.units]);
    const stack = <T extends tf.Tensor>(f: (g: string) => tf.Tensor) => tf.concat(gates.map(f), 0) as T;
    return {
      W: stack<tf.Tensor2D>((g) => p[`W_${g}x`]),
      R: stack<tf.Tensor2D>((g) => p[`W_${g}h`]),
      // A cell without biases (useBias: false) writes zeros.
      B: tf.concat(
        [stack((g) => p[`b_${g}`] ?? zero), stack((g) => (g === 'n' && p.b_nh ? p.b_nh : zero))],
        0,
      ) as tf.Tensor1D,
    };
  });
}

/** The cell kind as ONNX has it; an error naming the kind when ONNX has no operator for it. */
export function onnxKind(where: string, kind: CellKind): OnnxKind {
  if (kind === 'elman' || kind === 'lstm' || kind === 'gru') return kind;
  throw new Error(
    `${where}: ONNX has no operator for cell kind '${kind}' (it has RNN, LSTM and GRU: elman, lstm, gru)`,
  );
}
