/**
 * PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` state dicts in and out: one cell ({@link fromPyTorch},
 * one layer, one direction), or a whole network ({@link pyTorchNetworkParts}; `num_layers`,
 * `bidirectional`, `bias=False`, a module prefix such as `lstm.` and an `nn.Linear` head).
 *
 * PyTorch stacks the gates along the rows: `weight_ih_l{k}: [gates * H, I]`,
 * `weight_hh_l{k}: [gates * H, H]`, and keeps two biases, `bias_ih_l{k}` and `bias_hh_l{k}`
 * (none with `bias=False`). Layer k's reverse direction has the same keys ending in `_reverse`.
 *
 * | kind | PyTorch gate order | ours |
 * |------|--------------------|------|
 * | `rnn_tanh`, `rnn_relu` (`'rnn'` + `nonlinearity`) | h | `b_h = b_ih + b_hh` |
 * | `lstm` | i, f, g, o | `b_g = b_ig + b_hg` for each gate |
 * | `gru` | r, z, n | `b_r = b_ir + b_hr`, `b_z = b_iz + b_hz`, `b_n = b_in`, `b_nh = b_hn` |
 *
 * Going back, a folded bias is written to `bias_ih` and `bias_hh` gets zeros (the sum, the only
 * thing the equations see, is the same). An `nn.Linear` head (`weight: [out, in]`, `bias`) is
 * the document's `W_yh`, `b_y` as they are. PyTorch's modules default to `batch_first=False`
 * (`[time, batch, features]`); ours are batch-first (`[batch, time, features]`): build the
 * PyTorch module with `batch_first=True`, or transpose. The weights do not depend on it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellConfig } from '../cells/cell.js';
import { createCell } from '../cells/kinds.js';
import { checkNested, checkOneOf, describe, fmt, show, sizeOf } from '../check/index.js';
import type { SavedNetwork } from '../io/artifacts.js';
import { cellPositions, splitByPosition, type NetworkConfig } from '../io/stack.js';
import { assertSyncReadable, readArraySync } from '../read.js';

export type PyTorchKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';
const KINDS: readonly PyTorchKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
/** The kinds a network's state dict may be read as: `'rnn'` takes `nonlinearity`. */
const NETWORK_KINDS = ['rnn', ...KINDS] as const;

/** A nested number array, or `{ shape, data }` with flat data. */
export type StateDictEntry = number[] | number[][] | { shape: number[]; data: ArrayLike<number> };
export type StateDict = Record<string, StateDictEntry>;

const KEYS = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'] as const;
/** A recurrent module's key, after its prefix: `weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0` (proj_size). */
const RECURRENT_KEY = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;

/** Options of `pyTorchNetworkParts` (and `rt.interop.fromPyTorchNetwork`). */
export interface FromPyTorchNetworkOptions {
  /** The module: `'rnn'` (`nn.RNN`, with `nonlinearity`), `'lstm'`, `'gru'`; `'rnn_tanh'`/`'rnn_relu'` as in {@link fromPyTorch}. */
  kind: (typeof NETWORK_KINDS)[number];
  /** `nn.RNN`'s `nonlinearity` (kind `'rnn'` only; default `'tanh'`). */
  nonlinearity?: 'tanh' | 'relu';
  /** The recurrent module's key prefix (`'lstm.'` for `lstm.weight_ih_l0`). Default: found from the keys. */
  prefix?: string;
  /**
   * The `nn.Linear` head's key prefix (`'fc.'` for `fc.weight`, `fc.bias`). Default: the one
   * module with a `weight` (and `bias`) beside the recurrent keys, if any. `null`: no head.
   * Without a head, `y_t` is the top layer's `h_t` (`W_yh` the identity, `b_y` zeros).
   */
  head?: string | null;
  /** g on top of the head (default `'linear'`; PyTorch applies none in the module). */
  outputActivation?: string;
}

/** Options of {@link toPyTorch} for a network. */
export interface ToPyTorchOptions {
  /** The recurrent module's key prefix (default `'rnn.'`: a module with `self.rnn = nn.LSTM(...)`). */
  prefix?: string;
  /** The `nn.Linear` head's key prefix (default `'fc.'`: `self.fc = nn.Linear(...)`). */
  head?: string;
}

