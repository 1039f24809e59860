/**
 * One entry point for model files: {@link load} and {@link save} choose the format by the
 * file's first bytes or its extension, and call the explicit functions:
 *
 * | format | load gives | save writes |
 * |--------|------------|-------------|
 * | `.onnx` | an {@link OnnxModel} ({@link fromOnnx}) | a network or LayersModel ({@link toOnnx}) |
 * | `.h5` (Keras 2, tf.keras), `.keras` (Keras 3) | a `tf.LayersModel` of our layers ({@link loadKeras}) | — |
 * | `.safetensors` (PyTorch state-dict names) | a network ({@link fromSafetensors}) | a network ({@link toSafetensors}) |
 * | `model.json` (a folder saved with `net.save` or tfjs) | a network, or a `tf.LayersModel` | a network (`net.save`) |
 * | a state dict object (PyTorch names) | a network (`fromPyTorchNetwork`) | — |
 *
 * Paths are read with `io/file.ts`'s safe reader (regular files only, at most 1 GiB, never a FIFO
 * or a device) and written atomically (a temporary file, fsync, rename). It sits above
 * `network.ts`, since it builds networks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, show } from '../check/index.js';
import { NETWORK_FORMAT } from '../io/artifacts.js';
import {
  atomicWrite,
  MAX_BINARY_BYTES,
  MAX_JSON_BYTES,
  MODEL_JSON,
  readRegularFile,
  readRegularText,
} from '../io/file.js';
import { fromPyTorchNetwork, loadNetwork } from '../network-io.js';
import type { RecurrentNetwork } from '../network.js';
import { isHdf5, isZip, loadKeras } from './keras-file.js';
import { fromOnnx, type OnnxModel } from './onnx/import.js';
import { toOnnx } from './onnx/export.js';
import { toPyTorchAsync, type FromPyTorchNetworkOptions, type StateDict } from './pytorch.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** What {@link load} gives. */
export type LoadedModel = RecurrentNetwork | tf.LayersModel | OnnxModel;

/** Options of {@link load} and {@link fromSafetensors} for PyTorch state dicts (see `fromPyTorchNetwork`); `kind` is found from the shapes when absent. */
export type StateDictOptions = Partial<FromPyTorchNetworkOptions>;

/** The `__metadata__` key under which {@link toSafetensors} records what the state dict's names do not say. */
const METADATA_KEY = 'tfjs-recurrent';

/** `kind` from the state dict's shapes: `weight_ih_l0` has gates × hidden rows, `weight_hh_l0` hidden columns. */
function kindOf(where: string, sd: StateDict): FromPyTorchNetworkOptions['kind'] {
  const key = Object.keys(sd).find((k) => k.endsWith('weight_hh_l0'));
  const entry = key ? sd[key] : undefined;
  const shape =
    entry && !Array.isArray(entry)
      ? entry.shape
      : Array.isArray(entry)
        ? [entry.length, (entry[0] as number[]).length]
        : [];
  const gates = shape.length === 2 ? shape[0] / shape[1] : NaN;
  const kind = ({ 1: 'rnn', 3: 'gru', 4: 'lstm' } as const)[gates as 1 | 3 | 4];
  if (!kind) {
    throw new Error(
      `${where}: cannot tell the module from the state dict (weight_hh_l0 of shape ${show(shape)}); pass { kind: 'rnn' | 'lstm' | 'gru' }`,
    );
  }
  return kind;
}

/** A network from a PyTorch state dict, `kind` found from its shapes unless given. */
function networkFromStateDict(where: string, sd: StateDict, options: StateDictOptions): RecurrentNetwork {
  return fromPyTorchNetwork(sd, { ...options, kind: options.kind ?? kindOf(where, sd) });
}

/**
 * A network from the bytes of a `.safetensors` file holding a PyTorch state dict
 * (`rnn.weight_ih_l0`, …, `fc.weight`, `fc.bias`; see `fromPyTorchNetwork`). What
 * {@link toSafetensors} recorded in the file's metadata (kind, nonlinearity)
 * applies unless `options` says otherwise.
 */
export function fromSafetensors(bytes: Uint8Array, options: StateDictOptions = {}): RecurrentNetwork {
  const { tensors, metadata } = readSafetensors(bytes);
  let recorded: StateDictOptions = {};
  if (metadata[METADATA_KEY]) {
    try {
      recorded = JSON.parse(metadata[METADATA_KEY]) as StateDictOptions;
    } catch {
      throw new Error(`fromSafetensors: the metadata '${METADATA_KEY}' is not JSON: ${show(metadata[METADATA_KEY])}`);
    }
  }
  return networkFromStateDict('fromSafetensors', tensors, { ...recorded, ...options });
}

/**
 * The bytes of a `.safetensors` file holding the network's PyTorch state dict (names as
 * `toPyTorch` gives them: `rnn.weight_ih_l0`, …, `fc.weight`, `fc.bias`), loadable with
 * `safetensors.torch.load_file` into the module `toPyTorch` documents (whose refusals apply: a
 * head other than linear is one). The metadata records the kind and `nonlinearity` for
 * {@link fromSafetensors}.
 */
export async function toSafetensors(net: RecurrentNetwork): Promise<Uint8Array> {
  const sd = await toPyTorchAsync(net);
  const tensors = Object.fromEntries(
    Object.entries(sd).map(([k, v]) => {
      const shape = Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length];
      return [k, { shape, data: (v as (number | number[])[]).flat() }];
    }),
  );
  const cell = net.cells[0][0].config;
  const recorded: StateDictOptions = {
    kind: cell.kind === 'elman' ? 'rnn' : (cell.kind as 'lstm' | 'gru'),
    ...(cell.kind === 'elman' ? { nonlinearity: cell.activation as 'tanh' | 'relu' } : {}),
  };
  return writeSafetensors(tensors, { format: 'pt', [METADATA_KEY]: JSON.stringify(recorded) });
}

