/**
 * The files of training checkpoints (when to write one is the trainer's business): a directory
 * that `rt.loadNetwork('file://DIR')` opens (`model.json`, `weights.bin`), plus the optimizer's
 * state (`optimizer.bin`) and the trainer's (`trainer.json`: epochs done, seed, history, and the
 * optimizer weights' specs).
 *
 * Writing is atomic at the level of the whole directory, so that a kill at any moment
 * (SIGKILL included) leaves the previous checkpoint intact and loadable:
 *
 * 1. the new checkpoint is written into a fresh sibling `PATH.partial-*` and fsynced;
 * 2. `PATH` (if there) is renamed to `PATH.previous` (an older `PATH.previous` is removed first);
 * 3. `PATH.partial-*` is renamed to `PATH`;
 * 4. `PATH.previous` is removed.
 *
 * A reader takes `PATH` when it exists (it only ever appears complete, by rename), else
 * `PATH.previous` (a kill between steps 2 and 3), and ignores partial directories, which the next
 * write removes. Node only (the file system).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeFs } from '../lazy-import.js';
import { loadSavedNetwork, saveNetwork, type SavedNetwork } from './artifacts.js';
import { atomicWrite, fileHandler, fsyncDir } from './file.js';

type Fs = typeof import('node:fs/promises');

export const TRAINER_JSON = 'trainer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
const FORMAT = 'tfjs-recurrent/trainer-state';
const VERSION = 1;

/** What the trainer needs to continue a run. */
export interface TrainerState {
  /** Epochs completed; the next epoch index. */
  epochsDone: number;
  /** The seed of the run (the shuffling of every epoch derives from it). */
  seed: number;
  history: { loss: number[]; valLoss?: number[] };
  /** The optimizer's class name (`Adam`, `SGD`, …). */
  optimizer: string;
}

interface TrainerJson extends TrainerState {
  format: typeof FORMAT;
  version: number;
  optimizerWeights: tf.io.WeightsManifestEntry[];
}

/** Writes a checkpoint of `net`, `optimizer` and `state` to the directory `dir`, atomically. */
export async function writeCheckpoint(
  dir: string,
  net: SavedNetwork,
  optimizer: tf.Optimizer,
  state: TrainerState,
): Promise<void> {
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  await fs.mkdir(parent, { recursive: true });
  for (const entry of await fs.readdir(parent)) {
    if (entry.startsWith(`${base}.partial-`)) await fs.rm(path.join(parent, entry), { recursive: true, force: true });
  }
  const partial = path.join(parent, `${base}.partial-${process.pid}-${Date.now()}`);
  await fs.mkdir(partial);
  await saveNetwork(net, fileHandler(partial));
  const weights = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights([...weights, ...exactAccumulators(optimizer)]);
    await atomicWrite(path.join(partial, OPTIMIZER_BIN), new Uint8Array(data));
    const json: TrainerJson = { format: FORMAT, version: VERSION, ...state, optimizerWeights: specs };
    await atomicWrite(path.join(partial, TRAINER_JSON), JSON.stringify(json));
  } finally {
    weights[0]?.tensor.dispose(); // the iteration count, a fresh scalar; the rest are the optimizer's own
  }
  await fsyncDir(partial);

  const previous = `${target}.previous`;
  if (await exists(fs, target)) {
    await fs.rm(previous, { recursive: true, force: true });
    await fs.rename(target, previous);
  }
  await fs.rename(partial, target);
  await fsyncDir(parent);
  await fs.rm(previous, { recursive: true, force: true });
}