/** PyTorch's gate order: which of our gates each row block of its stacked weights feeds. */
function torchGateOrder(kind: CellConfig['kind']): string[] {
  if (kind === 'lstm') return ['i', 'f', 'g', 'o'];
  if (kind === 'gru') return ['r', 'z', 'n'];
  return ['h'];
}

/** The recurrent module found in a state dict. */
interface Module {
  prefix: string;
  layers: number;
  bidirectional: boolean;
  bias: boolean;
  /** Keys that are neither the module's nor recognised. */
  others: string[];
}

/**
 * Builds one of our cells holding the weights of a one-layer, one-direction PyTorch state dict
 * (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`; no biases for `bias=False`). Any
 * other key is refused: stacked (`_l1`), bidirectional (`_reverse`) or prefixed dicts, and
 * heads, load with `rt.interop.fromPyTorchNetwork`.
 */
export function fromPyTorch(kind: PyTorchKind, stateDict: StateDict): Cell {
  const where = 'fromPyTorch';
  checkOneOf(where, 'kind', kind, KINDS);
  checkStateDict(where, stateDict);
  const module = findModule(where, stateDict, undefined);
  const { prefix, layers, bidirectional, others } = module;
  if (prefix !== '' || layers > 1 || bidirectional || others.length) {
    const beyond = Object.keys(stateDict).filter((k) => !(KEYS as readonly string[]).includes(k));
    throw new Error(
      `${where}: the state dict holds more than one layer in one direction (${beyond.join(', ')}); ` +
        `fromPyTorch reads exactly ${KEYS.join(', ')}. For nn.RNN/LSTM/GRU with num_layers > 1, ` +
        'bidirectional=True, a module prefix or a Linear head use rt.interop.fromPyTorchNetwork(stateDict, { kind })',
    );
  }
  return readCell(where, kind, stateDict, { prefix: '', suffix: '_l0' }, module.bias, cellConfigOf(kind));
}

/**
 * The configuration and parameters (new variables) of the network a full PyTorch state dict
 * holds: `nn.RNN`/`nn.LSTM`/`nn.GRU` with any `num_layers`, `bidirectional`, `bias`, under a
 * module prefix, plus an optional `nn.Linear` head. Every key must be understood: anything
 * else (`proj_size`'s `weight_hr_l0`, a second head, a missing layer) is an error naming it.
 * `rt.interop.fromPyTorchNetwork` builds the network from it.
 */
