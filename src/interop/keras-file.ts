/**
 * Keras model files in: {@link loadKeras} reads a Keras 2 / tf.keras `.h5` file (`model.save`)
 * or a Keras 3 `.keras` file (a zip of `config.json` and `model.weights.h5`) and builds a
 * `tf.LayersModel` of this package's recurrent layers (`layers.elman`, `layers.lstm`,
 * `layers.gru`, inside `tf.layers.bidirectional` where Keras had `Bidirectional`) and tfjs's own
 * `dense`, `timeDistributed`, `embedding`, `activation`, `repeatVector`, `dropout` and `flatten`, holding the file's weights.
 *
 * | Keras layer | ours |
 * |-------------|------|
 * | `SimpleRNN`, `LSTM`, `GRU` (`reset_after` either way) | `layers.elman`, `layers.lstm`, `layers.gru` with the same activations, `returnSequences`, `goBackwards` |
 * | `CuDNNLSTM`, `CuDNNGRU` | `layers.lstm`, `layers.gru` (`resetAfter: true`) with tanh and sigmoid; the two cuDNN biases summed (see `keras-weights.ts`) |
 * | `Bidirectional` (`merge_mode` concat, sum, mul, ave) | `tf.layers.bidirectional` around ours |
 * | `Dense`, `TimeDistributed(Dense)`, `Embedding` (without `mask_zero`), `Activation`, `RepeatVector`, `Dropout`, `Flatten`, `InputLayer` | tfjs's own |
 *
 * The model must be a chain (`Sequential`, or a functional model whose every layer takes the
 * previous one's output). Options that matter only to training (initialisers, regularisers,
 * constraints, dropout rates, `unroll`, `implementation`) are read and left. Everything else we
 * cannot honour is an error naming the layer and the option: an unknown layer class, `stateful`,
 * `return_state`, `time_major`, an activation we do not have, Keras 3's `hard_sigmoid` (which is
 * `relu6(x + 3) / 6`, not Keras 2's `0.2 x + 0.5` that ours computes), a weights-only file
 * (no `model_config`), Keras 1 files.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import { describe, show } from '../check/index.js';
import * as ourLayers from '../layers/index.js';
import { openHdf5 } from './hdf5.js';
import { cellFromKerasWeights, type KerasRecurrentSpec } from './keras-weights.js';
import { lazyImport } from '../lazy-import.js';

type Json = Record<string, unknown>;
interface KerasLayer {
  class_name: string;
  config: Json;
  inbound_nodes?: unknown;
}

/** Keras's recurrent classes and the cell each computes. */
const RECURRENT: Record<string, KerasRecurrentSpec['kind']> = {
  SimpleRNN: 'elman',
  LSTM: 'lstm',
  GRU: 'gru',
  CuDNNLSTM: 'lstm',
  CuDNNGRU: 'gru',
};
/** Keras activation names and ours (tfjs's too); `hard_sigmoid` only from Keras 2 files. */
const ACTIVATIONS: Record<string, string> = {
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  relu: 'relu',
  linear: 'linear',
  softmax: 'softmax',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  hard_sigmoid: 'hardSigmoid',
};
/** Options read and left: they matter to training or speed only. */
const TRAINING_ONLY = [
  'name',
  'trainable',
  'dtype',
  'kernel_initializer',
  'recurrent_initializer',
  'bias_initializer',
  'kernel_regularizer',
  'recurrent_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'recurrent_constraint',
  'bias_constraint',
  'dropout',
  'recurrent_dropout',
  'unroll',
  'implementation',
  'unit_forget_bias',
  'use_cudnn',
  'seed',
  'zero_output_for_mask',
  'batch_input_shape',
  'batch_size',
  'input_dim',
  'input_length',
  'build_config',
];
const RECURRENT_KEYS = [
  ...TRAINING_ONLY,
  'units',
  'activation',
  'recurrent_activation',
  'use_bias',
  'return_sequences',
  'return_state',
  'go_backwards',
  'stateful',
  'time_major',
  'reset_after',
];

/** Where a file's weights are and what its names mean. */
interface Source {
  where: string;
  keras3: boolean;
  /** A layer's weight arrays in Keras's order (a Bidirectional's forward ones, then its backward ones). */
  weights(layer: KerasLayer): tf.Tensor[];
}

function refuse(where: string, layer: KerasLayer, what: string): Error {
  return new Error(`${where}: layer '${String(layer.config.name)}' (${layer.class_name}) ${what}`);
}

