/**
 * Keras / tfjs-layers weights in and out.
 *
 * Keras (and tfjs's own `SimpleRNN`, `LSTM`, `GRU`) keep three weights per layer, gates side by
 * side along the columns and in Keras's orientation (`x_t kernel`, the transpose of ours):
 *
 * | weight | shape | ours |
 * |--------|-------|------|
 * | `kernel` | `[inputSize, gates * units]` | `[W_ax^T, W_bx^T, …]` |
 * | `recurrent_kernel` | `[units, gates * units]` | `[W_ah^T, W_bh^T, …]` |
 * | `bias` | `[gates * units]` | `[b_a, b_b, …]` |
 *
 * Keras's gate orders equal ours: SimpleRNN h; LSTM i, f, c, o (our g is Keras's c); GRU z, r, h
 * (our n is Keras's h).
 *
 * A GRU with `resetAfter: true` (our default) is Keras 3's default GRU (`reset_after=True`), whose
 * bias is `[2, 3 * units]`: row 0 the input biases (`b_z, b_r, b_n`), row 1 the recurrent ones
 * (`0, 0, b_nh`; ours folds the recurrent z and r biases into the input ones). Python Keras 3 loads
 * these three arrays with `layer.set_weights`; **tfjs cannot**: its GRU throws on
 * `resetAfter: true` and only computes the `resetAfter: false` form (bias `[3 * units]`). In tfjs,
 * use `layers.gru` of this package for that form.
 *
 * Activations carry over by name. tfjs's `gelu` is the exact erf form, which we do not have; its
 * `gelu_new` is our `gelu` (tanh approximation) and is read, never written (see {@link FROM_TFJS}).
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellConfig, CellKind } from '../cells/cell.js';
import { createCell, definitionOf } from '../cells/kinds.js';
import { checkKeys, describe, fmt, inapplicable, show } from '../check/index.js';

/** tfjs's recurrent layer class names and the cell each computes. */
const KERAS_KINDS: Record<string, CellKind> = { SimpleRNN: 'elman', LSTM: 'lstm', GRU: 'gru' };

/** The activations tfjs's layers have under the same name (and save and load by it). */
const SHARED = new Set([
  'tanh',
  'relu',
  'sigmoid',
  'hardSigmoid',
  'linear',
  'softmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
]);
/**
 * tfjs activations read under another name. tfjs's `gelu_new` is our `gelu` (the tanh
 * approximation), but it is never written: tfjs 4.22 saves it as `gelu_new` and cannot load it
 * back (its config reader renames it `geluNew`).
 */
const FROM_TFJS: Record<string, string> = { gelu_new: 'gelu' };

/** The name tfjs's layers know our activation `name` by, or `null` when tfjs has no equal. */
export function toTfjsActivation(name: string): string | null {
  return SHARED.has(name) ? name : null;
}

/** Our name for the tfjs activation `name`; an error when there is no equal one. */
export function fromTfjsActivation(where: string, name: string): string {
  const ours = FROM_TFJS[name] ?? (SHARED.has(name) ? name : null);
  if (ours === null) {
    throw new Error(
      `${where}: tfjs activation '${name}' has no equal here; expected one of ` +
        `${[...SHARED, ...Object.keys(FROM_TFJS)].join(', ')}`,
    );
  }
  return ours;
}

/**
 * Options of a tfjs recurrent layer that a cell cannot carry: they change what the layer computes.
 * (`returnState` and `returnSequences` do not: unroll returns every output and the final state.)
 */
const LAYER_ONLY = ['goBackwards', 'stateful'] as const;
type LayerOnly = (typeof LAYER_ONLY)[number];
const LAYER_ONLY_HOW: Record<LayerOnly, string> = {
  goBackwards: 'run it with rt.unroll(cell, x, { reverse: true })',
  stateful: "carry the state across batches yourself with unroll's initialState",
};

export interface FromKerasOptions {
  /**
   * Layer options to accept without carrying them (`goBackwards`, `stateful`):
   * without this a layer that has one set is refused, since the cell alone would compute
   * something else (a reversed sequence, a state carried across batches).
   */
  ignore?: LayerOnly[];
}