export function pyTorchNetworkParts(stateDict: StateDict, options: FromPyTorchNetworkOptions): SavedNetwork {
  const where = 'fromPyTorchNetwork';
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected options { kind, nonlinearity?, prefix?, head? }, got ${show(options)}`);
  }
  const known = ['kind', 'nonlinearity', 'prefix', 'head', 'outputActivation'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${where}: unknown option '${key}'; expected one of ${known.join(', ')}`);
  }
  const given = checkOneOf(where, 'kind', options.kind, NETWORK_KINDS);
  if (options.nonlinearity !== undefined && given !== 'rnn') {
    throw new Error(`${where}: nonlinearity applies to kind 'rnn' only, got kind '${given}'`);
  }
  const kind: PyTorchKind =
    given === 'rnn'
      ? `rnn_${checkOneOf(where, 'nonlinearity', options.nonlinearity ?? 'tanh', ['tanh', 'relu'])}`
      : given;
  checkStateDict(where, stateDict);
  const module = findModule(where, stateDict, options.prefix);
  const headPrefix = findHead(where, stateDict, module, options.head);
  const cell0 = cellConfigOf(kind);
  const made: tf.Tensor[] = [];
  try {
    // hidden_size is weight_hh_l0's width; its rows tell the gates (4: LSTM, 3: GRU, 1: RNN).
    const key = `${module.prefix}weight_hh_l0`;
    const probe = toTensor(where, key, stateDict[key], 2);
    made.push(probe);
    const G = torchGateOrder(cell0.kind).length;
    const [rows, units] = probe.shape;
    if (units === 0 || rows !== G * units) {
      throw new RangeError(
        `${where}('${kind}'): expected ${key} of shape [${G} * hidden_size, hidden_size], got ${fmt(probe.shape)}` +
          (units > 0 && rows % units === 0 ? ` (${rows / units} gate block(s): is it another kind of module?)` : ''),
      );
    }
    const input = toTensor(where, `${module.prefix}weight_ih_l0`, stateDict[`${module.prefix}weight_ih_l0`], 2);
    made.push(input);
    const inputSize = input.shape[1];
    const hidden = (module.bidirectional ? 2 : 1) * units;
    let W_yh: tf.Tensor;
    let b_y: tf.Tensor;
    if (headPrefix === null) {
      W_yh = tf.eye(hidden);
      b_y = tf.zeros([hidden]);
    } else {
      W_yh = toTensor(where, `${headPrefix}weight`, stateDict[`${headPrefix}weight`], 2);
      made.push(W_yh);
      if (W_yh.shape[1] !== hidden) {
        throw new RangeError(
          `${where}: expected ${headPrefix}weight of shape [out_features, ${hidden}] (the top layer's ` +
            `${module.bidirectional ? '2 * ' : ''}hidden_size), got ${fmt(W_yh.shape)}`,
        );
      }
      const bias = stateDict[`${headPrefix}bias`];
      b_y =
        bias === undefined ? tf.zeros([W_yh.shape[0]]) : toTensor(where, `${headPrefix}bias`, bias, 1, [W_yh.shape[0]]);
    }
    made.push(W_yh, b_y);
    const config: NetworkConfig = {
      cell: { ...cell0, inputSize, units, ...(module.bias ? {} : { useBias: false }) },
      outputSize: W_yh.shape[0],
      outputActivation: options.outputActivation ?? 'linear',
    };
    if (module.layers > 1 || module.bidirectional) {
      Object.assign(config, { layers: module.layers, bidirectional: module.bidirectional, dropout: 0 });
    }
    const params: Record<string, tf.Variable> = {};
    try {
      for (const p of cellPositions(config)) {
        const keys = { prefix: module.prefix, suffix: `_l${p.layer}${p.reverse ? '_reverse' : ''}` };
        const cell = readCell(where, kind, stateDict, keys, module.bias, p.config);
        for (const [symbol, v] of Object.entries(cell.params)) params[p.prefix + symbol] = v;
      }
      params.W_yh = tf.variable(W_yh, true);
      params.b_y = tf.variable(b_y, true);
    } catch (err) {
      tf.dispose(Object.values(params));
      throw err;
    }
    return { config, params };
  } finally {
    tf.dispose(made);
  }
}

/** Refuses what is not a state dict object. */
function checkStateDict(where: string, stateDict: unknown): void {
  if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
    throw new TypeError(
      `${where}: expected a state dict with ${KEYS.join(', ')} (and more for a network), got ${show(stateDict)}`,
    );
  }
}

/**
 * The recurrent module of a state dict: its prefix (given, or the one prefix of a
 * `weight_ih_l0` key), layers, directions and biases, each layer complete.
 */