/** The directory holding the latest complete checkpoint written to `dir`, or null if none is. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir);
  for (const candidate of [target, `${target}.previous`]) {
    if (await exists(fs, candidate)) return candidate;
  }
  return null;
}

/** Reads and checks the trainer state of the checkpoint directory `dir` (from {@link findCheckpoint}). */
export async function readTrainerState(
  dir: string,
): Promise<TrainerState & { optimizerWeights: tf.io.WeightsManifestEntry[] }> {
  const { fs, path } = await nodeFs();
  const file = path.join(dir, TRAINER_JSON);
  let json: TrainerJson;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the trainer state ${file}: ${(err as Error).message}`);
  }
  const ok =
    json !== null &&
    typeof json === 'object' &&
    json.format === FORMAT &&
    json.version === VERSION &&
    Number.isInteger(json.epochsDone) &&
    json.epochsDone >= 0 &&
    Number.isFinite(json.seed) &&
    Array.isArray(json.history?.loss) &&
    typeof json.optimizer === 'string' &&
    Array.isArray(json.optimizerWeights);
  if (!ok) {
    throw new Error(
      `Malformed trainer state ${file}: expected { format: '${FORMAT}', version: ${VERSION}, epochsDone, seed, ` +
        `history, optimizer, optimizerWeights }`,
    );
  }
  const { epochsDone, seed, history, optimizer, optimizerWeights } = json;
  return { epochsDone, seed, history, optimizer, optimizerWeights };
}

/** A checkpoint as {@link readCheckpoint} reads it. */
export interface CheckpointFiles extends TrainerState {
  /** The directory it was read from (`PATH`, or `PATH.previous` after an interrupted write). */
  directory: string;
  /** The network's configuration and weights (new variables). */
  network: SavedNetwork;
}

/**
 * Reads the latest complete checkpoint written to `path` (a directory, or a `file://` URL),
 * whatever moment an interrupted write stopped at. Safe while a run is writing checkpoints: a
 * directory swapped during the read is read again. Node only.
 */
export async function readCheckpoint(path: string): Promise<CheckpointFiles> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`loadCheckpoint: expected a directory path, got ${JSON.stringify(path)}`);
  }
  const { fs } = await nodeFs();
  const target = path.startsWith('file://') ? path.slice('file://'.length) : path;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const dir = await findCheckpoint(target);
    if (dir === null) throw new Error(`loadCheckpoint: no checkpoint at ${path}`);
    const identity = async () => (await fs.stat(dir).catch(() => null))?.ino;
    const before = await identity();
    try {
      const { epochsDone, seed, history, optimizer } = await readTrainerState(dir);
      const network = await readCheckpointNetwork(dir);
      if ((await identity()) === before) return { directory: dir, network, epochsDone, seed, history, optimizer };
      tf.dispose(Object.values(network.params));
    } catch (err) {
      if ((await identity()) === before) throw err;
    }
    // A concurrent write swapped the directory while it was read: look again.
  }
  throw new Error(`loadCheckpoint: the checkpoint at ${path} kept changing while it was read`);
}

/** Reads the network stored in the checkpoint directory `dir`. */
export function readCheckpointNetwork(dir: string): Promise<SavedNetwork> {
  return loadSavedNetwork(fileHandler(dir));
}

/** Gives `optimizer` the state stored in the checkpoint directory `dir`. */
export async function restoreOptimizer(
  dir: string,
  specs: tf.io.WeightsManifestEntry[],
  optimizer: tf.Optimizer,
): Promise<void> {
  const { fs, path } = await nodeFs();
  const bytes = await fs.readFile(path.join(dir, OPTIMIZER_BIN));
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const decoded = tf.io.decodeWeights(data, specs);
  const weights = specs
    .filter((s) => !s.name.startsWith(EXACT))
    .map((s) => ({ name: s.name, tensor: decoded[s.name] }));
  try {
    await optimizer.setWeights(weights);
    for (const { name, variable } of accumulatorVariables(optimizer)) {
      const saved = decoded[`${EXACT}${name}`];
      if (saved) variable.assign(saved);
    }
  } finally {
    tf.dispose(Object.values(decoded)); // the optimizer's variables hold their own references
  }
}

/**
 * tfjs's Adam and Adamax keep β^t in variables (`accBeta1`, `accBeta2`) multiplied step by step,
 * but `setWeights` recomputes them with `pow(β, t + 1)`, which differs in float32's last bits. The
 * checkpoint stores them too, so a resumed run continues with exactly the same numbers.
 */
const EXACT = 'exact/';
const ACCUMULATORS = ['accBeta1', 'accBeta2'];

function accumulatorVariables(optimizer: tf.Optimizer): { name: string; variable: tf.Variable }[] {
  const fields = optimizer as unknown as Record<string, unknown>;
  return ACCUMULATORS.filter((name) => fields[name] instanceof tf.Variable).map((name) => ({
    name,
    variable: fields[name] as tf.Variable,
  }));
}

function exactAccumulators(optimizer: tf.Optimizer): { name: string; tensor: tf.Tensor }[] {
  return accumulatorVariables(optimizer).map(({ name, variable }) => ({ name: `${EXACT}${name}`, tensor: variable }));
}

async function exists(fs: Fs, p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
