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
 * write removes (`swap.ts`). A run holds the lock `PATH.lock` while it writes checkpoints
 * ({@link lockCheckpoint}), so two runs on one path get a clear error instead of racing. Reading
 * refuses what is not a regular file of sane size, damaged trainer states (epochs beyond what
 * the history holds, non-numeric losses) and damaged optimizer states (truncated, NaN,
 * mis-shaped or missing weights), naming the file and the weight. Node only (the file system).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeFs } from '../lazy-import.js';
import { loadSavedNetwork, saveNetwork, type SavedNetwork } from './artifacts.js';
import {
  atomicWrite,
  checkWeightValues,
  fileHandler,
  MAX_BINARY_BYTES,
  MAX_JSON_BYTES,
  parseJson,
  pathFromUrl,
  readRegularFile,
  readRegularText,
  specBytes,
  toArrayBuffer,
} from './file.js';
import { acquireLock } from './lock.js';
import { currentDirectory, freshPartial, swapIn } from './swap.js';

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
  const { path } = await nodeFs();
  const target = path.resolve(dir);
  const partial = await freshPartial(target);
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
  await swapIn(partial, target);
}

/** The directory holding the latest complete checkpoint written to `dir`, or null if none is. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  const { path } = await nodeFs();
  return currentDirectory(path.resolve(dir));
}

/**
 * Takes the lock of the checkpoint path `dir` (the file `PATH.lock` beside it) for a whole run,
 * so that two runs never write checkpoints to one path; returns the function that lets it go.
 * A second run is refused at once with a message naming the path and the run that holds it; a
 * lock left by a killed run is taken over.
 */
export async function lockCheckpoint(dir: string): Promise<() => Promise<void>> {
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir);
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `train: cannot create the directory of checkpoint.path ${target}: ${code === 'EEXIST' || code === 'ENOTDIR' ? 'a part of the path is a file' : code} (${code})`,
    );
  }
  return acquireLock(`${target}.lock`, {
    waitMs: 0,
    what: `train: the checkpoint path ${target}`,
    advice: 'Another training run writes its checkpoints there; give this run another checkpoint.path.',
  });
}

/** The most epochs a trainer state may say were done (more is a damaged file). */
const MAX_EPOCHS = 1e8;

/** Reads and checks the trainer state of the checkpoint directory `dir` (from {@link findCheckpoint}). */
export async function readTrainerState(
  dir: string,
): Promise<TrainerState & { optimizerWeights: tf.io.WeightsManifestEntry[] }> {
  const { path } = await nodeFs();
  const file = path.join(dir, TRAINER_JSON);
  let json: TrainerJson;
  try {
    json = parseJson(await readRegularText(file, MAX_JSON_BYTES, 'the trainer state'), file) as TrainerJson;
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
  const bad = (why: string) => new Error(`Malformed trainer state ${file}: ${why}`);
  if (epochsDone > MAX_EPOCHS) throw bad(`epochsDone is ${epochsDone}, expected at most ${MAX_EPOCHS}`);
  if (history.loss.length !== epochsDone) {
    throw bad(`epochsDone is ${epochsDone} but history.loss holds ${history.loss.length} losses (one per epoch)`);
  }
  for (const key of ['loss', 'valLoss'] as const) {
    const values: unknown = history[key];
    if (values === undefined && key === 'valLoss') continue;
    if (!Array.isArray(values) || values.length > epochsDone) {
      throw bad(`history.${key} must be an array of at most ${epochsDone} numbers`);
    }
    const i = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (i >= 0) throw bad(`history.${key}[${i}] is ${JSON.stringify(values[i])}, expected a finite number`);
  }
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
  const target = pathFromUrl(path);
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

/**
 * Gives `optimizer` the state stored in the checkpoint directory `dir`, after checking it: the
 * specs are well formed, `optimizer.bin` holds exactly their bytes, every value is finite and,
 * given the shapes of the variables being trained (in order), every state slot has the shape of
 * its variable. A damaged file is refused with an error naming the file and the weight.
 */
export async function restoreOptimizer(
  dir: string,
  specs: tf.io.WeightsManifestEntry[],
  optimizer: tf.Optimizer,
  variableShapes?: number[][],
): Promise<void> {
  const { path } = await nodeFs();
  const file = path.join(dir, OPTIMIZER_BIN);
  const where = `the optimizer state ${file} (specs in ${TRAINER_JSON})`;
  const expected = specs.reduce((sum, s) => sum + specBytes(s, where), 0);
  const bytes = await readRegularFile(file, MAX_BINARY_BYTES, 'the optimizer state');
  if (bytes.byteLength !== expected) {
    throw new Error(
      `${where}: the file is ${bytes.byteLength} bytes but the specs describe ${expected} (truncated or mismatched)`,
    );
  }
  const data = toArrayBuffer(bytes);
  checkWeightValues(specs, data, where);
  const slots = specs.filter((s) => !s.name.startsWith(EXACT));
  if (variableShapes) checkSlots(where, slots, optimizer, variableShapes);
  const decoded = tf.io.decodeWeights(data, specs);
  const weights = slots.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
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
 * tfjs optimizers save the iteration count, then their state slots (Adam: every variable's first
 * moment, then every variable's second moment), matched to the variables by position.
 */
function checkSlots(
  where: string,
  slots: tf.io.WeightsManifestEntry[],
  optimizer: tf.Optimizer,
  shapes: number[][],
): void {
  const name = optimizer.getClassName();
  if (slots.length === 0) return; // an optimizer without state
  if (slots[0].shape.length !== 0) {
    throw new Error(`${where}: expected the iteration count (a scalar) first, got ${JSON.stringify(slots[0]?.name)}`);
  }
  const state = slots.slice(1);
  if (shapes.length === 0 || state.length % shapes.length !== 0) {
    throw new Error(
      `${where}: ${state.length} state weights for ${shapes.length} variables; expected a multiple ` +
        `(the ${name} optimizer keeps one of each of its slots per variable): weights missing or extra`,
    );
  }
  state.forEach((spec, i) => {
    const shape = shapes[i % shapes.length];
    if (spec.shape.length !== shape.length || spec.shape.some((d, k) => d !== shape[k])) {
      throw new Error(
        `${where}: weight ${JSON.stringify(spec.name)} has shape [${spec.shape.join(', ')}], expected ` +
          `[${shape.join(', ')}] (the shape of variable ${i % shapes.length} of the model)`,
      );
    }
  });
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
