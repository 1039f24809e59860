/**
 * Callbacks as `model.fit` takes them, for `rt.train`: an object of hooks (ours,
 * `{ onBatchEnd, onEpochEnd }`, or tfjs's `CustomCallbackArgs` with `onTrainBegin`, `onTrainEnd`,
 * `onEpochBegin`, `onBatchBegin`, `onYield`), a `tf.Callback` (`tf.callbacks.earlyStopping()`,
 * `new tf.CustomCallback(...)`, a subclass of your own), or an array of these.
 *
 * Logs carry tfjs's keys (`loss`, `val_loss`) and ours (`valLoss`, `size`). A callback stops
 * training as in tfjs, by setting `stopTraining = true` on the model it was given (`setModel`):
 * the tf.LayersModel being trained, or the RecurrentNetwork (a tf.Callback sees it as
 * `this.model`). Training then ends after the current batch.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, describe } from '../check/index.js';

/** Logs of one batch: its loss and its number of sequences. */
export type BatchLogs = {
  loss: number;
  size: number;
  /** The batch index within the epoch (0-based), as tfjs's batch logs carry it. */
  batch?: number;
};

/** Logs of one epoch: the mean training loss and, with validation data, the validation loss (both keys). */
export type EpochLogs = {
  loss: number;
  /** tfjs's name of the validation loss. */
  val_loss?: number;
  /** The same value, under the name rt.train first gave it. */
  valLoss?: number;
};

/** Hooks called as training goes (0-based indices, as in tfjs); a returned promise is awaited. */
export interface TrainCallbacks {
  onTrainBegin?: (logs?: object) => void | Promise<void>;
  onTrainEnd?: (logs?: object) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: object) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: object) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: BatchLogs) => void | Promise<void>;
  /** After every batch, as tfjs's `CustomCallback` calls it. */
  onYield?: (epoch: number, batch: number, logs: BatchLogs) => void | Promise<void>;
}

/**
 * A tf.Callback as tfjs's `fit` drives it (what `tf.callbacks.earlyStopping()` and
 * `tf.CustomCallback` are): it is handed the model and the run's parameters, then its hooks are
 * called as {@link TrainCallbacks}'. (Only these two methods are typed here, so that an object
 * literal of hooks takes its types from TrainCallbacks.)
 */
interface TfjsCallback {
  setParams(params: object): void;
  setModel(model: object): void;
}

/** What `rt.train` accepts as `callbacks`. */
export type Callbacks = TrainCallbacks | TfjsCallback | (TrainCallbacks | TfjsCallback)[];

const HOOKS = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
  'onYield',
] as const;

const BATCH_HOOKS = ['onBatchBegin', 'onBatchEnd', 'onYield'] as const;

/** The model a callback may stop: `stopTraining` is read after every batch. */
export interface Stoppable {
  stopTraining: boolean;
}

/** The callbacks of a run, called in the order given. */
export class CallbackList {
  /** tf.Callbacks among them are called through the same hooks (tfjs's `onYield` runs inside their `onBatchEnd`). */
  private readonly callbacks: TrainCallbacks[];
  private readonly tfjs: TfjsCallback[];

  constructor(callbacks: (TrainCallbacks | TfjsCallback)[]) {
    this.callbacks = callbacks as TrainCallbacks[];
    this.tfjs = callbacks.filter(isTfjsCallback);
  }

  /** Hands every tf.Callback the model (to stop) and the run's parameters, as tfjs's `fit` does. */
  attach(model: Stoppable, params: object): void {
    for (const c of this.tfjs) {
      // tf.Callback.setModel takes only a tf.LayersModel; a network is handed over as the property it sets.
      if (model instanceof tf.LayersModel) c.setModel(model);
      else (c as unknown as { model: Stoppable }).model = model;
      c.setParams(params);
    }
  }

  /**
   * Whether some callback has a batch hook (`onBatchBegin`, `onBatchEnd`, `onYield`) other than
   * tfjs's `BaseCallback`'s, which do nothing: a tf.Callback such as `tf.callbacks.earlyStopping()`
   * has none of its own, a `tf.CustomCallback` has them all.
   */
  get batchHooks(): boolean {
    const base = Object.getPrototypeOf(tf.Callback.prototype) as Record<string, unknown>;
    return this.callbacks.some((c) =>
      BATCH_HOOKS.some((hook) => typeof c[hook] === 'function' && c[hook] !== base[hook]),
    );
  }

  async trainBegin(): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.({});
  }

  async trainEnd(): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.({});
  }

  async epochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch, {});
  }

  async epochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, { ...logs });
  }

  async batchBegin(batch: number, size: number): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin?.(batch, { batch, size });
  }

  async batchEnd(epoch: number, batch: number, logs: BatchLogs): Promise<void> {
    for (const c of this.callbacks) {
      await c.onBatchEnd?.(batch, { ...logs, batch });
      if (!isTfjsCallback(c)) await c.onYield?.(epoch, batch, { ...logs, batch });
    }
  }
}

/** Checks `callbacks` as {@link Callbacks} describes them. */
export function checkCallbacks(where: string, callbacks: unknown): CallbackList {
  if (callbacks === undefined) return new CallbackList([]);
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  return new CallbackList(
    list.map((c, i) => checkOne(where, Array.isArray(callbacks) ? `callbacks[${i}]` : 'callbacks', c)),
  );
}

function checkOne(where: string, name: string, c: unknown): TrainCallbacks | TfjsCallback {
  if (c === null || typeof c !== 'object') {
    throw new TypeError(
      `${where}: expected ${name} to be an object of hooks { ${HOOKS.join(', ')} }, a tf.Callback ` +
        `(e.g. tf.callbacks.earlyStopping()) or an array of these, got ${describe(c)}`,
    );
  }
  if (isTfjsCallback(c)) return c;
  checkKeys(`${where}: ${name}`, c, HOOKS);
  for (const [hook, fn] of Object.entries(c)) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new TypeError(`${where}: expected ${name}.${hook} to be a function, got ${describe(fn)}`);
    }
  }
  return c as TrainCallbacks;
}

function isTfjsCallback(c: unknown): c is TfjsCallback {
  const x = c as Partial<TfjsCallback>;
  return typeof x.setModel === 'function' && typeof x.setParams === 'function';
}