/**
 * The cell that computes what a tfjs `SimpleRNN`, `LSTM` or `GRU` layer (built, e.g. inside a
 * model) computes, holding copies of its weights: activation and recurrentActivation carry over
 * (tfjs's layers default to `hardSigmoid` gates), a tfjs GRU gives `resetAfter: false`, a layer
 * without bias gives zero biases. A layer with `goBackwards` or `stateful` set is
 * refused (naming the option) unless `options.ignore` lists it: they belong to {@link unroll}'s
 * caller. `returnSequences` and `returnState` change nothing here, and dropout is a training-time option that a
 * cell does not have.
 */
export function fromKeras(layer: tf.layers.Layer, options: FromKerasOptions = {}): Cell {
  if (!(layer instanceof tf.layers.Layer)) {
    throw new TypeError(`fromKeras: expected a tfjs SimpleRNN, LSTM or GRU layer, got ${describe(layer)}`);
  }
  const className = layer.getClassName();
  const kind = KERAS_KINDS[className];
  if (kind === undefined) {
    throw new TypeError(`fromKeras: expected a tfjs SimpleRNN, LSTM or GRU layer, got a ${className} layer`);
  }
  const where = `fromKeras(${className} '${layer.name}')`;
  if (!layer.built) throw new Error(`${where}: the layer is not built yet; apply it to an input or add it to a model`);
  const config = layer.getConfig();
  checkKeys('fromKeras', options, ['ignore']);
  const ignore = options.ignore ?? [];
  if (!Array.isArray(ignore) || ignore.some((k) => !(LAYER_ONLY as readonly string[]).includes(k))) {
    throw new TypeError(`fromKeras: expected ignore to be a list of ${LAYER_ONLY.join(', ')}, got ${show(ignore)}`);
  }
  for (const option of LAYER_ONLY) {
    if (config[option] === true && !ignore.includes(option)) {
      throw inapplicable(
        where,
        option,
        true,
        `to a cell, which is one step of the equations (${LAYER_ONLY_HOW[option]}); pass ` +
          `{ ignore: ['${option}'] } to take the weights anyway`,
      );
    }
  }
  const units = config.units as number;
  const weights = layer.getWeights();
  const values = paramsFromKeras(where, kind, units, weights, false);
  const cellConfig: CellConfig = {
    kind,
    inputSize: weights[0].shape[0],
    units,
    activation: fromTfjsActivation(where, config.activation as string),
    recurrentActivation: kind === 'elman' ? undefined : fromTfjsActivation(where, config.recurrentActivation as string),
    resetAfter: kind === 'gru' ? false : undefined,
  };
  const params: Record<string, tf.Variable> = {};
  for (const [symbol, value] of Object.entries(values)) params[symbol] = tf.variable(value, true);
  tf.dispose(Object.values(values));
  return createCell(cellConfig, { params });
}

/** Refuses a kind Keras has no layer for (minGRU, minLSTM, the LRU, IndRNN). */
function checkKerasKind(where: string, kind: CellKind): void {
  if (!Object.values(KERAS_KINDS).includes(kind)) {
    throw new TypeError(`${where}: Keras has no ${kind} layer (its weights are SimpleRNN's, LSTM's or GRU's)`);
  }
}

/**
 * The per-symbol parameters (new tensors; dispose them) of Keras-layout weights
 * `[kernel, recurrent_kernel, bias?]` of a `kind` cell with `units` (see the module documentation):
 * without a bias, zero biases. A GRU's bias is `[3 * units]` for `resetAfter: false` and Keras 3's
 * `[2 * 3 * units]` (`[2, 3 * units]`) for `resetAfter: true`, whose recurrent z and r biases are
 * folded into `b_z`, `b_r` and whose recurrent n bias is `b_nh`. Any other count or shape is an
 * error naming the weight, the expected and the given shape.
 */
