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
 * - Loading is careful: malformed JSON, weight paths that leave the directory (`..`, absolute
 *   paths, URLs, symbolic links to files outside it), non-regular files and weight files whose
 *   size disagrees with the manifest are refused with a clear error before anything is read or
 *   any tensor is made. (Hard links cannot be told from the file itself.)
 *
 * Node modules are imported lazily, so this file bundles for browsers (where it is never used).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeFs } from '../lazy-import.js';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** Where a save puts the new weights while `model.json` still names `weights.bin`. */
export const WEIGHTS_BIN_ALT = 'weights-2.bin';

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

/** The directory a `file://` URL (or a plain path) names. */
export function pathFromUrl(url: string): string {
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  // tfjs-node's form names the model.json itself; ours names its directory. Both work.
  return path.endsWith(`/${MODEL_JSON}`) ? path.slice(0, -MODEL_JSON.length - 1) : path;
}

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
      await fs.mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const jsonPath = path.join(dir, MODEL_JSON);
      const weightsName = (await namedWeights(fs, jsonPath)).includes(WEIGHTS_BIN) ? WEIGHTS_BIN_ALT : WEIGHTS_BIN;
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
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { fs, path } = await nodeFs();
      const root = path.resolve(dir);
      const jsonPath = path.join(root, MODEL_JSON);
      let text: string;
      try {
        text = await fs.readFile(jsonPath, 'utf8');
      } catch (err) {
        throw new Error(`Cannot read ${jsonPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text);
      } catch (err) {
        throw new Error(`Malformed ${jsonPath}: ${(err as Error).message}`);
      }
      if (modelJson === null || typeof modelJson !== 'object' || !Array.isArray(modelJson.weightsManifest)) {
        throw new Error(`Malformed ${jsonPath}: expected an object with a weightsManifest array`);
      }
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
        for (const file of files) {
          const bytes = await fs.readFile(file);
          buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        }
        const data = tf.io.concatenateArrayBuffers(buffers);
        if (data.byteLength !== expected) {
          throw new Error(`Weights of ${jsonPath} changed while they were read; try again`);
        }
        return [specs, data];
      });
    },
  };
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
async function namedWeights(fs: Fs, jsonPath: string): Promise<string[]> {
  try {
    const json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
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
