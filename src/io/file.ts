/**
 * A `file://` model handler for Node without `@tensorflow/tfjs-node`: a directory holding
 * `model.json` and `weights.bin` (or `weights-2.bin`, see below), in tfjs's own format (so
 * `tf.loadLayersModel` and tfjs-node read it too).
 *
 * - Saving is atomic: every file is written to a temporary name, fsynced and renamed into place.
 *   The new weights go to the one of `weights.bin` / `weights-2.bin` that the current `model.json`
 *   does not name, then `model.json` is replaced (the commit point), then the old weights file is
 *   removed. A failure or a kill at any moment leaves a `model.json` that describes complete
 *   weights (the old model or the new one), and a failed save leaves no temporary file.
 * - Saves to one directory are serialized by a lock file (`.tfjs-recurrent.lock`, see
 *   {@link withLock}), across processes and within one: two overlapping saves never mix their
 *   files. A lock left by a killed saver is taken over, and its temporary files removed.
 * - Loading is careful: malformed or deeply nested JSON, weight paths that leave the directory
 *   (`..`, absolute paths, URLs, symbolic links to files outside it), anything but a regular file
 *   of sane size (a FIFO, a device such as `/dev/zero`), weight files whose size disagrees with
 *   the manifest, duplicate weight names and NaN or infinite weights are refused with a clear
 *   error, before any tensor is made. A load that overlaps a save reads `model.json` again after
 *   the weights and starts over when it changed, so it sees the old model or the new one.
 *   (Hard links cannot be told from the file itself.)
 *
 * Node modules are imported lazily, so this file bundles for browsers (where it is never used).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeFs } from '../lazy-import.js';
import { removeStaleTemporaries, withLock } from './lock.js';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** Where a save puts the new weights while `model.json` still names `weights.bin`. */
export const WEIGHTS_BIN_ALT = 'weights-2.bin';

/** The most bytes read from a JSON file (`model.json`, `trainer.json`, `vocab.json`). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** The most bytes read from one binary file (weights, optimizer state). */
export const MAX_BINARY_BYTES = 1024 * 1024 * 1024;
/** The deepest nesting of arrays and objects accepted in a JSON file we read. */
export const MAX_JSON_DEPTH = 64;

/** What a non-regular file is, in words. */
function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EAGAIN: 'it is not a regular file (would block)',
};

/** `CODE (words)` for an fs error, or its message. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code) return (err as Error)?.message ?? String(err);
  return ERRNO_WORDS[code] ? `${code} (${ERRNO_WORDS[code]})` : code;
}

/**
 * Reads `file` if it is a regular file of at most `maxBytes` bytes, else refuses with an error
 * that names the file, what was expected and what it is. Never blocks on a FIFO or a device:
 * the type is checked with `stat`, then the file is opened with `O_NONBLOCK` and checked again on
 * the open descriptor (a FIFO swapped in between is refused, not waited on), and no more than
 * `maxBytes` bytes are read even from files whose size `stat` does not know (`/proc`).
 * `what` says what the file is for (`model.json`, `the trainer state`, …).
 */
