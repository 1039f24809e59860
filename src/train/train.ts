/**
 * `rt.train`: backpropagation through time, written out.
 *
 * For every batch the model is unrolled over the sequence, the loss is taken at the last step or
 * at every step, and `tf.variableGrads` differentiates it through the unrolled graph, so each
 * parameter's gradient is the sum of its gradients at every time step,
 * $\partial L / \partial W = \sum_t \partial L / \partial W \big|_t$. The gradients are clipped
 * (optionally) and the optimizer takes one step. With truncated BPTT each batch is cut into
 * windows of k steps: one step per window, the state carried forward as a constant, so the
 * gradient stops at the window's edge.
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../cells/cell.js';
import { freshSeed } from '../init.js';
import {
  findCheckpoint,
  lockCheckpoint,
  readCheckpointNetwork,
  readTrainerState,
  restoreOptimizer,
  writeCheckpoint,
  type TrainerState,
} from '../io/checkpoint.js';
import { networkFromSaved, type RecurrentNetwork } from '../network.js';
import {
  asTrainable,
  checkExample,
  lossFunction,
  selectTarget,
  type LossFn,
  type Target,
  type Trainable,
} from '../objective/index.js';
import { createProgress, defaultProgress, type Progress } from '../progress.js';
import { clipGradients } from './clip.js';
import { checkBatchValues } from './batch-values.js';
import { AdamConstants } from './adam-ops.js';
import { applyGradients } from './fused-adam.js';
import { fusable, fusedSteps } from './fused-step.js';
import { lossAndProbe } from './probe.js';
import type { Stoppable } from './callbacks.js';
import { batchSource, holdOut, type Batch, type BatchSource, type TrainData } from './data.js';
import { resolveOptions, type Resolved, type TrainOptions } from './options.js';

/** What `rt.train` returns, shaped like tfjs's `History`. */
export interface History {
  /** The epoch indices trained so far (restored ones included), 0-based. */
  epoch: number[];
  /** `val_loss` is tfjs's name of the validation losses; `valLoss` the same array. */
  history: { loss: number[]; val_loss?: number[]; valLoss?: number[] };
  /** With `resume`, the number of epochs the checkpoint had already done (0 when there was none). */
  resumedFromEpoch?: number;
}

/** The state of one run, shared by the functions below. */
interface Run {
  trainable: Trainable;
  opts: Resolved;
  lossFn: LossFn;
  /** Fixed by the first batch when not given. */
  target?: Target;
  /** The optimizer's numbers as tensors, made once for the run (`./adam-ops.ts`). */
  constants: AdamConstants;
  /**
   * `{ x, y }` tensor data whose shapes and values were checked whole (by {@link checkWhole}): their
   * data (a tensor's values never change; a variable assigned gets new data) and target.
   */
  checked?: { x: object; y: object; target: Target };
}

/**
 * Trains `model` (a RecurrentNetwork or a tf.LayersModel) on `data` with explicit BPTT and
 * resolves to the loss history. See {@link TrainOptions} for the options.
 *
 * ```ts
 * const history = await rt.train(net, { x, y }, { loss: 'mse', epochs: 20, clipNorm: 1, seed: 1 });
 * ```
 */
