/**
 * A network's saved form through any tf.io handler or URL: its configuration and parameters
 * (a {@link SavedNetwork}) to tf.io artifacts and back. This layer knows nothing of
 * `RecurrentNetwork`: `network.ts` builds the network from what it reads.
 *
 * `model.json`'s `modelTopology` is `{ format: 'tfjs-recurrent/network', version, config }`
 * and the weights are the parameters keyed by symbol (`W_hx`, …, `W_yh`, `b_y`; a stacked or
 * bidirectional network's keys carry their cell's prefix, `l1.W_hx`, see `stack.ts`). Version 1
 * is a one-layer, one-direction network (what every file before stacking holds, and what such a
 * network still writes); version 2 adds `layers`, `bidirectional` and `dropout` to the config.
 * Loading checks the format, the configuration (known cell kind and activations, sane sizes)
 * and that every weight is there with its exact shape, before any variable is made.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { CELL_KINDS, paramShapes } from '../cells/kinds.js';
import { fmt } from '../check/index.js';
import { checkWeightValues, fileHandler, pathFromUrl, registerFileRouter, specBytes } from './file.js';
import { cellPositions, directionsOf, type NetworkConfig } from './stack.js';

export type { NetworkConfig } from './stack.js';

export const NETWORK_FORMAT = 'tfjs-recurrent/network';
/** One layer, one direction (the first format, still written for such networks). */
const VERSION_PLAIN = 1;
/** `layers`, `bidirectional`, `dropout` in the config. */
const VERSION_STACKED = 2;
/** Most stacked layers a loaded model may have. */
const MAX_LAYERS = 256;
/** Largest size accepted for one dimension of a loaded model (refuses absurd shapes). */
const MAX_DIM = 1 << 16;
/** Largest number of parameters accepted in one loaded matrix. */
const MAX_PARAMS = 1 << 28;

/**
 * A network as saved and loaded: its configuration and its parameters keyed by symbol (`W_hx`,
 * …, `W_yh`, `b_y`). A `RecurrentNetwork` is one.
 */
export interface SavedNetwork {
  readonly config: NetworkConfig;
  readonly params: Record<string, tf.Variable>;
}

/** The artifacts of a network: topology, weight specs and weight data. */
export async function networkArtifacts(net: SavedNetwork): Promise<tf.io.ModelArtifacts> {
  const { data, specs } = await tf.io.encodeWeights(net.params as tf.NamedTensorMap);
  return {
    modelTopology: { format: NETWORK_FORMAT, version: versionOf(net.config), config: net.config },
    format: NETWORK_FORMAT,
    generatedBy: 'tfjs-recurrent',
    weightSpecs: specs,
    weightData: data,
  };
}

/** Saves `net` through a handler or a URL (`file://dir` in Node, `indexeddb://…`, `downloads://…`). */
export async function saveNetwork(
  net: SavedNetwork,
  handlerOrUrl: string | tf.io.IOHandler,
): Promise<tf.io.SaveResult> {
  if (typeof net?.params !== 'object' || !net.config) throw new TypeError('saveNetwork: expected a RecurrentNetwork');
  const handler = resolveHandler('save', handlerOrUrl);
  if (typeof handler.save !== 'function') throw new Error('net.save: the handler has no save()');
  return handler.save(await networkArtifacts(net));
}

/** Reads a network saved with `net.save` from a handler or URL (new variables). */
export async function loadSavedNetwork(handlerOrUrl: string | tf.io.IOHandler): Promise<SavedNetwork> {
  const handler = resolveHandler('load', handlerOrUrl);
  if (typeof handler.load !== 'function') throw new Error('loadNetwork: the handler has no load()');
  return savedNetworkFromArtifacts(await handler.load(), describe(handlerOrUrl));
}

/**
 * A network's configuration and parameters (new variables) from artifacts, refusing anything
 * that is not exactly one of ours.
 */