function findModule(where: string, stateDict: StateDict, given: string | undefined): Module {
  const keys = Object.keys(stateDict);
  const has = (k: string) => Object.hasOwn(stateDict, k);
  let prefix: string;
  if (given !== undefined) {
    if (typeof given !== 'string') throw new TypeError(`${where}: expected prefix to be a string, got ${show(given)}`);
    if (!has(`${given}weight_ih_l0`)) {
      throw new Error(`${where}: no key ${given}weight_ih_l0 (prefix '${given}'); the keys are ${keys.join(', ')}`);
    }
    prefix = given;
  } else {
    const found = keys.filter((k) => k.endsWith('weight_ih_l0')).map((k) => k.slice(0, -'weight_ih_l0'.length));
    if (found.length !== 1) {
      throw new Error(
        found.length === 0
          ? `${where}: no weight_ih_l0 key (an nn.RNN/LSTM/GRU state dict has one); the keys are ${keys.join(', ') || 'none'}`
          : `${where}: several recurrent modules (${found.map((p) => `${p}weight_ih_l0`).join(', ')}); pass prefix to pick one`,
      );
    }
    prefix = found[0];
  }
  const parsed = keys
    .filter((k) => k.startsWith(prefix))
    .map((k) => ({ key: k, match: RECURRENT_KEY.exec(k.slice(prefix.length)) }))
    .filter((p) => p.match !== null);
  const projection = parsed.filter((p) => p.match![1] === 'weight_hr').map((p) => p.key);
  if (projection.length) {
    throw new Error(
      `${where}: ${projection.join(', ')}: an LSTM with proj_size (h_t projected by weight_hr) has no equal here; ` +
        'build it with proj_size=0',
    );
  }
  const layers = 1 + Math.max(...parsed.map((p) => Number(p.match![2])));
  const bidirectional = parsed.some((p) => p.match![3] !== undefined);
  const bias = has(`${prefix}bias_ih_l0`) || has(`${prefix}bias_hh_l0`);
  const keysOf = (withBias: boolean) => {
    const names = withBias ? ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] : ['weight_ih', 'weight_hh'];
    const out: string[] = [];
    for (let l = 0; l < layers; l++) {
      for (const suffix of bidirectional ? ['', '_reverse'] : [''])
        out.push(...names.map((n) => `${prefix}${n}_l${l}${suffix}`));
    }
    return out;
  };
  const expected = keysOf(bias);
  if (expected.some((k) => !has(k))) {
    // Without any bias key and with weights missing too, the biased keys are named (the likelier intent).
    const missing = keysOf(true).filter((k) => !has(k));
    throw new Error(
      `${where}: state dict lacks ${missing.join(', ')} (${layers} layer(s)${bidirectional ? ', bidirectional' : ''}` +
        `${bias ? '' : '; with bias=False, no bias keys'}; has ${keys.join(', ')})`,
    );
  }
  const extra = parsed.map((p) => p.key).filter((k) => !expected.includes(k));
  if (extra.length)
    throw new Error(`${where}: keys not understood: ${extra.join(', ')} (expected ${expected.join(', ')})`);
  return { prefix, layers, bidirectional, bias, others: keys.filter((k) => !expected.includes(k)) };
}

/** The head's prefix (given, `null` for none, or the one module left with a `weight`); every other key refused. */
function findHead(
  where: string,
  stateDict: StateDict,
  module: Module,
  given: string | null | undefined,
): string | null {
  const { others } = module;
  let head: string | null;
  if (given === null) head = null;
  else if (given !== undefined) {
    if (typeof given !== 'string')
      throw new TypeError(`${where}: expected head to be a string or null, got ${show(given)}`);
    if (!Object.hasOwn(stateDict, `${given}weight`)) {
      throw new Error(
        `${where}: no key ${given}weight (head '${given}'); the keys beside the recurrent module are ${others.join(', ') || 'none'}`,
      );
    }
    head = given;
  } else {
    const weights = others.filter((k) => k.endsWith('weight')).map((k) => k.slice(0, -'weight'.length));
    if (weights.length > 1) {
      throw new Error(
        `${where}: several candidate Linear heads (${weights.map((p) => `${p}weight`).join(', ')}); pass head to pick one`,
      );
    }
    head = weights.length === 1 ? weights[0] : null;
  }
  const used = head === null ? [] : [`${head}weight`, `${head}bias`];
  const extra = others.filter((k) => !used.includes(k));
  if (extra.length) {
    throw new Error(
      `${where}: keys not understood: ${extra.join(', ')} (the recurrent module is '${module.prefix}', ` +
        `the head ${head === null ? 'none' : `'${head}'`})`,
    );
  }
  return head;
}

/** The cell configuration (sizes aside) of a PyTorch kind. */
function cellConfigOf(kind: PyTorchKind): CellConfig {
  if (kind === 'rnn_tanh' || kind === 'rnn_relu') {
    return { kind: 'elman', inputSize: 0, units: 0, activation: kind === 'rnn_tanh' ? 'tanh' : 'relu' };
  }
  return {
    kind,
    inputSize: 0,
    units: 0,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    ...(kind === 'gru' ? { resetAfter: true } : {}),
  };
}

/**
 * One cell from the keys `prefix + name + suffix` (`lstm.` + `weight_ih` + `_l1_reverse`). Sizes come
 * from `weight_ih` when `config` has none (0), else they must match.
 */
