/**
 * The options of `rt.train`, their defaults, and their checks (every one refused with a message
 * that names what was expected and what came).
 */
import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkKeys, checkOneOf, checkPositiveInt, checkSeed, show } from '../check/index.js';
import { checkLoss, TARGETS, type LossFn, type LossName, type Target } from '../objective/index.js';
import { checkCallbacks, type CallbackList, type Callbacks } from './callbacks.js';
import type { TrainData } from './data.js';

export type OptimizerName = 'adam' | 'sgd' | 'rmsprop' | 'adagrad';
const OPTIMIZERS: Record<OptimizerName, { make: (lr: number) => tf.Optimizer; learningRate: number }> = {
  adam: { make: (lr) => tf.train.adam(lr), learningRate: 1e-3 },
  sgd: { make: (lr) => tf.train.sgd(lr), learningRate: 1e-2 },
  rmsprop: { make: (lr) => tf.train.rmsprop(lr), learningRate: 1e-3 },
  adagrad: { make: (lr) => tf.train.adagrad(lr), learningRate: 1e-2 },
};

export interface TrainOptions {
  /** `'mse'`, `'softmaxCrossEntropy'`, `'sparseSoftmaxCrossEntropy'` or `(yTrue, yPred) => tf.Scalar`. */
  loss: LossName | LossFn;
  /** Which predictions the loss sees (default: `everyStep` when y has a time axis, else `lastStep`). */
  target?: Target;
  /** An optimizer, or its name (default `'adam'`). */
  optimizer?: tf.Optimizer | OptimizerName;
  /** With an optimizer given by name (defaults: adam and rmsprop 1e-3, sgd and adagrad 1e-2). */
  learningRate?: number;
  /** Default 1. */
  epochs?: number;
  /** Rows per batch for `{ x, y }` tensor data (default 32). */
  batchSize?: number;
  /** Shuffle the rows of `{ x, y }` tensor data every epoch (default true). */
  shuffle?: boolean;
  /** Seeds the shuffling; the same seed gives the same numbers (default: a fresh one). */
  seed?: number;
  /**
   * `'full'` (default): backpropagate through the whole sequence. `{ truncate: k }`: split each
   * batch into windows of k steps, one update per window; the state is carried into the next
   * window and the gradient stops at its edge. RecurrentNetwork only.
   */
  bptt?: 'full' | { truncate: number };
  /** Rescale all gradients together when their global norm exceeds this. */
  clipNorm?: number;
  /** Clip every gradient entry to `[-clipValue, clipValue]`. */
  clipValue?: number;
  /** Data to evaluate with the same loss after every epoch (`val_loss`, also `valLoss`). */
  validation?: TrainData;
  /**
   * As tfjs's `fit`: the last `validationSplit` (between 0 and 1) of the rows of `{ x, y }` tensor
   * data are held out (before shuffling) and evaluated after every epoch instead of trained on.
   */
  validationSplit?: number;
  /** Hooks, `tf.Callback`s (`tf.callbacks.earlyStopping()`), or an array of them: see {@link Callbacks}. */
  callbacks?: Callbacks;
  /** A progress bar on stdout (default: when stdout is a terminal, in Node). */
  progress?: boolean;
  /** As tfjs's `fit`: 0 is `progress: false`, 1 and 2 are `progress: true`. */
  verbose?: 0 | 1 | 2;
  /**
   * Write a checkpoint to the directory `path` every `every` epochs (default 1) and after the
   * last. RecurrentNetwork only, Node only.
   */
  checkpoint?: { path: string; every?: number };
  /** Continue from the checkpoint at `checkpoint.path`, if there is one. */
  resume?: boolean;
}

/** The options with defaults filled in and everything checked. */
export interface Resolved {
  loss: LossName | LossFn;
  target?: Target;
  optimizer: tf.Optimizer;
  /** The trainer made the optimizer (and disposes it). */
  ownsOptimizer: boolean;
  epochs: number;
  batchSize?: number;
  /** As given (the default, true, applies to tensor data). */
  shuffle?: boolean;
  /** The seed given, if any. */
  seed?: number;
  /** Steps per window, or null for full BPTT. */
  window: number | null;
  clipNorm?: number;
  clipValue?: number;
  validation?: TrainData;
  /** The fraction of `{ x, y }` rows held out for validation, or 0. */
  validationSplit: number;
  callbacks: CallbackList;
  progress?: boolean;
  checkpoint?: { path: string; every: number };
  resume: boolean;
}

/** Every option `rt.train` takes. */
export const TRAIN_OPTION_KEYS = [
  'loss',
  'target',
  'optimizer',
  'learningRate',
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'bptt',
  'clipNorm',
  'clipValue',
  'validation',
  'validationSplit',
  'callbacks',
  'progress',
  'verbose',
  'checkpoint',
  'resume',
];