export function savedNetworkFromArtifacts(artifacts: tf.io.ModelArtifacts, source = 'artifacts'): SavedNetwork {
  const where = `loadNetwork(${source})`;
  const topology = artifacts?.modelTopology as { format?: unknown; version?: unknown; config?: unknown } | undefined;
  if (!topology || typeof topology !== 'object' || topology.format !== NETWORK_FORMAT) {
    throw new Error(
      `${where}: not a tfjs-recurrent network (modelTopology.format is ${JSON.stringify(topology?.format)}, ` +
        `expected '${NETWORK_FORMAT}'); a tf.LayersModel loads with tf.loadLayersModel`,
    );
  }
  if (topology.version !== VERSION_PLAIN && topology.version !== VERSION_STACKED) {
    throw new Error(
      `${where}: unsupported format version ${JSON.stringify(topology.version)}, expected ${VERSION_PLAIN} or ` +
        `${VERSION_STACKED}`,
    );
  }
  const config = checkConfig(where, topology.config);
  if (topology.version === VERSION_PLAIN && versionOf(config) !== VERSION_PLAIN) {
    throw new Error(
      `${where}: format version 1 holds one layer in one direction; layers, bidirectional and dropout need version 2`,
    );
  }
  const expected = expectedShapes(config);
  const specs = artifacts.weightSpecs ?? [];
  if (!Array.isArray(specs)) throw new Error(`${where}: weightSpecs must be an array, got ${typeof specs}`);
  const names = specs.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`${where}: the weight ${JSON.stringify(twice)} appears twice in the specs`);
  const missing = [...expected.keys()].filter((k) => !names.includes(k));
  const extra = names.filter((n) => !expected.has(n));
  if (missing.length || extra.length) {
    throw new Error(
      `${where}: expected weights ${[...expected.keys()].join(', ')}` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (extra.length ? `; unexpected ${extra.join(', ')}` : ''),
    );
  }
  for (const spec of specs) {
    const shape = expected.get(spec.name)!;
    if (spec.dtype !== 'float32' || spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${where}: expected weight ${spec.name} float32 ${fmt(shape)}, got ${spec.dtype} ${fmt(spec.shape)}`,
      );
    }
  }
  const data = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  const bytes = specs.reduce((sum, s) => sum + specBytes(s, where), 0);
  if (bytes !== data.byteLength) {
    throw new Error(
      `${where}: weight data is ${data.byteLength} bytes, the specs describe ${bytes} (truncated weights?)`,
    );
  }
  checkWeightValues(specs, data, where);
  const tensors = tf.io.decodeWeights(data, specs);
  const params: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(tensors)) {
    params[name] = tf.variable(t, true);
    t.dispose();
  }
  return { config, params };
}

function checkConfig(where: string, raw: unknown): NetworkConfig {
  const c = raw as NetworkConfig;
  if (!c || typeof c !== 'object' || !c.cell || typeof c.cell !== 'object') {
    throw new Error(`${where}: modelTopology.config must be { cell, outputSize, outputActivation }`);
  }
  const { cell } = c;
  if (!CELL_KINDS.includes(cell.kind)) {
    throw new Error(
      `${where}: unknown cell kind ${JSON.stringify(cell.kind)}, expected one of ${CELL_KINDS.join(', ')}`,
    );
  }
  for (const [name, value] of [
    ['cell.inputSize', cell.inputSize],
    ['cell.units', cell.units],
    ['outputSize', c.outputSize],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_DIM) {
      throw new RangeError(
        `${where}: expected ${name} to be an integer in [1, ${MAX_DIM}], got ${JSON.stringify(value)}`,
      );
    }
  }
  checkStack(where, c);
  if (cell.useBias !== undefined && typeof cell.useBias !== 'boolean') {
    throw new TypeError(`${where}: expected cell.useBias to be true or false, got ${JSON.stringify(cell.useBias)}`);
  }
  if (cell.units * Math.max(cell.inputSize, 2 * cell.units, c.outputSize) > MAX_PARAMS) {
    throw new RangeError(`${where}: refusing a model with ${cell.units} units and input ${cell.inputSize} (too large)`);
  }
  for (const [field, name] of [
    ['cell.activation', cell.activation],
    ['cell.recurrentActivation', cell.recurrentActivation],
    ['outputActivation', c.outputActivation],
  ] as const) {
    if (name === undefined) continue;
    try {
      getActivation(name);
    } catch (err) {
      throw new Error(`${where}: modelTopology.config.${field}: ${(err as Error).message}`);
    }
  }
  return c;
}

/** The format version a configuration needs: 1 for one layer in one direction, else 2. */
function versionOf(c: NetworkConfig): number {
  const plain = c.layers === undefined && c.bidirectional === undefined && c.dropout === undefined;
  return plain ? VERSION_PLAIN : VERSION_STACKED;
}

/** The stacking fields, when present: `layers` a sane positive integer, `bidirectional` a flag, `dropout` in [0, 1). */
function checkStack(where: string, c: NetworkConfig): void {
  const { layers, bidirectional, dropout } = c;
  if (layers !== undefined && (!Number.isInteger(layers) || layers < 1 || layers > MAX_LAYERS)) {
    throw new RangeError(
      `${where}: expected layers to be an integer in [1, ${MAX_LAYERS}], got ${JSON.stringify(layers)}`,
    );
  }
  if (bidirectional !== undefined && typeof bidirectional !== 'boolean') {
    throw new TypeError(`${where}: expected bidirectional to be true or false, got ${JSON.stringify(bidirectional)}`);
  }
  if (dropout !== undefined && !(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) {
    throw new RangeError(`${where}: expected dropout to be a number in [0, 1), got ${JSON.stringify(dropout)}`);
  }
}

/** The shape of every weight a configuration needs, keyed as `net.params` keys them. */
function expectedShapes(c: NetworkConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const { prefix, config } of cellPositions(c)) {
    for (const [symbol, shape] of paramShapes(config)) shapes.set(prefix + symbol, shape);
  }
  return shapes.set('W_yh', [c.outputSize, directionsOf(c) * c.cell.units]).set('b_y', [c.outputSize]);
}

function resolveHandler(op: 'save' | 'load', handlerOrUrl: string | tf.io.IOHandler): tf.io.IOHandler {
  if (typeof handlerOrUrl !== 'string') {
    if (handlerOrUrl && typeof handlerOrUrl === 'object') return handlerOrUrl;
    throw new TypeError(`${op}: expected a URL string or a tf.io handler, got ${String(handlerOrUrl)}`);
  }
  registerFileRouter();
  const handlers = op === 'save' ? tf.io.getSaveHandlers(handlerOrUrl) : tf.io.getLoadHandlers(handlerOrUrl);
  if (handlers.length === 0) {
    if (handlerOrUrl.startsWith('file://') || !handlerOrUrl.includes('://')) {
      if (typeof process !== 'undefined' && process.versions?.node) return fileHandler(pathFromUrl(handlerOrUrl));
    }
    throw new Error(
      `${op}: no tf.io handler for ${JSON.stringify(handlerOrUrl)}; use file://DIR in Node, indexeddb://NAME, ` +
        `localstorage://NAME or downloads:// in a browser, an http(s) URL to load, or pass a handler`,
    );
  }
  return handlers[0];
}

function describe(handlerOrUrl: string | tf.io.IOHandler): string {
  return typeof handlerOrUrl === 'string' ? handlerOrUrl : 'handler';
}