export async function readRegularFile(file: string, maxBytes: number, what = 'file'): Promise<Uint8Array> {
  const { fs } = await nodeFs();
  const refuse = (why: string) => new Error(`Cannot read ${file}: ${why}`);
  const check = (st: import('node:fs').Stats) => {
    if (!st.isFile()) throw refuse(`it is ${kindOf(st)}, expected a regular file (${what})`);
    if (st.size > maxBytes) {
      throw refuse(`it is ${st.size} bytes, expected at most ${maxBytes} for ${what}`);
    }
  };
  try {
    check(await fs.stat(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw refuse(errnoText(err));
    throw err;
  }
  const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(file, flags);
  } catch (err) {
    throw refuse(errnoText(err));
  }
  try {
    const st = await handle.stat();
    check(st);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(Math.max(st.size - total, 0) + 1, maxBytes + 1 - total, 1 << 24));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw refuse(`it holds more than ${maxBytes} bytes, expected at most that for ${what}`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw refuse(errnoText(err));
    throw err;
  } finally {
    await handle.close();
  }
}

/** {@link readRegularFile} as UTF-8 text. */
export async function readRegularText(file: string, maxBytes: number, what = 'file'): Promise<string> {
  return new TextDecoder().decode(await readRegularFile(file, maxBytes, what));
}

/** The bytes of `view` as an ArrayBuffer of exactly that length. */
export function toArrayBuffer(view: Uint8Array): ArrayBuffer {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
    ? (view.buffer as ArrayBuffer)
    : (view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer);
}

/**
 * `JSON.parse(text)`, refusing text nested deeper than {@link MAX_JSON_DEPTH} (which would
 * overflow the stack of whatever walks it later) with an error naming `where`.
 */
export function parseJson(text: string, where: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 || c === 123) {
      if (++depth > maxDepth) {
        throw new Error(`Malformed ${where}: JSON nested deeper than ${maxDepth} levels (at character ${i})`);
      }
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`Malformed ${where}: ${(err as Error).message}`);
  }
}

/**
 * Refuses weight specs that name a weight twice (the later would silently win), and float32
 * weights holding NaN or an infinity, naming the weight and where it came from. `data` holds the
 * weights of `specs` back to back.
 */
export function checkWeightValues(specs: tf.io.WeightsManifestEntry[], data: ArrayBuffer, where: string): void {
  const seen = new Set<string>();
  let offset = 0;
  for (const spec of specs) {
    if (typeof spec?.name !== 'string' || spec.name.length === 0) {
      throw new Error(`Malformed ${where}: a weight has the name ${JSON.stringify(spec?.name)}, expected a string`);
    }
    if (seen.has(spec.name)) {
      throw new Error(`Malformed ${where}: the weight ${JSON.stringify(spec.name)} appears twice in the manifest`);
    }
    if (spec.name in Object.prototype) {
      throw new Error(
        `Malformed ${where}: the weight name ${JSON.stringify(spec.name)} is a property of every JavaScript ` +
          'object, expected a weight name such as "lstm/kernel"',
      );
    }
    seen.add(spec.name);
    const bytes = specBytes(spec, where);
    if (spec.dtype === 'float32' && !spec.quantization && offset + bytes <= data.byteLength) {
      const values =
        offset % 4 === 0
          ? new Float32Array(data, offset, bytes / 4)
          : new Float32Array(data.slice(offset, offset + bytes));
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          throw new Error(
            `${where}: weight ${JSON.stringify(spec.name)} holds ${values[i]} at flat index ${i}; ` +
              'expected finite numbers (the file is damaged, or the model was saved after training diverged)',
          );
        }
      }
    }
    offset += bytes;
  }
}

/**
 * Writes `data` to `file` atomically: a temporary file in the same directory, fsync, rename.
 * Readers see the old content or the new one, never a mixture.
 */
export async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  const { fs, path } = await nodeFs();
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Makes a rename durable: fsync the directory that holds it (a no-op where unsupported). */
export async function fsyncDir(dir: string): Promise<void> {
  const { fs } = await nodeFs();
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory.
  }
}

/**
 * The directory a `file://` URL (or a plain path) names. A URL's %-escapes are decoded, as file
 * URLs mean (`file:///tmp/my%20model` is the folder `my model`); a plain path is taken as it is.
 */
export function pathFromUrl(url: string): string {
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = decodeURIComponent(url.slice('file://'.length));
    } catch {
      throw new Error(
        `Malformed file URL ${JSON.stringify(url)}: a % must start an escape such as %20; write a literal % as %25`,
      );
    }
  }
  // tfjs-node's form names the model.json itself; ours names its directory. Both work.
  return path.endsWith(`/${MODEL_JSON}`) ? path.slice(0, -MODEL_JSON.length - 1) : path;
}