export async function train(
  model: RecurrentNetwork | tf.LayersModel,
  data: TrainData,
  options: TrainOptions,
): Promise<History> {
  const where = 'train';
  const trainable = asTrainable(where, model);
  const opts = resolveOptions(where, options, trainable.net !== null);
  if (opts.window !== null && trainable.net?.bidirectional) {
    throw new Error(
      `${where}: truncated BPTT carries each cell's state forward to the next window, but a bidirectional ` +
        "network's reverse cells run from the window's end to its start; use bptt: 'full'",
    );
  }
  let progress: Progress | null = null;
  let unlock: (() => Promise<void>) | null = null;
  let held: ReturnType<typeof holdOut> | null = null;
  const constants = new AdamConstants();
  try {
    held = holdOut(where, data, opts.validationSplit);
    // One run at a time per checkpoint path: a second is refused at once, with the holder named.
    if (opts.checkpoint) unlock = await lockCheckpoint(opts.checkpoint.path);
    const run: Run = { trainable, opts, lossFn: lossFunction(opts.loss, where), target: opts.target, constants };
    const resumed = opts.resume ? await findResumePoint(run) : null;
    const seed = resumed?.state.seed ?? opts.seed ?? freshSeed();
    const source = trainingSource(where, held.data, opts, seed);
    const validationData = held.validation ?? opts.validation;
    const validation = validationData === undefined ? null : validationSource(where, validationData, opts, seed);
    if (resumed) await restore(run, resumed.dir, resumed.state.optimizerWeights);
    const saved = resumed?.state.history ?? { loss: [], ...(validation ? { valLoss: [] } : {}) };
    const history: History['history'] = { ...saved, ...(saved.valLoss ? { val_loss: saved.valLoss } : {}) };
    const start = resumed?.state.epochsDone ?? 0;
    progress = (opts.progress ?? defaultProgress()) ? await createProgress() : null;
    // A callback stops training as in tfjs: by setting stopTraining on the model it was given.
    const stopper = stoppable(trainable);
    stopper.stopTraining = false;
    opts.callbacks.attach(stopper, {
      epochs: opts.epochs,
      initialEpoch: start,
      steps: source.count ?? null,
      batchSize: opts.batchSize,
      verbose: progress ? 1 : 0,
      doValidation: validation !== null,
      metrics: validation ? ['loss', 'val_loss'] : ['loss'],
    });
    await opts.callbacks.trainBegin();

    for (let epoch = start; epoch < opts.epochs; epoch++) {
      await opts.callbacks.epochBegin(epoch);
      progress?.epochStart(epoch, opts.epochs, source.count);
      const loss = await trainEpoch(run, source, epoch, progress, stopper);
      const valLoss = validation ? await evaluate(run, validation, epoch) : undefined;
      history.loss.push(loss);
      if (valLoss !== undefined) {
        history.valLoss ??= history.val_loss = [];
        history.valLoss.push(valLoss);
      }
      const logs = valLoss === undefined ? { loss } : { loss, val_loss: valLoss, valLoss };
      progress?.epochEnd(logs);
      // The checkpoint of an epoch is on disk before its callbacks run (they may report it done); one
      // more is written when a callback stops training at an epoch that had none.
      const { checkpoint } = opts;
      const save = () =>
        writeCheckpoint(checkpoint!.path, trainable.net!, opts.optimizer, {
          epochsDone: epoch + 1,
          seed,
          history: { loss: history.loss, ...(history.valLoss ? { valLoss: history.valLoss } : {}) },
          optimizer: opts.optimizer.getClassName(),
        });
      const due =
        checkpoint !== undefined &&
        ((epoch + 1) % checkpoint.every === 0 || epoch + 1 === opts.epochs || stopper.stopTraining);
      if (due) await save();
      await opts.callbacks.epochEnd(epoch, logs);
      if (stopper.stopTraining) {
        if (checkpoint && !due) await save();
        break;
      }
    }
    await opts.callbacks.trainEnd();
    return {
      epoch: history.loss.map((_, i) => i),
      history,
      ...(opts.resume ? { resumedFromEpoch: start } : {}),
    };
  } finally {
    constants.dispose();
    held?.dispose();
    progress?.stop();
    if (opts.ownsOptimizer) opts.optimizer.dispose();
    await unlock?.();
  }
}

/**
 * What a callback sets `stopTraining` on: the network, or the tf.LayersModel. (An uncompiled
 * tf.Sequential makes its inner model, which holds the flag, on its first call; it is made here,
 * as that call would.)
 */
function stoppable(trainable: Trainable): Stoppable {
  if (trainable.net) return trainable.net;
  const model = trainable.model as tf.LayersModel;
  if (model instanceof tf.Sequential && (model as unknown as { model: unknown }).model == null) model.build();
  return model;
}

function trainingSource(where: string, data: TrainData, opts: Resolved, seed: number): BatchSource {
  const source = batchSource(where, 'data', data, { batchSize: opts.batchSize, shuffle: opts.shuffle ?? true, seed });
  if (source.count === undefined && (opts.batchSize !== undefined || opts.shuffle !== undefined)) {
    throw new Error(
      `${where}: batchSize and shuffle apply to { x, y } tensor data; an iterable or a dataset yields its own batches`,
    );
  }
  return source;
}

function validationSource(where: string, data: TrainData, opts: Resolved, seed: number): BatchSource {
  return batchSource(where, 'validation', data, { batchSize: opts.batchSize, shuffle: false, seed });
}