function checkOptions(where: string, layer: KerasLayer, known: readonly string[]): void {
  const unknown = Object.keys(layer.config).filter((k) => !known.includes(k));
  if (unknown.length) throw refuse(where, layer, `has option ${unknown.join(', ')}, which is not supported here`);
}

function activationOf(src: Source, layer: KerasLayer, key: string, fallback: string): string {
  const name = (layer.config[key] as string | undefined) ?? fallback;
  if (name === 'hard_sigmoid' && src.keras3) {
    throw refuse(
      src.where,
      layer,
      `has ${key} 'hard_sigmoid', which Keras 3 computes as relu6(x + 3) / 6; ours is Keras 2's 0.2 x + 0.5`,
    );
  }
  const ours = ACTIVATIONS[name];
  if (!ours)
    throw refuse(src.where, layer, `has ${key} '${name}'; expected one of ${Object.keys(ACTIVATIONS).join(', ')}`);
  return ours;
}

/** Our recurrent layer for a Keras recurrent layer config, and the spec its weights convert with. */
function recurrentLayer(
  src: Source,
  layer: KerasLayer,
  extra: Json,
): { layer: ourLayers.RecurrentLayer; spec: KerasRecurrentSpec } {
  const c = layer.config;
  checkOptions(src.where, layer, RECURRENT_KEYS);
  for (const flag of ['stateful', 'return_state', 'time_major'] as const) {
    if (c[flag] === true) throw refuse(src.where, layer, `has ${flag}: true, which is not supported here`);
  }
  const kind = RECURRENT[layer.class_name];
  const cudnn = layer.class_name.startsWith('CuDNN');
  const spec: KerasRecurrentSpec = {
    kind,
    units: c.units as number,
    activation: cudnn ? 'tanh' : activationOf(src, layer, 'activation', 'tanh'),
    recurrentActivation:
      kind === 'elman' ? undefined : cudnn ? 'sigmoid' : activationOf(src, layer, 'recurrent_activation', 'sigmoid'),
    resetAfter: kind === 'gru' ? cudnn || c.reset_after === true : undefined,
  };
  const args = {
    units: spec.units,
    activation: spec.activation,
    returnSequences: c.return_sequences === true,
    goBackwards: c.go_backwards === true,
    ...extra,
  };
  const made =
    kind === 'elman'
      ? ourLayers.elman(args)
      : kind === 'lstm'
        ? ourLayers.lstm({ ...args, recurrentActivation: spec.recurrentActivation })
        : ourLayers.gru({ ...args, recurrentActivation: spec.recurrentActivation, resetAfter: spec.resetAfter });
  return { layer: made, spec };
}