/** The key in `model.json` of the CRC-32 of the weights data (other loaders ignore it). */
export const CHECKSUM_KEY = 'weightsCrc32';

let CRC_TABLE: Uint32Array | null = null;

/** The CRC-32 (IEEE) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const table = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The lock file that serializes saves to a model directory. */
export const SAVE_LOCK = '.tfjs-recurrent.lock';
/** How long a save waits for another save to the same directory. */
const SAVE_WAIT_MS = 120_000;
/** How many times a load starts over when a save replaced the model while it was read. */
const LOAD_ATTEMPTS = 20;

/** A tf.io handler that saves to and loads from the directory `dir`. */
export function fileHandler(dir: string): tf.io.IOHandler {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new TypeError(`fileHandler: expected a directory path, got ${JSON.stringify(dir)}`);
  }
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { fs, path } = await nodeFs();
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileHandler: binary model topologies (GraphModel protobufs) are not supported');
      }
      await makeDirectory(fs, dir);
      const lock = {
        waitMs: SAVE_WAIT_MS,
        what: `The model directory ${path.resolve(dir)}`,
        advice: 'Another save to it is still running; save to another directory or try again when it ends.',
      };
      return withLock(path.join(dir, SAVE_LOCK), lock, async () => {
        await removeStaleTemporaries(dir);
        return saveLocked(fs, path, dir, artifacts);
      });
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { path } = await nodeFs();
      const root = path.resolve(dir);
      const jsonPath = path.join(root, MODEL_JSON);
      // A save may replace the model while it is read: model.json is read again after the weights
      // and the load starts over when it changed, so the result is one complete save.
      for (let attempt = 1; ; attempt++) {
        const text = await readRegularText(jsonPath, MAX_JSON_BYTES, MODEL_JSON);
        let artifacts: tf.io.ModelArtifacts | undefined;
        let failure: unknown;
        try {
          artifacts = await artifactsFromJson(root, jsonPath, text);
        } catch (err) {
          failure = err;
        }
        const again = await readRegularText(jsonPath, MAX_JSON_BYTES, MODEL_JSON).catch(() => null);
        if (again === text || attempt >= LOAD_ATTEMPTS) {
          if (failure !== undefined) throw failure;
          if (again !== text)
            throw new Error(`${jsonPath} kept changing while it was read (saves in a loop?); try again`);
          return artifacts!;
        }
      }
    },
  };
}

/** Why a directory could not be made, in words, with the errno code in parentheses. */
export function mkdirFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EEXIST' || code === 'ENOTDIR'
      ? 'a part of the path is a file, expected directories'
      : code === 'EROFS'
        ? 'the file system is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOENT'
            ? 'a parent directory cannot be created there'
            : errnoText(err);
  return `${why} (${code ?? 'error'})`;
}

/** `mkdir -p dir`, with errors that say which part of the path is in the way. */
async function makeDirectory(fs: Fs, dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`Cannot create the model directory ${dir}: ${mkdirFailure(err)}`);
  }
  const st = await fs.stat(dir);
  if (!st.isDirectory()) throw new Error(`Cannot save to ${dir}: it is ${kindOf(st)}, expected a directory`);
}