/** Where a batch is, in messages. */
const batchAt = (epoch: number, batch: number) => `epoch ${epoch}, batch ${batch}`;

/** One epoch (or its batches until a callback stops training); resolves to the mean loss per sequence. */
async function trainEpoch(
  run: Run,
  source: BatchSource,
  epoch: number,
  progress: Progress | null,
  stopper: Stoppable,
): Promise<number> {
  // `{ x, y }` data checked whole: its batches need no value checks of their own (a read each on a GPU).
  const target = source.rows ? await checkWhole(run, source.rows.x, source.rows.y) : null;
  const fused = target === null ? null : fusedEpoch(run, source, target, epoch, progress, stopper);
  if (fused !== null) return fused;
  let sum = 0;
  let rows = 0;
  let index = 0;
  for await (const batch of source.batches(epoch)) {
    const at = batchAt(epoch, index);
    let loss: number;
    try {
      await run.opts.callbacks.batchBegin(index, batch.x.shape[0]);
      loss = await trainBatch(run, batch, at, target !== null);
    } finally {
      if (batch.owned) tf.dispose([batch.x, batch.y]);
    }
    const size = batch.x.shape[0];
    sum += loss * size;
    rows += size;
    progress?.batchEnd(loss);
    await run.opts.callbacks.batchEnd(epoch, index, { loss, size });
    index += 1;
    if (stopper.stopTraining) break;
  }
  if (index === 0) {
    throw new Error(
      `train: data yielded no batches in epoch ${epoch}; an async generator can be iterated only once, so for ` +
        `several epochs pass an object whose [Symbol.asyncIterator]() starts afresh`,
    );
  }
  return sum / rows;
}

/**
 * The epoch of `{ x, y }` tensor data in one kernel call, `fusedSteps` over all its batches (the
 * rows of each taken by index), where the fused step computes the run's steps and nothing between
 * two steps could see them or stop training: no batch hook among the callbacks, training not
 * stopped already. `target` is what {@link checkWhole} gave for the data's shapes and values (where
 * it refuses them, the caller runs the batch-by-batch loop, which refuses the first bad batch by
 * name after the batches before it, as always). Each batch's loss reaches the progress bar after
 * the kernel. A batch whose loss or gradient is not finite is refused as the loop refuses it, the
 * steps before it kept. Returns the mean loss per sequence, or null where the batch-by-batch loop runs.
 */
function fusedEpoch(
  run: Run,
  source: BatchSource,
  target: Target,
  epoch: number,
  progress: Progress | null,
  stopper: Stoppable,
): number | null {
  const { trainable, opts } = run;
  const { rows } = source;
  if (!rows || stopper.stopTraining || opts.callbacks.batchHooks) return null;
  const { x, y, batchSize } = rows;
  // A shuffled epoch's order holds every row once: its batches have the sizes of the rows in order.
  if (!fusable(trainable, opts, x, y, { order: null, batchSize })) return null;
  const steps = fusedSteps(trainable, opts, x, y, target, { order: rows.order(epoch), batchSize });
  if (!steps) return null;
  run.target = target;
  try {
    steps.commit();
  } finally {
    steps.dispose();
  }
  const { losses, refused } = steps;
  let [sum, seen] = [0, 0];
  for (let b = 0; b < (refused?.batch ?? losses.length); b++) {
    const size = Math.min(batchSize, x.shape[0] - b * batchSize);
    sum += losses[b] * size;
    seen += size;
    progress?.batchEnd(losses[b]);
  }
  if (refused) refuseNonFinite(refused.loss, refused.gradientProbe, batchAt(epoch, refused.batch));
  return sum / seen;
}

/**
 * The checks of {@link checkBatch} on the whole `{ x, y }` tensor data, made once for the same data
 * (one read on a GPU): the target where they pass, else null (the batch-by-batch loop then refuses
 * the first bad batch, by name).
 */
async function checkWhole(run: Run, x: tf.Tensor, y: tf.Tensor): Promise<Target | null> {
  const { checked } = run;
  if (x.isDisposed || y.isDisposed) return null;
  if (checked?.x === x.dataId && checked.y === y.dataId) return checked.target;
  let target: Target;
  try {
    target = await checkBatch(run, { x, y }, 'the whole data', 'data');
  } catch {
    return null;
  }
  run.checked = { x: x.dataId, y: y.dataId, target };
  return target;
}