/** A layer of ours or tfjs's for one Keras layer, and how to give it the file's weights once built. */
function buildLayer(
  src: Source,
  layer: KerasLayer,
  extra: Json,
): { made: tf.layers.Layer; load: (w: tf.Tensor[]) => void } {
  const c = layer.config;
  const where = src.where;
  if (layer.class_name in RECURRENT) {
    const { layer: made, spec } = recurrentLayer(src, layer, extra);
    return { made, load: (w) => setCell(where, layer, made, spec, w) };
  }
  switch (layer.class_name) {
    case 'Bidirectional': {
      checkOptions(where, layer, [...TRAINING_ONLY, 'layer', 'merge_mode', 'backward_layer']);
      const inner = c.layer as KerasLayer;
      if (!inner || !(inner.class_name in RECURRENT))
        throw refuse(where, layer, `wraps ${show(inner?.class_name)}; expected SimpleRNN, LSTM or GRU`);
      const mode = c.merge_mode as string | null;
      if (!['concat', 'sum', 'mul', 'ave'].includes(mode ?? ''))
        throw refuse(where, layer, `has merge_mode ${show(mode)}; expected concat, sum, mul or ave`);
      const back = c.backward_layer as KerasLayer | undefined;
      if (back) {
        const same = (k: string) => JSON.stringify(back.config[k]) === JSON.stringify(inner.config[k]);
        const differ = [
          'units',
          'activation',
          'recurrent_activation',
          'reset_after',
          'use_bias',
          'return_sequences',
        ].filter((k) => !same(k));
        if (back.class_name !== inner.class_name || differ.length || back.config.go_backwards !== true) {
          throw refuse(
            where,
            layer,
            `has a backward_layer unlike its forward layer (${differ.join(', ') || 'class or go_backwards'}), which is not supported here`,
          );
        }
      }
      const { layer: forward, spec } = recurrentLayer(src, inner, {});
      const made = tf.layers.bidirectional({
        layer: forward as unknown as tf.RNN,
        mergeMode: mode as 'concat',
        ...extra,
      });
      return {
        made,
        load: (w) => {
          const half = w.length / 2;
          const halves = made as unknown as {
            forwardLayer: ourLayers.RecurrentLayer;
            backwardLayer: ourLayers.RecurrentLayer;
          };
          setCell(where, inner, halves.forwardLayer, spec, w.slice(0, half));
          setCell(where, inner, halves.backwardLayer, spec, w.slice(half));
        },
      };
    }
    case 'Dense': {
      const made = denseLayer(src, layer, extra);
      return { made, load: (w) => made.setWeights(w) };
    }
    case 'TimeDistributed': {
      checkOptions(where, layer, [...TRAINING_ONLY, 'layer']);
      const inner = c.layer as KerasLayer | undefined;
      if (inner?.class_name !== 'Dense')
        throw refuse(where, layer, `wraps ${show(inner?.class_name)}; only TimeDistributed(Dense) is supported here`);
      const dense = denseLayer(src, inner, {});
      return { made: tf.layers.timeDistributed({ layer: dense, ...extra }), load: (w) => dense.setWeights(w) };
    }
    case 'Embedding': {
      checkOptions(where, layer, [
        ...TRAINING_ONLY,
        'input_dim',
        'output_dim',
        'mask_zero',
        'embeddings_initializer',
        'embeddings_regularizer',
        'embeddings_constraint',
        'sparse',
        'lora_rank',
      ]);
      if (c.mask_zero === true) throw refuse(where, layer, 'has mask_zero: true, which is not supported here');
      const made = tf.layers.embedding({
        inputDim: c.input_dim as number,
        outputDim: c.output_dim as number,
        ...extra,
      });
      return { made, load: (w) => made.setWeights(w) };
    }
    case 'Activation':
      checkOptions(where, layer, [...TRAINING_ONLY, 'activation']);
      return {
        made: tf.layers.activation({
          activation: activationOf(src, layer, 'activation', 'linear') as 'linear',
          ...extra,
        }),
        load: () => {},
      };
    case 'RepeatVector':
      checkOptions(where, layer, [...TRAINING_ONLY, 'n']);
      return { made: tf.layers.repeatVector({ n: c.n as number, ...extra }), load: () => {} };
    case 'Dropout':
      checkOptions(where, layer, [...TRAINING_ONLY, 'rate', 'noise_shape']);
      return { made: tf.layers.dropout({ rate: c.rate as number, ...extra }), load: () => {} };
    case 'Flatten':
      checkOptions(where, layer, [...TRAINING_ONLY, 'data_format']);
      return { made: tf.layers.flatten(extra), load: () => {} };
    default:
      throw refuse(
        where,
        layer,
        `is not supported here; expected ${[...Object.keys(RECURRENT), 'Bidirectional', 'Dense', 'TimeDistributed', 'Embedding', 'Activation', 'RepeatVector', 'Dropout', 'Flatten', 'InputLayer'].join(', ')}`,
      );
  }
}

/** tfjs's dense layer for a Keras `Dense` config. */
function denseLayer(src: Source, layer: KerasLayer, extra: Json): tf.layers.Layer {
  const c = layer.config;
  checkOptions(src.where, layer, [
    ...TRAINING_ONLY,
    'units',
    'activation',
    'use_bias',
    'lora_rank',
    'quantization_config',
  ]);
  if (c.lora_rank !== undefined && c.lora_rank !== null)
    throw refuse(src.where, layer, `has lora_rank ${show(c.lora_rank)}, which is not supported here`);
  return tf.layers.dense({
    units: c.units as number,
    activation: activationOf(src, layer, 'activation', 'linear') as 'linear',
    useBias: c.use_bias !== false,
    ...extra,
  });
}