function readCell(
  where: string,
  kind: PyTorchKind,
  stateDict: StateDict,
  { prefix, suffix }: { prefix: string; suffix: string },
  bias: boolean,
  config: CellConfig,
): Cell {
  const key = (name: string) => `${prefix}${name}${suffix}`;
  const torchOrder = torchGateOrder(config.kind);
  const G = torchOrder.length;
  // Every tensor made so far is disposed when a later entry is refused.
  const made: tf.Tensor[] = [];
  const read = (name: string, rank: number, shape?: number[]) => {
    const t = toTensor(where, key(name), stateDict[key(name)], rank, shape);
    made.push(t);
    return t;
  };
  try {
    const Wih = read('weight_ih', 2, config.units ? [G * config.units, config.inputSize] : undefined);
    const rows = Wih.shape[0];
    if (rows % G !== 0 || rows === 0) {
      throw new RangeError(
        `${where}('${kind}'): expected ${key('weight_ih')} with ${G} * hidden rows, got ${fmt(Wih.shape)}`,
      );
    }
    const units = rows / G;
    const Whh = read('weight_hh', 2, [G * units, units]);
    const bih = bias ? read('bias_ih', 1, [G * units]) : null;
    const bhh = bias ? read('bias_hh', 1, [G * units]) : null;
    const block = (t: tf.Tensor, gate: string) => tf.slice(t, torchOrder.indexOf(gate) * units, units);
    const params: Record<string, tf.Variable> = {};
    tf.tidy(() => {
      const put = (symbol: string, value: tf.Tensor) => {
        params[symbol] = tf.variable(value, true);
      };
      for (const g of torchOrder) {
        put(`W_${g}x`, block(Wih, g));
        put(`W_${g}h`, block(Whh, g));
        if (!bih || !bhh) continue;
        if (config.kind === 'gru' && g === 'n') {
          put('b_n', block(bih, 'n'));
          put('b_nh', block(bhh, 'n'));
        } else {
          put(`b_${g}`, tf.add(block(bih, g), block(bhh, g)));
        }
      }
    });
    const sized = { ...config, inputSize: Wih.shape[1], units, ...(bias ? {} : { useBias: false }) };
    try {
      return createCell(sized, { params });
    } catch (err) {
      tf.dispose(Object.values(params));
      throw err;
    }
  } finally {
    tf.dispose(made);
  }
}

/** A state dict as PyTorch's `nn.RNN` / `nn.LSTM` / `nn.GRU` names it, in nested number arrays. */
export type PyTorchStateDict = Record<string, number[] | number[][]>;

/** What {@link toPyTorch} takes: a cell, or a network (its configuration and parameters; a `RecurrentNetwork` is one). */
export type PyTorchSource = Cell | SavedNetwork;

/**
 * The PyTorch state dict (nested number arrays) of one of our cells (`weight_ih_l0`, …), or of a
 * network: `rnn.weight_ih_l0`, …, `rnn.weight_hh_l1_reverse`, `fc.weight`, `fc.bias` (prefixes
 * in {@link ToPyTorchOptions}), for a module such as
 *
 * ```py
 * class Net(nn.Module):
 *     def __init__(self):
 *         super().__init__()
 *         self.rnn = nn.LSTM(input_size, units, num_layers=layers, bidirectional=bidirectional, batch_first=True)
 *         self.fc = nn.Linear(units * directions, output_size)
 *     def forward(self, x):
 *         return self.fc(self.rnn(x)[0])
 * ```
 *
 * Synchronous: on cpu, wasm and tensorflow (tfjs-node). On webgpu and webgl it throws and names
 * {@link toPyTorchAsync}, which works everywhere.
 */