/** Checks a batch (shapes, then values unless `valuesChecked`); resolves to the target. */
async function checkBatch(
  run: Run,
  { x, y }: Pick<Batch, 'x' | 'y'>,
  at: string,
  name: string,
  valuesChecked = false,
): Promise<Target> {
  const { trainable, opts } = run;
  const { target, predShape } = checkExample(`train (${name} ${at})`, trainable, x, y, opts.loss, run.target);
  run.target = target;
  const classes = predShape[predShape.length - 1];
  const names = { x: `${name} x`, y: `${name} y` };
  if (!valuesChecked) await checkBatchValues(x, y, opts.loss, classes, names, ` at ${at} (0-based)`);
  return target;
}

/**
 * One batch: one optimizer step per window (one window with full BPTT). Resolves to the mean window
 * loss. `valuesChecked`: the batch is rows of data whose values were checked whole.
 */
async function trainBatch(run: Run, batch: Batch, at: string, valuesChecked: boolean): Promise<number> {
  const target = await checkBatch(run, batch, at, 'data', valuesChecked);
  const { x, y } = batch;
  const time = x.shape[1] as number; // checked: x is [batch, time, features]
  const window = run.opts.window ?? time;
  let state: State[] | undefined;
  let sum = 0;
  let count = 0;
  try {
    for (let start = 0; start < time; start += window) {
      const last = start + window >= time;
      const xw = window < time ? sliceTime(x, start, window) : x;
      const yw = window < time && target === 'everyStep' ? sliceTime(y, start, window) : y;
      try {
        const previous = state;
        if (target === 'lastStep' && !last) {
          // No loss in this window: only carry the state forward.
          state = tf.tidy(() => run.trainable.forward(xw, { training: true, initialState: previous }).state);
        } else {
          const step = await optimizerStep(
            run,
            xw,
            yw,
            target,
            previous,
            `${at}${window < time ? `, window starting at step ${start}` : ''}`,
          );
          state = step.state;
          sum += step.loss;
          count += 1;
        }
        if (previous) tf.dispose(previous);
      } finally {
        if (xw !== x) xw.dispose();
        if (yw !== y) yw.dispose();
      }
    }
  } finally {
    if (state) tf.dispose(state);
  }
  return sum / count;
}

/** Differentiates the loss of one window, checks it, clips the gradients and applies them. */
async function optimizerStep(
  run: Run,
  x: tf.Tensor,
  y: tf.Tensor,
  target: Target,
  initialState: State[] | undefined,
  at: string,
): Promise<{ loss: number; state?: State[] }> {
  const { trainable, opts, lossFn } = run;
  // The whole step in one kernel where it computes this one (cpu and wasm; see fused-step.ts).
  const fused = initialState === undefined ? fusedSteps(trainable, opts, x, y, target) : null;
  if (fused) {
    try {
      fused.commit();
    } finally {
      fused.dispose();
    }
    if (fused.refused) refuseNonFinite(fused.refused.loss, fused.refused.gradientProbe, at);
    return { loss: fused.losses[0] };
  }
  let state: State[] | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = trainable.forward(x, { training: true, initialState });
    // The state outlives the differentiation: the next window starts from it, as a constant.
    if (out.state) state = keepState(out.state);
    // As model.fit: the layers' own losses (regularizers) join the training loss.
    return trainable.penalty(lossFn(y, selectTarget(out.y, target)));
  }, trainable.variables);
  // The loss and, in the same read, sum(0 · g) over every gradient: NaN exactly when some entry is not finite.
  const checks = lossAndProbe(value, Object.values(grads));
  const [loss, gradientProbe] = await checks.data();
  tf.dispose([checks, value]);
  try {
    refuseNonFinite(loss, gradientProbe, at);
    // A variable the loss does not reach gets a zero gradient, so every optimizer slot keeps its place.
    const clipped = tf.tidy(() =>
      clipGradients(
        trainable.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)),
        opts,
      ),
    );
    applyGradients(opts.optimizer, trainable.variables, clipped, run.constants);
    tf.dispose(clipped);
  } catch (err) {
    if (state) tf.dispose(state);
    throw err;
  } finally {
    tf.dispose(Object.values(grads));
  }
  return { loss, state };
}