export function paramsFromKeras(
  where: string,
  kind: CellKind,
  units: number,
  weights: readonly tf.Tensor[],
  resetAfter: boolean,
): Record<string, tf.Tensor> {
  checkKerasKind(where, kind);
  const gates = definitionOf(kind).gates;
  const G = gates.length;
  if (!Array.isArray(weights) || (weights.length !== 2 && weights.length !== 3)) {
    throw new Error(
      `${where}: expected Keras weights [kernel, recurrent_kernel, bias] (or without bias), got ` +
        `${Array.isArray(weights) ? `${weights.length} weights` : describe(weights)}`,
    );
  }
  const [kernel, recurrentKernel, bias] = weights;
  const expect = (name: string, t: unknown, shape: number[]) => {
    if (!(t instanceof tf.Tensor))
      throw new TypeError(`${where}: expected ${name} to be a tf.Tensor, got ${describe(t)}`);
    if (t.shape.length !== shape.length || t.shape.some((d: number, i: number) => d !== shape[i])) {
      throw new RangeError(`${where}: expected ${name} of shape ${fmt(shape)}, got ${fmt(t.shape)}`);
    }
  };
  expect('kernel', kernel, [kernel instanceof tf.Tensor ? kernel.shape[0] : 0, G * units]);
  expect('recurrent_kernel', recurrentKernel, [units, G * units]);
  const twoRows = kind === 'gru' && resetAfter;
  if (bias !== undefined) {
    const form = kind === 'gru' ? ` (a GRU with resetAfter: ${resetAfter})` : '';
    expect(`bias${form}`, bias, twoRows ? [2, G * units] : [G * units]);
  }
  return tf.tidy(() => {
    const Wx = tf.split(kernel, G, 1);
    const Wh = tf.split(recurrentKernel, G, 1);
    const rows = bias === undefined ? [tf.zeros([G * units])] : twoRows ? tf.unstack(bias) : [bias];
    const b = tf.split(rows[0], G, 0);
    const bh = rows[1] ? tf.split(rows[1], G, 0) : null;
    const params: Record<string, tf.Tensor> = {};
    gates.forEach((g, k) => {
      params[`W_${g}x`] = tf.transpose(Wx[k]);
      params[`W_${g}h`] = tf.transpose(Wh[k]);
      params[`b_${g}`] = bh && g !== 'n' ? tf.add(b[k], bh[k]) : b[k];
    });
    if (twoRows) params.b_nh = bh ? bh[G - 1] : tf.zeros([units]);
    return params;
  });
}

/**
 * The cell's weights in Keras layout: `[kernel, recurrent_kernel, bias]`, or the first two for a
 * cell without biases (new tensors; dispose them). `setWeights` on a tfjs `SimpleRNN`, `LSTM` or `GRU` (`resetAfter: false` cells) with the
 * same units and activations then computes what the cell computes. A `resetAfter: true` GRU gives
 * Keras 3's `[2, 3 * units]` bias, which Python Keras loads and tfjs's GRU cannot (see the module
 * documentation).
 */
export function toKeras(cell: Cell): tf.Tensor[] {
  if (cell === null || typeof cell !== 'object' || !cell.config || !cell.params) {
    throw new TypeError(`toKeras: expected a Cell, got ${describe(cell)}`);
  }
  checkKerasKind('toKeras', cell.kind);
  const p = cell.params;
  const gates = definitionOf(cell.kind).gates;
  return tf.tidy(() => {
    const side = (symbol: (g: string) => string) =>
      tf.concat(
        gates.map((g) => tf.transpose(p[symbol(g)])),
        1,
      );
    const kernel = side((g) => `W_${g}x`);
    const recurrentKernel = side((g) => `W_${g}h`);
    // A cell without biases (a layer with useBias: false) has Keras's two weights.
    if (!(`b_${gates[0]}` in p)) return [kernel, recurrentKernel];
    const bias = tf.concat(
      gates.map((g) => p[`b_${g}`]),
      0,
    );
    if (cell.kind === 'gru' && cell.config.resetAfter) {
      const recurrentBias = tf.concat([tf.zeros([2 * cell.units]), p.b_nh], 0);
      return [kernel, recurrentKernel, tf.stack([bias, recurrentBias])];
    }
    return [kernel, recurrentKernel, bias];
  });
}