export function toPyTorch(source: PyTorchSource, options: ToPyTorchOptions = {}): PyTorchStateDict {
  const instead = 'await rt.interop.toPyTorchAsync(model)';
  assertSyncReadable('toPyTorch', instead);
  const tensors = torchTensors('toPyTorch', source, options);
  try {
    return Object.fromEntries(
      Object.entries(tensors).map(([k, t]) => [k, readArraySync('toPyTorch', instead, t) as number[] | number[][]]),
    );
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** {@link toPyTorch}, read with `await array()`: works on every backend, webgpu and webgl included. */
export async function toPyTorchAsync(source: PyTorchSource, options: ToPyTorchOptions = {}): Promise<PyTorchStateDict> {
  const tensors = torchTensors('toPyTorchAsync', source, options);
  try {
    const arrays = await Promise.all(Object.values(tensors).map((t) => t.array()));
    return Object.fromEntries(Object.keys(tensors).map((k, i) => [k, arrays[i]])) as PyTorchStateDict;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** A cell's or a network's parameters in PyTorch's layout, as tensors (the caller disposes them). */
function torchTensors(where: string, source: PyTorchSource, options: ToPyTorchOptions): Record<string, tf.Tensor> {
  const config = (source as { config?: unknown } | null)?.config as NetworkConfig | CellConfig | undefined;
  if (!config || typeof config !== 'object') {
    throw new TypeError(`${where}: expected a Cell, got ${show(source)} (a RecurrentNetwork converts too)`);
  }
  if (!('cell' in config)) {
    if (options && Object.keys(options).length) {
      throw new Error(
        `${where}: prefix and head apply to a network; a cell's keys are weight_ih_l0, … as nn.LSTM names them`,
      );
    }
    return cellTensors(where, config, source.params, '_l0');
  }
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: expected options { prefix?, head? }`);
  for (const key of Object.keys(options)) {
    if (key !== 'prefix' && key !== 'head')
      throw new Error(`${where}: unknown option '${key}'; expected one of prefix, head`);
  }
  const { prefix = 'rnn.', head = 'fc.' } = options;
  if (config.outputActivation !== 'linear') {
    throw new Error(
      `${where}: nn.Linear is the output function with g linear; this network has outputActivation ` +
        `'${config.outputActivation}' (apply it after the PyTorch module)`,
    );
  }
  const { W_yh, b_y, ...cellParams } = source.params;
  const positions = cellPositions(config);
  const { own } = splitByPosition(positions, cellParams);
  const out: Record<string, tf.Tensor> = {};
  try {
    positions.forEach((p, i) => {
      const suffix = `_l${p.layer}${p.reverse ? '_reverse' : ''}`;
      for (const [k, t] of Object.entries(cellTensors(where, p.config, own[i], suffix))) out[prefix + k] = t;
    });
  } catch (err) {
    tf.dispose(Object.values(out));
    throw err;
  }
  out[`${head}weight`] = tf.clone(W_yh);
  out[`${head}bias`] = tf.clone(b_y);
  return out;
}

/** A cell's parameters in PyTorch's layout, as tensors keyed `weight_ih_l0`, … (the caller disposes them). */
export function pyTorchTensors(where: string, cell: Cell): Record<(typeof KEYS)[number], tf.Tensor> {
  if (!cell?.config) throw new TypeError(`${where}: expected a Cell, got ${show(cell)}`);
  return cellTensors(where, cell.config, cell.params, '_l0') as Record<(typeof KEYS)[number], tf.Tensor>;
}

/** One cell's parameters as PyTorch keys ending in `suffix` (no biases when the cell has none). */
function cellTensors(
  where: string,
  config: CellConfig,
  p: Record<string, tf.Tensor>,
  suffix: string,
): Record<string, tf.Tensor> {
  pyTorchKind(where, config); // refuses a cell PyTorch has no module for
  const torchOrder = torchGateOrder(config.kind);
  const bias = config.useBias !== false;
  return tf.tidy(() => {
    const stack = (f: (g: string) => tf.Tensor) => tf.concat(torchOrder.map(f), 0);
    const zeros = tf.zeros([config.units]);
    const weights = {
      [`weight_ih${suffix}`]: stack((g) => p[`W_${g}x`]),
      [`weight_hh${suffix}`]: stack((g) => p[`W_${g}h`]),
    };
    if (!bias) return weights;
    return {
      ...weights,
      [`bias_ih${suffix}`]: stack((g) => p[`b_${g}`]),
      [`bias_hh${suffix}`]: stack((g) => (g === 'n' ? p.b_nh : zeros)),
    };
  });
}

/** The PyTorch module a cell configuration corresponds to, or a clear error when there is none. */
function pyTorchKind(where: string, c: CellConfig): PyTorchKind {
  if (c.kind === 'elman') {
    if (c.activation === 'tanh' || c.activation === 'relu') return `rnn_${c.activation}`;
    throw new Error(`${where}: PyTorch's nn.RNN has tanh or relu, got activation '${c.activation}'`);
  }
  if (c.kind !== 'lstm' && c.kind !== 'gru') {
    throw new Error(`${where}: PyTorch has no module for cell kind '${c.kind}' (nn.RNN, nn.LSTM and nn.GRU only)`);
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

function toTensor(where: string, name: string, entry: StateDictEntry, rank: number, shape?: number[]): tf.Tensor2D {
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