/** Refuses a step whose loss, or some gradient entry (`gradientProbe` NaN), is not finite. */
function refuseNonFinite(loss: number, gradientProbe: number, at: string): void {
  const bad = !Number.isFinite(loss)
    ? `the loss is ${loss}`
    : !Number.isFinite(gradientProbe)
      ? 'a gradient is not finite'
      : null;
  if (bad) {
    throw new Error(
      `train: ${bad} at ${at} (0-based); training stopped before this update, so the weights ` +
        `and the last checkpoint are the ones before it (try a lower learningRate or clipNorm)`,
    );
  }
}

/** The mean loss per sequence on validation data, forward only (no windows needed). */
async function evaluate(run: Run, source: BatchSource, epoch: number): Promise<number> {
  let sum = 0;
  let rows = 0;
  let index = 0;
  for await (const batch of source.batches(epoch)) {
    const at = batchAt(epoch, index);
    try {
      const target = await checkBatch(run, batch, at, 'validation');
      const value = tf.tidy(() =>
        run.lossFn(batch.y, selectTarget(run.trainable.forward(batch.x, { training: false }).y, target)),
      );
      const loss = (await value.data())[0];
      value.dispose();
      if (!Number.isFinite(loss)) throw new Error(`train: the validation loss is ${loss} at ${at} (0-based)`);
      sum += loss * batch.x.shape[0];
      rows += batch.x.shape[0];
    } finally {
      if (batch.owned) tf.dispose([batch.x, batch.y]);
    }
    index += 1;
  }
  if (index === 0) throw new Error(`train: validation yielded no batches in epoch ${epoch}`);
  return sum / rows;
}

/** Where a resumed run starts: the checkpoint's directory and trainer state, checked against this run. */
async function findResumePoint(
  run: Run,
): Promise<{ dir: string; state: TrainerState & { optimizerWeights: tf.io.WeightsManifestEntry[] } } | null> {
  const { opts } = run;
  const dir = await findCheckpoint(opts.checkpoint!.path);
  if (dir === null) return null;
  const state = await readTrainerState(dir);
  const where = `train: resume from ${dir}`;
  if (state.epochsDone > opts.epochs) {
    throw new Error(
      `${where}: the checkpoint has ${state.epochsDone} epochs done, more than the ${opts.epochs} epochs this run ` +
        'asks for; ask for at least that many epochs, or use another checkpoint.path',
    );
  }
  if (opts.seed !== undefined && opts.seed !== state.seed) {
    throw new Error(
      `${where}: the checkpoint was written with seed ${state.seed}, this run asks for seed ${opts.seed}`,
    );
  }
  const className = opts.optimizer.getClassName();
  if (state.optimizer !== className) {
    throw new Error(
      `${where}: the checkpoint holds the state of a ${state.optimizer} optimizer, this run uses ${className}`,
    );
  }
  return { dir, state };
}

/** Gives the network the checkpoint's weights and the optimizer its state. */
async function restore(run: Run, dir: string, optimizerWeights: tf.io.WeightsManifestEntry[]): Promise<void> {
  const net = run.trainable.net!;
  const saved = networkFromSaved(await readCheckpointNetwork(dir));
  try {
    const [a, b] = [JSON.stringify(saved.config), JSON.stringify(net.config)];
    if (a !== b)
      throw new Error(`train: resume from ${dir}: the checkpoint holds a network ${a}, the model to train is ${b}`);
    const shapes = run.trainable.variables.map((v) => v.shape);
    await restoreOptimizer(dir, optimizerWeights, run.opts.optimizer, shapes);
    const params = net.params;
    for (const [symbol, value] of Object.entries(saved.params)) params[symbol].assign(value);
  } finally {
    saved.dispose();
  }
}

/** Keeps every cell's state (one per layer and direction) out of the enclosing tidy. */
function keepState(state: State[]): State[] {
  for (const s of state) for (const t of Object.values(s)) tf.keep(t);
  return state;
}

function sliceTime(t: tf.Tensor, start: number, length: number): tf.Tensor {
  const size = [...t.shape];
  size[1] = Math.min(length, size[1] - start);
  return t.slice([0, start, ...t.shape.slice(2).map(() => 0)], size);
}
