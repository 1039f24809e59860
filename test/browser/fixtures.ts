/**
 * The PyTorch fixtures in the page: the runner serves them all as `/fixtures.json`, and the
 * helpers here compare tensors with them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Fixture } from '../helpers/fixtures.js';

export type { Fixture };

/**
 * The fixtures' sizes, used by every test of the suite: WebGL compiles a shader per op and shape,
 * so sharing one set of shapes keeps the suite fast on software GL.
 */
export const SIZES = { batch: 3, time: 7, inputSize: 5, units: 4, outputSize: 2 } as const;

let cache: Promise<Record<string, Fixture>> | undefined;

/** Every fixture, keyed by name (`rnn-tanh`, `rnn-relu`, `lstm`, `gru`). */
export function fixtures(): Promise<Record<string, Fixture>> {
  cache ??= fetch('/fixtures.json').then((r) => {
    if (!r.ok) throw new Error(`GET /fixtures.json: ${r.status}`);
    return r.json() as Promise<Record<string, Fixture>>;
  });
  return cache;
}

export function torchKind(f: Fixture): 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru' {
  return f.cell === 'rnn' ? (`rnn_${f.activation}` as 'rnn_tanh' | 'rnn_relu') : f.cell;
}

/** PyTorch's gate order in the stacked weights. */
const TORCH_GATES: Record<Fixture['cell'], string[]> = { rnn: ['h'], lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'] };

/**
 * PyTorch's gradient of one of our symbols: `W_gx` is gate g's row block of `weight_ih_l0`,
 * `W_gh` of `weight_hh_l0`, `b_g` of `bias_ih_l0` (a folded bias `b_ig + b_hg` has the same
 * gradient as either part) and the GRU's `b_nh` is the n block of `bias_hh_l0`.
 */
export function torchGrad(f: Fixture, symbol: string): number[] {
  const H = f.shapes.hidden;
  const m = /^(W|b)_([a-z])([xh]?)$/.exec(symbol);
  if (!m) throw new Error(`no PyTorch gradient for symbol ${symbol}`);
  const [, kind, gate, source] = m;
  const k = TORCH_GATES[f.cell].indexOf(gate);
  if (k < 0) throw new Error(`gate ${gate} is not in PyTorch's ${f.cell}`);
  const key =
    kind === 'W' ? (source === 'x' ? 'weight_ih_l0' : 'weight_hh_l0') : source === 'h' ? 'bias_hh_l0' : 'bias_ih_l0';
  const rows = f.grads[key].slice(k * H, (k + 1) * H) as (number | number[])[];
  return rows.flat();
}

/** `max |a - b|`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `max |a - b| / max |b|`: the error relative to the reference's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / scale;
}

/** A tensor's values, awaited (`dataSync` is unsafe on WebGPU). */
export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