/** Copies the Keras weights `w` (kernel, recurrent_kernel[, bias]) into our built layer's cell. */
function setCell(
  where: string,
  layer: KerasLayer,
  ours: ourLayers.RecurrentLayer,
  spec: KerasRecurrentSpec,
  w: tf.Tensor[],
): void {
  const hasBias = layer.config.use_bias !== false;
  if (w.length !== (hasBias ? 3 : 2)) {
    throw refuse(
      where,
      layer,
      `has ${w.length} weight arrays, expected ${hasBias ? 3 : 2} (kernel, recurrent_kernel${hasBias ? ', bias' : ''})`,
    );
  }
  const at = `${where}: layer '${String(layer.config.name)}' (${layer.class_name})`;
  const cell: Cell = cellFromKerasWeights(at, spec, w[0], w[1], hasBias ? w[2] : null);
  try {
    const target = (ours.cell as Cell).params;
    for (const [symbol, value] of Object.entries(cell.params)) target[symbol].assign(value);
  } finally {
    cell.dispose();
  }
}

/** The names of the layers a functional model's inbound nodes point at (Keras 2 lists or Keras 3 `keras_history`). */
function inboundNames(node: unknown): string[] {
  if (Array.isArray(node)) {
    if (typeof node[0] === 'string' && typeof node[1] === 'number') return [node[0]];
    return node.flatMap(inboundNames);
  }
  if (node && typeof node === 'object') {
    const history = (node as Json).keras_history;
    if (Array.isArray(history)) return [String(history[0])];
    return Object.values(node).flatMap(inboundNames);
  }
  return [];
}

/** The model's layers as a chain, with the input shape; a branching model is refused. */
function chainOf(where: string, config: Json): { layers: KerasLayer[]; inputShape: (number | null)[] | null } {
  const inner = config.config as Json | KerasLayer[];
  const list = (Array.isArray(inner) ? inner : (inner?.layers as KerasLayer[] | undefined)) ?? null;
  if (!['Sequential', 'Model', 'Functional'].includes(config.class_name as string) || !list) {
    throw new Error(`${where}: expected a Sequential or functional model, got ${show(config.class_name)}`);
  }
  let inputShape: (number | null)[] | null = null;
  const layers: KerasLayer[] = [];
  for (const layer of list) {
    const shape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as (number | null)[] | undefined;
    if (shape && !inputShape) inputShape = shape.slice(1);
    if (layer.class_name === 'InputLayer') continue;
    if (layer.inbound_nodes !== undefined && list.length > 1) {
      const names = [...new Set(inboundNames(layer.inbound_nodes))];
      const previous = list[list.indexOf(layer) - 1]?.config.name;
      if (names.length !== 1 || names[0] !== previous) {
        throw refuse(
          where,
          layer,
          `takes ${names.join(', ') || 'nothing'} as input; only chains (each layer taking the one before) are supported`,
        );
      }
    }
    layers.push(layer);
  }
  return { layers, inputShape };
}