const isUrl = (s: string) => /^https?:\/\//.test(s);
const extensionOf = (s: string) => /\.([a-z0-9]+)$/i.exec(s)?.[1]?.toLowerCase() ?? '';

/** Whether `bytes` look like a safetensors file: a sane header length, then `{`. */
function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && 8 + n <= bytes.length && bytes[8] === 0x7b;
}

/** The model in `bytes`, by their first bytes (`.onnx` has none: it is the fallback, or `extension` says so). */
async function fromBytes(
  where: string,
  bytes: Uint8Array,
  extension: string,
  options: StateDictOptions,
): Promise<LoadedModel> {
  if (isHdf5(bytes) || isZip(bytes)) return loadKeras(bytes);
  if (extension === 'safetensors' || (extension !== 'onnx' && isSafetensors(bytes)))
    return fromSafetensors(bytes, options);
  try {
    return await fromOnnx(bytes);
  } catch (err) {
    if (extension === 'onnx') throw err;
    throw new Error(
      `${where}: the bytes are none of the formats read here (HDF5 .h5, zip .keras, .safetensors, .onnx: ${(err as Error).message})`,
    );
  }
}

/** A network if `model.json`'s text is ours (`net.save`), else a tfjs `tf.LayersModel`, from `url` (its folder for `file://`). */
async function fromModelJson(where: string, text: string, url: string): Promise<LoadedModel> {
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch (err) {
    throw new Error(`${where}(${url}): ${MODEL_JSON} is not JSON (${(err as Error).message})`);
  }
  return format === NETWORK_FORMAT ? loadNetwork(url) : tf.loadLayersModel(url);
}

/**
 * Loads a model file of any format read here (see the module documentation): a path (Node), an
 * `http(s)://` URL (fetched), a `file://` URL, the file's bytes, or a PyTorch state dict object.
 * The format comes from the first bytes (HDF5, zip, safetensors; ONNX otherwise) or a folder /
 * `model.json` path. Gives a `RecurrentNetwork`, a `tf.LayersModel` or an {@link OnnxModel}.
 * `options` apply to state dicts and safetensors (`kind`, prefixes, output activation).
 */
export async function load(
  source: string | Uint8Array | ArrayBuffer | StateDict,
  options: StateDictOptions = {},
): Promise<LoadedModel> {
  const where = 'load';
  if (source instanceof ArrayBuffer) return fromBytes(where, new Uint8Array(source), '', options);
  if (source instanceof Uint8Array) return fromBytes(where, source, '', options);
  if (typeof source === 'string') {
    if (isUrl(source)) {
      const response = await fetch(source);
      if (response.ok && source.endsWith('.json')) return fromModelJson(where, await response.text(), source);
      if (!response.ok) throw new Error(`${where}: fetching ${source} gave HTTP ${response.status}`);
      return fromBytes(
        where,
        new Uint8Array(await response.arrayBuffer()),
        extensionOf(new URL(source).pathname),
        options,
      );
    }
    const path = source.startsWith('file://') ? decodeURIComponent(source.slice('file://'.length)) : source;
    const extension = extensionOf(path);
    if (path.endsWith(MODEL_JSON) || !extension) {
      const dir = path.endsWith(MODEL_JSON) ? path.slice(0, -MODEL_JSON.length - 1) || '.' : path.replace(/\/+$/, '');
      const text = await readRegularText(`${dir}/${MODEL_JSON}`, MAX_JSON_BYTES, MODEL_JSON);
      return fromModelJson(where, text, `file://${dir}/${MODEL_JSON}`);
    }
    return fromBytes(
      where,
      await readRegularFile(path, MAX_BINARY_BYTES, `a .${extension} model file`),
      extension,
      options,
    );
  }
  if (source !== null && typeof source === 'object' && !Array.isArray(source))
    return networkFromStateDict(where, source, options);
  throw new TypeError(
    `${where}: expected a path, a URL, the bytes of a model file or a state dict, got ${describe(source)}`,
  );
}

/** The formats {@link save} writes, by extension. */
const SAVERS = ['onnx', 'safetensors'];

/**
 * Saves `model` to the file `path` (Node), in the format its extension names: `.onnx` (a network
 * or a LayersModel, {@link toOnnx}) or `.safetensors` (a network, {@link toSafetensors});
 * a path without extension is a folder for `net.save` (our `model.json` + weights). Files are
 * written atomically.
 */
export async function save(model: RecurrentNetwork | tf.LayersModel, path: string): Promise<void> {
  const where = 'save';
  if (typeof path !== 'string') throw new TypeError(`${where}: expected a file path, got ${describe(path)}`);
  const extension = extensionOf(path);
  const isNetwork = model !== null && typeof model === 'object' && 'cells' in model && 'outputParams' in model;
  if (extension === 'onnx') return atomicWrite(path, await toOnnx(model));
  if (extension === 'safetensors') {
    if (!isNetwork)
      throw new TypeError(`${where}: .safetensors holds a network's PyTorch state dict; got ${describe(model)}`);
    return atomicWrite(path, await toSafetensors(model as RecurrentNetwork));
  }
  if (!extension && isNetwork) {
    await (model as RecurrentNetwork).save(`file://${path}`);
    return;
  }
  throw new Error(
    `${where}: cannot tell the format of ${show(path)}; expected a path ending .${SAVERS.join(' or .')} (or a folder, for a network)`,
  );
}