async function saveLocked(fs: Fs, path: Path, dir: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  const jsonPath = path.join(dir, MODEL_JSON);
  const weightsName = (await namedWeights(jsonPath)).includes(WEIGHTS_BIN) ? WEIGHTS_BIN_ALT : WEIGHTS_BIN;
  const weightsPath = path.join(dir, weightsName);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${weightsName}`], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    ...(artifacts.signature ? { signature: artifacts.signature } : {}),
  };
  // A checksum of the weights: a damaged weights file is refused instead of loading other numbers.
  (modelJson as unknown as Record<string, unknown>)[CHECKSUM_KEY] = crc32(new Uint8Array(weightData));
  // New weights beside the old ones, then model.json (the commit point), then the old weights
  // go: at every moment model.json describes a complete weights file.
  await atomicWrite(weightsPath, new Uint8Array(weightData));
  try {
    await atomicWrite(jsonPath, JSON.stringify(modelJson));
  } catch (err) {
    await fs.rm(weightsPath, { force: true });
    throw err;
  }
  const stale = weightsName === WEIGHTS_BIN ? WEIGHTS_BIN_ALT : WEIGHTS_BIN;
  await fs.rm(path.join(dir, stale), { force: true });
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
      weightDataBytes: weightData.byteLength,
    },
  };
}

/** The artifacts described by the text `text` of `jsonPath`, with their weights read and checked. */
async function artifactsFromJson(root: string, jsonPath: string, text: string): Promise<tf.io.ModelArtifacts> {
  const { fs, path } = await nodeFs();
  const modelJson = parseJson(text, jsonPath) as tf.io.ModelJSON;
  if (modelJson === null || typeof modelJson !== 'object' || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`Malformed ${jsonPath}: expected an object with a weightsManifest array`);
  }
  checkClassConfigs(modelJson.modelTopology, jsonPath);
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const files: string[] = [];
    const realRoot = await fs.realpath(root);
    for (const group of manifest) {
      if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
        throw new Error(`Malformed ${jsonPath}: each weightsManifest entry needs paths and weights arrays`);
      }
      specs.push(...group.weights);
      for (const p of group.paths) files.push(await weightsFile(fs, path, root, realRoot, p, jsonPath));
    }
    // Sizes first: nothing is read (or allocated) unless the files hold exactly what the
    // manifest describes.
    const expected = specs.reduce((sum, s) => sum + specBytes(s, jsonPath), 0);
    let actual = 0;
    for (const file of files) actual += (await fs.stat(file)).size;
    if (expected !== actual) {
      throw new Error(
        `Weights of ${jsonPath} are ${actual} bytes but the manifest describes ${expected} bytes ` +
          `(truncated or mismatched weights file)`,
      );
    }
    const buffers: ArrayBuffer[] = [];
    for (const file of files) buffers.push(toArrayBuffer(await readRegularFile(file, expected, 'weights')));
    const data = tf.io.concatenateArrayBuffers(buffers);
    if (data.byteLength !== expected) {
      throw new Error(`Weights of ${jsonPath} changed while they were read; try again`);
    }
    const sum = (modelJson as unknown as Record<string, unknown>)[CHECKSUM_KEY];
    if (sum !== undefined && sum !== crc32(new Uint8Array(data))) {
      throw new Error(
        `Weights of ${jsonPath} do not match the checksum ${CHECKSUM_KEY} ${JSON.stringify(sum)} that ` +
          `${MODEL_JSON} holds (a damaged weights file, or model.json edited)`,
      );
    }
    checkWeightValues(specs, data, `weights of ${jsonPath}`);
    return [specs, data];
  });
}

/**
 * Refuses a topology in which a serialized class (`{ class_name, config }`: a model, a layer, an
 * initializer) has a `config` that is not an object: tfjs would fail on it with a message of its
 * own ("Cannot create property 'customObjects' on number"). The depth is bounded by `parseJson`.
 */
function checkClassConfigs(node: unknown, jsonPath: string, at = 'modelTopology'): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkClassConfigs(item, jsonPath, `${at}[${i}]`));
    return;
  }
  const entry = node as Record<string, unknown>;
  if (typeof entry.class_name === 'string' && 'config' in entry) {
    const config = entry.config;
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error(
        `Malformed ${jsonPath}: ${at}.config of ${JSON.stringify(entry.class_name)} is ` +
          `${Array.isArray(config) ? 'an array' : JSON.stringify(config)}, expected an object`,
      );
    }
  }
  for (const [key, value] of Object.entries(entry)) checkClassConfigs(value, jsonPath, `${at}.${key}`);
}

/**
 * Resolves a manifest path to a regular file inside the model directory: refuses paths that are
 * not plain relative paths, that leave the directory, or that are symbolic links to a file
 * outside it (`realRoot` is the directory with its own links resolved).
 */
async function weightsFile(fs: Fs, path: Path, root: string, realRoot: string, p: unknown, jsonPath: string) {
  const refuse = (why: string) => new Error(`Refusing weights path ${JSON.stringify(p)} in ${jsonPath}: ${why}`);
  if (
    typeof p !== 'string' ||
    p.length === 0 ||
    p.includes('\0') ||
    /^[a-z][a-z0-9+.-]*:/i.test(p) ||
    path.isAbsolute(p)
  ) {
    throw refuse(`expected a relative path inside ${root}`);
  }
  const file = path.resolve(root, p);
  if (!file.startsWith(root + path.sep)) throw refuse(`it leaves the model directory ${root}`);
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch (err) {
    throw new Error(`Cannot read weights file ${file} named in ${jsonPath}: ${(err as NodeJS.ErrnoException).code}`);
  }
  if (!real.startsWith(realRoot + path.sep)) {
    throw refuse(`it is a link to ${real}, outside the model directory ${root}`);
  }
  if (!(await fs.stat(real)).isFile()) throw refuse('it is not a regular file');
  return real;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weight spec takes; refuses bad shapes and dtypes before anything is allocated. */
export function specBytes(spec: tf.io.WeightsManifestEntry, where: string): number {
  const ok = Array.isArray(spec?.shape) && spec.shape.every((d) => Number.isInteger(d) && d >= 0);
  if (!ok)
    throw new Error(
      `Malformed ${where}: weight ${JSON.stringify(spec?.name)} has shape ${JSON.stringify(spec?.shape)}`,
    );
  const size = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization)
    return size * (spec.quantization.dtype === 'uint16' || spec.quantization.dtype === 'float16' ? 2 : 1);
  const bytes = DTYPE_BYTES[spec.dtype];
  if (bytes === undefined)
    throw new Error(`Malformed ${where}: weight ${spec.name} has unsupported dtype ${JSON.stringify(spec.dtype)}`);
  return size * bytes;
}

/** The weights files (`weights.bin`, `weights-2.bin`) that the `model.json` at `jsonPath` names, if any. */
async function namedWeights(jsonPath: string): Promise<string[]> {
  try {
    const json = parseJson(await readRegularText(jsonPath, MAX_JSON_BYTES, MODEL_JSON), jsonPath) as tf.io.ModelJSON;
    return json.weightsManifest.flatMap((g) => g.paths.map((p) => p.replace(/^\.\//, '')));
  } catch {
    return [];
  }
}

/** Marks the router as registered for every copy of this module in the process (ESM and CJS builds, bundles). */
const REGISTERED = Symbol.for('tfjs-recurrent/file-router');

/**
 * Routes `file://` URLs to {@link fileHandler} in Node, for our networks and for
 * `tf.LayersModel.save`/`tf.loadLayersModel`. Steps aside when `@tensorflow/tfjs-node` (which
 * has its own) is loaded. Idempotent.
 */
export function registerFileRouter(): void {
  const flags = globalThis as { [REGISTERED]?: boolean };
  if (flags[REGISTERED] || typeof process === 'undefined' || !process.versions?.node) return;
  flags[REGISTERED] = true;
  const router = ((url: string | string[]) => {
    if (Array.isArray(url) || typeof url !== 'string' || !url.startsWith('file://')) return null;
    if (tf.findBackendFactory('tensorflow') != null) return null;
    return fileHandler(pathFromUrl(url));
  }) as (url: string | string[]) => tf.io.IOHandler; // tfjs routers answer null for URLs they do not handle
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
}