/** Checks `options` and fills in the defaults. Creates the optimizer when it is given by name. */
export function resolveOptions(where: string, options: TrainOptions, isNetwork: boolean): Resolved {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected options { loss, ... }, got ${show(options)}`);
  }
  checkKeys(where, options, TRAIN_OPTION_KEYS);
  const loss = checkLoss(where, options.loss);
  const target = options.target === undefined ? undefined : checkOneOf(where, 'target', options.target, TARGETS);
  const epochs = options.epochs === undefined ? 1 : checkPositiveInt(where, 'epochs', options.epochs);
  const batchSize =
    options.batchSize === undefined ? undefined : checkPositiveInt(where, 'batchSize', options.batchSize);
  const shuffle = checkOptionalBoolean(where, 'shuffle', options.shuffle);
  const seed = options.seed === undefined ? undefined : checkSeed(where, options.seed);
  const window = checkBptt(where, options.bptt, isNetwork);
  const clipNorm = checkPositive(where, 'clipNorm', options.clipNorm);
  const clipValue = checkPositive(where, 'clipValue', options.clipValue);
  const callbacks = checkCallbacks(where, options.callbacks);
  const progress = checkProgress(where, options.progress, options.verbose);
  const validationSplit = checkValidationSplit(where, options.validationSplit, options.validation);
  const resume = checkOptionalBoolean(where, 'resume', options.resume) ?? false;
  const checkpoint = checkCheckpoint(where, options.checkpoint, isNetwork);
  if (resume && !checkpoint) throw new Error(`${where}: resume: true needs checkpoint: { path } to resume from`);
  const { optimizer, ownsOptimizer } = makeOptimizer(where, options.optimizer, options.learningRate);
  return {
    loss,
    target,
    optimizer,
    ownsOptimizer,
    epochs,
    batchSize,
    shuffle,
    seed,
    window,
    clipNorm,
    clipValue,
    validation: options.validation,
    validationSplit,
    callbacks,
    progress,
    checkpoint,
    resume,
  };
}

function makeOptimizer(
  where: string,
  optimizer: unknown,
  learningRate: unknown,
): { optimizer: tf.Optimizer; ownsOptimizer: boolean } {
  const lr = checkPositive(where, 'learningRate', learningRate);
  if (optimizer != null && optimizer instanceof tf.Optimizer) {
    if (lr !== undefined) {
      throw new Error(`${where}: learningRate applies to an optimizer given by name; set it on the optimizer instance`);
    }
    return { optimizer, ownsOptimizer: false };
  }
  const name = checkOneOf(where, 'optimizer', optimizer ?? 'adam', Object.keys(OPTIMIZERS) as OptimizerName[]);
  const spec = OPTIMIZERS[name];
  return { optimizer: spec.make(lr ?? spec.learningRate), ownsOptimizer: true };
}

function checkBptt(where: string, bptt: unknown, isNetwork: boolean): number | null {
  if (bptt === undefined || bptt === 'full') return null;
  const k = (bptt as { truncate?: unknown } | null)?.truncate;
  if (bptt === null || typeof bptt !== 'object' || Object.keys(bptt).some((key) => key !== 'truncate')) {
    throw new Error(`${where}: expected bptt to be 'full' or { truncate: k }, got ${show(bptt)}`);
  }
  checkPositiveInt(where, 'bptt.truncate', k);
  if (!isNetwork) {
    throw new Error(
      `${where}: truncated BPTT carries the state from window to window, which needs a RecurrentNetwork; ` +
        `for a tf.LayersModel use bptt: 'full', or build it with stateful layers and feed it windows yourself`,
    );
  }
  return k as number;
}

function checkCheckpoint(where: string, checkpoint: unknown, isNetwork: boolean): Resolved['checkpoint'] {
  if (checkpoint === undefined) return undefined;
  const c = checkpoint as { path?: unknown; every?: unknown } | null;
  if (c === null || typeof c !== 'object' || typeof c.path !== 'string' || c.path.length === 0) {
    throw new TypeError(
      `${where}: expected checkpoint to be { path: string, every?: number }, got ${show(checkpoint)}`,
    );
  }
  checkKeys(`${where}: checkpoint`, c, ['path', 'every']);
  const every = c.every === undefined ? 1 : checkPositiveInt(where, 'checkpoint.every', c.every);
  if (!isNetwork) {
    throw new Error(
      `${where}: checkpoints hold a RecurrentNetwork; for a tf.LayersModel save it with model.save() ` +
        `in callbacks.onEpochEnd`,
    );
  }
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error(`${where}: checkpoints write to the file system, which needs Node`);
  }
  return { path: c.path.startsWith('file://') ? c.path.slice('file://'.length) : c.path, every };
}

/** `progress`, or tfjs's `verbose` (0: none; 1, 2: progress), refused when the two disagree. */
function checkProgress(where: string, progress: unknown, verbose: unknown): boolean | undefined {
  const given = checkOptionalBoolean(where, 'progress', progress);
  if (verbose === undefined) return given;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) {
    throw new RangeError(`${where}: expected verbose to be 0, 1 or 2, got ${show(verbose)}`);
  }
  const fromVerbose = verbose !== 0;
  if (given !== undefined && given !== fromVerbose) {
    throw new Error(`${where}: progress: ${given} and verbose: ${verbose} disagree; give one of them`);
  }
  return fromVerbose;
}

function checkValidationSplit(where: string, split: unknown, validation: unknown): number {
  if (split === undefined) return 0;
  if (typeof split !== 'number' || !(split > 0 && split < 1)) {
    throw new RangeError(
      `${where}: expected validationSplit to be a number between 0 and 1 (exclusive), got ${show(split)}`,
    );
  }
  if (validation !== undefined) {
    throw new Error(`${where}: give validation data or validationSplit, not both`);
  }
  return split;
}

function checkPositive(where: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${where}: expected ${name} to be a positive number, got ${show(value)}`);
  }
  return value;
}

function checkOptionalBoolean(where: string, name: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : checkBoolean(where, name, value);
}
