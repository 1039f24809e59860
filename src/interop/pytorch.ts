/**
 * PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` (one layer, one direction) state dicts in and out.
 *
 * PyTorch stacks the gates along the rows: `weight_ih_l0: [gates * H, I]`,
 * `weight_hh_l0: [gates * H, H]`, and keeps two biases, `bias_ih_l0` and `bias_hh_l0`.
 *
 * | kind | PyTorch gate order | ours |
 * |------|--------------------|------|
 * | `rnn_tanh`, `rnn_relu` | h | `b_h = b_ih + b_hh` |
 * | `lstm` | i, f, g, o | `b_g = b_ig + b_hg` for each gate |
 * | `gru` | r, z, n | `b_r = b_ir + b_hr`, `b_z = b_iz + b_hz`, `b_n = b_in`, `b_nh = b_hn` |
 *
 * Going back, a folded bias is written to `bias_ih_l0` and `bias_hh_l0` gets zeros (the sum,
 * the only thing the equations see, is the same).
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import { createCell } from '../cells/kinds.js';
import { checkNested, checkOneOf, describe, fmt, show, sizeOf } from '../check/index.js';
import { assertSyncReadable, readArraySync } from '../read.js';

export type PyTorchKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';
const KINDS: readonly PyTorchKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];

/** A nested number array, or `{ shape, data }` with flat data. */
export type StateDictEntry = number[] | number[][] | { shape: number[]; data: ArrayLike<number> };
export type StateDict = Record<string, StateDictEntry>;

const KEYS = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'] as const;

/** PyTorch's gate order: which of our gates each row block of its stacked weights feeds. */
function torchGateOrder(kind: PyTorchKind): string[] {
  if (kind === 'lstm') return ['i', 'f', 'g', 'o'];
  if (kind === 'gru') return ['r', 'z', 'n'];
  return ['h'];
}

/** Builds one of our cells holding the weights of a PyTorch state dict. */
export function fromPyTorch(kind: PyTorchKind, stateDict: StateDict): Cell {
  checkOneOf('fromPyTorch', 'kind', kind, KINDS);
  if (stateDict === null || typeof stateDict !== 'object') {
    throw new TypeError(`fromPyTorch: expected a state dict with ${KEYS.join(', ')}, got ${show(stateDict)}`);
  }
  const missing = KEYS.filter((k) => !(k in stateDict));
  if (missing.length) {
    throw new Error(
      `fromPyTorch: state dict lacks ${missing.join(', ')} (has ${Object.keys(stateDict).join(', ') || 'nothing'})`,
    );
  }
  const torchOrder = torchGateOrder(kind);
  const G = torchOrder.length;
  // Every tensor made so far is disposed when a later entry is refused.
  const made: tf.Tensor[] = [];
  const read = (name: (typeof KEYS)[number], rank: number, shape?: number[]) => {
    const t = toTensor(name, stateDict[name], rank, shape);
    made.push(t);
    return t;
  };
  let tensors: Record<'Wih' | 'Whh' | 'bih' | 'bhh', tf.Tensor>;
  let units: number;
  let inputSize: number;
  try {
    const Wih = read('weight_ih_l0', 2);
    const rows = Wih.shape[0];
    inputSize = Wih.shape[1];
    if (rows % G !== 0 || rows === 0) {
      throw new RangeError(
        `fromPyTorch('${kind}'): expected weight_ih_l0 with ${G} * hidden rows, got ${fmt(Wih.shape)}`,
      );
    }
    units = rows / G;
    tensors = {
      Wih,
      Whh: read('weight_hh_l0', 2, [G * units, units]),
      bih: read('bias_ih_l0', 1, [G * units]),
      bhh: read('bias_hh_l0', 1, [G * units]),
    };
  } catch (err) {
    tf.dispose(made);
    throw err;
  }
  const block = (t: tf.Tensor, gate: string) => {
    const k = torchOrder.indexOf(gate);
    return tf.slice(t, k * units, units);
  };
  const params: Record<string, tf.Variable> = {};
  tf.tidy(() => {
    const put = (symbol: string, value: tf.Tensor) => {
      params[symbol] = tf.variable(value, true);
    };
    for (const g of torchOrder) {
      put(`W_${g}x`, block(tensors.Wih, g));
      put(`W_${g}h`, block(tensors.Whh, g));
      if (kind === 'gru' && g === 'n') {
        put('b_n', block(tensors.bih, 'n'));
        put('b_nh', block(tensors.bhh, 'n'));
      } else {
        put(`b_${g}`, tf.add(block(tensors.bih, g), block(tensors.bhh, g)));
      }
    }
  });
  tf.dispose(Object.values(tensors));
  const config =
    kind === 'rnn_tanh' || kind === 'rnn_relu'
      ? { kind: 'elman' as const, inputSize, units, activation: kind === 'rnn_tanh' ? 'tanh' : 'relu' }
      : {
          kind,
          inputSize,
          units,
          activation: 'tanh',
          recurrentActivation: 'sigmoid',
          resetAfter: kind === 'gru' ? true : undefined,
        };
  return createCell(config, { params });
}