/** The model that `config` describes, with weights from `src`. */
function buildModel(src: Source, config: Json): tf.LayersModel {
  const { layers, inputShape } = chainOf(src.where, config);
  if (!inputShape)
    throw new Error(`${src.where}: the model config names no input shape (batch_input_shape or an InputLayer)`);
  const built: { made: tf.layers.Layer; load: (w: tf.Tensor[]) => void; layer: KerasLayer }[] = [];
  for (const [i, layer] of layers.entries()) {
    built.push({ ...buildLayer(src, layer, i === 0 ? { inputShape } : {}), layer });
  }
  const model = tf.sequential({ layers: built.map((b) => b.made) });
  try {
    for (const b of built) {
      const w = src.weights(b.layer);
      try {
        tf.tidy(() => b.load(w));
      } finally {
        tf.dispose(w);
      }
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

function parseConfig(where: string, text: unknown): Json {
  if (typeof text !== 'string')
    throw new Error(`${where}: expected the model config as JSON text, got ${describe(text)}`);
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`${where}: the model config is not JSON (${(err as Error).message})`);
  }
}

const tensorOf = (a: { shape: number[]; values: Float32Array }) => tf.tensor(a.values, a.shape, 'float32');

/** A Keras 2 / tf.keras HDF5 model file. */
async function loadH5(where: string, bytes: Uint8Array): Promise<tf.LayersModel> {
  const h5 = await openHdf5(where, bytes);
  try {
    const version = String(h5.attr('/', 'keras_version') ?? '');
    if (version.startsWith('1.'))
      throw new Error(
        `${where}: Keras ${version} files (Keras 1) are not supported here; re-save the model with Keras 2 or later`,
      );
    const config = h5.attr('/', 'model_config');
    if (config === undefined) {
      throw new Error(
        `${where}: the file has no model_config: it holds weights only (save_weights); save the whole model (model.save) to load it here`,
      );
    }
    const root = h5.keys('/model_weights') ? '/model_weights' : '/';
    const src: Source = {
      where,
      keras3: version.startsWith('3.'),
      weights(layer) {
        const name = String(layer.config.name);
        const names = h5.attr(`${root}/${name}`, 'weight_names');
        const list = names === undefined ? [] : Array.from(names as ArrayLike<unknown>, String);
        return list.map((w) => {
          const a = h5.array(`${root}/${name}/${w}`);
          if (!a) throw new Error(`${where}: weight ${w} of layer '${name}' is missing from the file`);
          return tensorOf(a);
        });
      },
    };
    return buildModel(src, parseConfig(where, config));
  } finally {
    h5.close();
  }
}

/** Where Keras 3 keeps a layer's variables (`layers/<name>/…`; Keras 3.0 wrote `_layer_checkpoint_dependencies/<name>/…`). */
const KERAS3_ROOTS = ['layers', '_layer_checkpoint_dependencies'];

/** A Keras 3 `.keras` zip. */
async function loadKeras3(where: string, bytes: Uint8Array): Promise<tf.LayersModel> {
  const { unzipSync } = await lazyImport<typeof import('fflate')>('fflate').catch((err: Error) => {
    throw new Error(`${where}: .keras files need the optional package fflate (npm install fflate): ${err.message}`);
  });
  const limit = 1 << 30;
  const files = unzipSync(bytes, {
    filter: (f) => ['config.json', 'model.weights.h5'].includes(f.name) && f.originalSize <= limit,
  });
  for (const name of ['config.json', 'model.weights.h5']) {
    if (!files[name]) throw new Error(`${where}: the .keras zip has no ${name} (of at most ${limit} bytes)`);
  }
  const config = parseConfig(where, new TextDecoder().decode(files['config.json']));
  const h5 = await openHdf5(where, files['model.weights.h5']);
  try {
    const vars = (path: string) => {
      const keys = h5.keys(path);
      if (!keys) return null;
      return keys
        .map(Number)
        .sort((a, b) => a - b)
        .map((k) => tensorOf(h5.array(`${path}/${k}`) as { shape: number[]; values: Float32Array }));
    };
    const src: Source = {
      where,
      keras3: true,
      weights(layer) {
        const name = String(layer.config.name);
        const root = KERAS3_ROOTS.map((r) => `${r}/${name}`).find((p) => h5.keys(p) !== null);
        if (!root) return [];
        if (layer.class_name === 'Bidirectional') {
          return [
            ...(vars(`${root}/forward_layer/cell/vars`) ?? []),
            ...(vars(`${root}/backward_layer/cell/vars`) ?? []),
          ];
        }
        return vars(`${root}/cell/vars`) ?? vars(`${root}/layer/vars`) ?? vars(`${root}/vars`) ?? [];
      },
    };
    return buildModel(src, config);
  } finally {
    h5.close();
  }
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Whether `bytes` start with `magic`. */
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);
/** Whether `bytes` are an HDF5 file (a Keras `.h5` file is one). */
export const isHdf5 = (bytes: Uint8Array): boolean => startsWith(bytes, HDF5_MAGIC);
/** Whether `bytes` are a zip (a Keras 3 `.keras` file is one). */
export const isZip = (bytes: Uint8Array): boolean => startsWith(bytes, ZIP_MAGIC);

/**
 * A `tf.LayersModel` of this package's layers from the bytes of a Keras `.h5` (Keras 2,
 * tf.keras) or `.keras` (Keras 3) model file, told apart by their first bytes. See the module
 * documentation for what is read and what is refused. HDF5 is read with the optional package
 * `h5wasm` and zips with `fflate`, each loaded on first use.
 */
export async function loadKeras(bytes: Uint8Array): Promise<tf.LayersModel> {
  const where = 'loadKeras';
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`${where}: expected the bytes of a .h5 or .keras file (a Uint8Array), got ${describe(bytes)}`);
  if (isHdf5(bytes)) return loadH5(where, bytes);
  if (isZip(bytes)) return loadKeras3(where, bytes);
  throw new Error(
    `${where}: the bytes are neither an HDF5 file (.h5) nor a zip (.keras): they start ${show(Array.from(bytes.slice(0, 8)))}`,
  );
}