/** A state dict as PyTorch's `nn.RNN` / `nn.LSTM` / `nn.GRU` names it, in nested number arrays. */
export type PyTorchStateDict = Record<(typeof KEYS)[number], number[] | number[][]>;

/**
 * The PyTorch state dict (nested number arrays) of one of our cells.
 *
 * Synchronous: on cpu, wasm and tensorflow (tfjs-node). On webgpu and webgl it throws and names
 * {@link toPyTorchAsync}, which works everywhere.
 */
export function toPyTorch(cell: Cell): PyTorchStateDict {
  const instead = 'await rt.interop.toPyTorchAsync(cell)';
  assertSyncReadable('toPyTorch', instead);
  const tensors = pyTorchTensors('toPyTorch', cell);
  try {
    return Object.fromEntries(
      Object.entries(tensors).map(([k, t]) => [k, readArraySync('toPyTorch', instead, t) as number[] | number[][]]),
    ) as PyTorchStateDict;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** {@link toPyTorch}, read with `await array()`: works on every backend, webgpu and webgl included. */
export async function toPyTorchAsync(cell: Cell): Promise<PyTorchStateDict> {
  const tensors = pyTorchTensors('toPyTorchAsync', cell);
  try {
    const arrays = await Promise.all(Object.values(tensors).map((t) => t.array()));
    return Object.fromEntries(Object.keys(tensors).map((k, i) => [k, arrays[i]])) as PyTorchStateDict;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** A cell's parameters in PyTorch's layout, as tensors (the caller disposes them). */
export function pyTorchTensors(where: string, cell: Cell): Record<(typeof KEYS)[number], tf.Tensor> {
  const kind = pyTorchKind(where, cell);
  const torchOrder = torchGateOrder(kind);
  const p = cell.params;
  return tf.tidy(() => {
    const stack = (f: (g: string) => tf.Tensor) => tf.concat(torchOrder.map(f), 0);
    const zeros = tf.zeros([cell.units]);
    return {
      weight_ih_l0: stack((g) => p[`W_${g}x`]),
      weight_hh_l0: stack((g) => p[`W_${g}h`]),
      bias_ih_l0: stack((g) => p[`b_${g}`]),
      bias_hh_l0: stack((g) => (g === 'n' ? p.b_nh : zeros)),
    };
  });
}

/** The PyTorch module a cell corresponds to, or a clear error when there is none. */
function pyTorchKind(where: string, cell: Cell): PyTorchKind {
  const c = cell?.config;
  if (!c) throw new TypeError(`${where}: expected a Cell, got ${show(cell)}`);
  if (c.kind === 'elman') {
    if (c.activation === 'tanh' || c.activation === 'relu') return `rnn_${c.activation}`;
    throw new Error(`${where}: PyTorch's nn.RNN has tanh or relu, got activation '${c.activation}'`);
  }
  if (c.activation !== 'tanh' || c.recurrentActivation !== 'sigmoid') {
    throw new Error(
      `${where}: PyTorch's nn.${c.kind.toUpperCase()} uses tanh and sigmoid, got activation '${c.activation}', recurrentActivation '${c.recurrentActivation}'`,
    );
  }
  if (c.kind === 'gru' && !c.resetAfter) {
    throw new Error(
      `${where}: PyTorch's nn.GRU applies the reset gate after the matMul; this cell has resetAfter: false`,
    );
  }
  return c.kind;
}

function toTensor(name: string, entry: StateDictEntry, rank: number, shape?: number[]): tf.Tensor2D {
  const where = 'fromPyTorch';
  const expected = shape ?? new Array<string>(rank).fill('?');
  let given: number[];
  let values: ArrayLike<number> | number[];
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry) && 'shape' in entry) {
    given = checkNested(where, `${name}.shape`, entry.shape);
    const data = entry.data as unknown;
    if (given.length !== 1 || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(`${where}: expected ${name}.shape to be a list of sizes, got ${show(entry.shape)}`);
    }
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`${where}: expected ${name}.data to be an array of numbers, got ${describe(data)}`);
    }
    const flat = Array.from(data as ArrayLike<unknown>);
    checkNested(where, `${name}.data`, flat);
    given = [...entry.shape];
    if (flat.length !== sizeOf(given)) {
      throw new RangeError(
        `${where}: ${name}.shape ${fmt(given)} holds ${sizeOf(given)} values, but ${name}.data has ${flat.length}`,
      );
    }
    values = flat as number[];
  } else {
    if (!Array.isArray(entry)) {
      throw new TypeError(`${where}: ${name} is not a (nested) number array or { shape, data }: got ${show(entry)}`);
    }
    // A ragged array (rows of different lengths) is refused here: tf.tensor would read it by its first rows.
    given = checkNested(where, name, entry);
    values = (entry as unknown[]).flat(Infinity) as number[];
  }
  if (given.length !== rank || (shape && !shape.every((d, i) => given[i] === d))) {
    throw new RangeError(`${where}: expected ${name} of shape ${fmt(expected)}, got ${fmt(given)}`);
  }
  return tf.tensor(Array.from(values), given as [number, number], 'float32') as tf.Tensor2D;
}
