/**
 * The forms training data can take, each turned into batches epoch by epoch:
 *
 * - `{ x, y }` tensors: split into batches of `batchSize` rows; with `shuffle` the rows of each
 *   epoch are permuted by a generator seeded from `(seed, epoch)`, so a run is repeatable and a
 *   resumed run sees the same batches as an uninterrupted one.
 * - an async iterable of `{ x, y }` (or `{ xs, ys }`) batches, iterated once per epoch (make
 *   `[Symbol.asyncIterator]()` start afresh for several epochs). Its tensors stay the caller's.
 * - a `tf.data.Dataset` of such batches. Its tensors are disposed after use, as tfjs's
 *   `model.fitDataset` does.
 */
import * as tf from '@tensorflow/tfjs';
import { describe } from '../check/index.js';
import { prng } from '../init.js';

export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  /** The trainer made (or was handed ownership of) these tensors and disposes them. */
  owned: boolean;
}

export interface BatchSource {
  /** The batches of epoch `epoch` (0-based). */
  batches(epoch: number): AsyncIterable<Batch>;
  /** Batches per epoch, when known in advance. */
  readonly count?: number;
  /** For `{ x, y }` tensor data: the whole data, and the rows of each epoch's batches, in order. */
  readonly rows?: TensorRows;
}

/**
 * `{ x, y }` tensor data as {@link BatchSource.batches} cuts it: batch `b` of epoch `e` holds the
 * rows `order(e)[b * batchSize ..]` (the rows `b * batchSize ..` when `order(e)` is null), at most
 * `batchSize` of them.
 */
export interface TensorRows {
  x: tf.Tensor;
  y: tf.Tensor;
  batchSize: number;
  order(epoch: number): Int32Array | null;
}

/** Data as the trainer accepts it. */
export type TrainData =
  | { x: tf.Tensor; y: tf.Tensor }
  | AsyncIterable<{ x: tf.Tensor; y: tf.Tensor } | { xs: tf.Tensor; ys: tf.Tensor }>
  | tf.data.Dataset<tf.TensorContainer>;

/** Turns `data` into a {@link BatchSource}; `name` is `data` or `validation` in messages. */
export function batchSource(
  where: string,
  name: string,
  data: unknown,
  options: { batchSize?: number; shuffle: boolean; seed: number },
): BatchSource {
  if (isDataset(data)) return datasetSource(where, name, data);
  if (data !== null && typeof data === 'object' && Symbol.asyncIterator in data) {
    return iterableSource(where, name, data as AsyncIterable<unknown>);
  }
  if (data !== null && typeof data === 'object' && 'x' in data && 'y' in data) {
    const { x, y } = data as { x: unknown; y: unknown };
    if (x instanceof tf.Tensor && y instanceof tf.Tensor) return tensorSource(where, name, x, y, options);
  }
  throw new TypeError(
    `${where}: expected ${name} to be { x, y } tensors, an async iterable of { x, y } batches or a ` +
      `tf.data.Dataset, got ${describe(data)}`,
  );
}

function tensorSource(
  where: string,
  name: string,
  x: tf.Tensor,
  y: tf.Tensor,
  options: { batchSize?: number; shuffle: boolean; seed: number },
): BatchSource {
  for (const [label, t] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (t.isDisposed) throw new Error(`${where}: ${name}.${label} has been disposed`);
  }
  const n = x.shape[0];
  if (y.shape[0] !== n) {
    throw new RangeError(
      `${where}: ${name}.x has ${n} rows but ${name}.y has ${y.shape[0]}; expected the same batch size`,
    );
  }
  if (n === 0) throw new RangeError(`${where}: ${name} is empty (x has 0 rows)`);
  const size = Math.min(options.batchSize ?? 32, n);
  const count = Math.ceil(n / size);
  const order = (epoch: number) => (options.shuffle ? permutation(n, epochSeed(options.seed, epoch)) : null);
  return {
    count,
    rows: { x, y, batchSize: size, order },
    async *batches(epoch) {
      if (count === 1 && !options.shuffle) {
        yield { x, y, owned: false };
        return;
      }
      const rows = order(epoch);
      for (let b = 0; b < count; b++) {
        const start = b * size;
        const end = Math.min(n, start + size);
        const picked = rows?.subarray(start, end);
        yield { ...tf.tidy(() => (picked ? gatherRows(x, y, picked) : sliceRows(x, y, start, end))), owned: true };
      }
    },
  };
}

function iterableSource(where: string, name: string, data: AsyncIterable<unknown>): BatchSource {
  return {
    async *batches() {
      for await (const item of data) yield { ...unpack(where, name, item), owned: false };
    },
  };
}

function datasetSource(where: string, name: string, data: tf.data.Dataset<tf.TensorContainer>): BatchSource {
  return {
    async *batches() {
      const iterator = await data.iterator();
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        yield { ...unpack(where, name, r.value), owned: true };
      }
    },
  };
}

function unpack(where: string, name: string, item: unknown): { x: tf.Tensor; y: tf.Tensor } {
  const o = item as { x?: unknown; y?: unknown; xs?: unknown; ys?: unknown } | null;
  const x = o?.x ?? o?.xs;
  const y = o?.y ?? o?.ys;
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor)) {
    throw new TypeError(
      `${where}: expected each batch of ${name} to be { x, y } (or { xs, ys }) tensors, got ${describe(item)}`,
    );
  }
  return { x, y };
}

function gatherRows(x: tf.Tensor, y: tf.Tensor, rows: Int32Array): { x: tf.Tensor; y: tf.Tensor } {
  const indices = tf.tensor1d(rows, 'int32');
  return { x: tf.gather(x, indices), y: tf.gather(y, indices) };
}

function sliceRows(x: tf.Tensor, y: tf.Tensor, start: number, end: number): { x: tf.Tensor; y: tf.Tensor } {
  const rows = (t: tf.Tensor) => t.slice([start, ...t.shape.slice(1).map(() => 0)], [end - start, ...t.shape.slice(1)]);
  return { x: rows(x), y: rows(y) };
}

/** A seed for epoch `epoch` of a run seeded with `seed` (distinct epochs, distinct orders). */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
}

/** A seeded Fisher–Yates permutation of `0 .. n-1`. */
export function permutation(n: number, seed: number): Int32Array {
  const rand = prng(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function isDataset(data: unknown): data is tf.data.Dataset<tf.TensorContainer> {
  return data instanceof tf.data.Dataset;
}

/**
 * `validationSplit` as tfjs's `fit` does it: the last `fraction` of the rows of `{ x, y }` tensor
 * data (before any shuffling) become the validation data and the rest the training data. With
 * `fraction` 0 the data stay as given. `dispose` frees the slices.
 */
export function holdOut(
  where: string,
  data: TrainData,
  fraction: number,
): { data: TrainData; validation?: TrainData; dispose(): void } {
  if (fraction === 0) return { data, dispose: () => {} };
  const { x, y } = data as { x?: unknown; y?: unknown };
  if (!(x instanceof tf.Tensor && y instanceof tf.Tensor)) {
    throw new Error(
      `${where}: validationSplit holds out rows of { x, y } tensor data; an iterable or a dataset needs its ` +
        `own validation data (validation: ...)`,
    );
  }
  const rows = x.shape[0];
  // Rows that do not match are refused with the data's own message, by the batch source.
  if (y.shape[0] !== rows) return { data, dispose: () => {} };
  const at = Math.floor(rows * (1 - fraction));
  if (at === 0)
    throw new RangeError(`${where}: validationSplit ${fraction} of ${rows} rows leaves no rows to train on`);
  const [xTrain, xVal] = tf.split(x, [at, rows - at]);
  const [yTrain, yVal] = tf.split(y, [at, y.shape[0] - at]);
  return {
    data: { x: xTrain, y: yTrain },
    validation: { x: xVal, y: yVal },
    dispose: () => tf.dispose([xTrain, xVal, yTrain, yVal]),
  };
}
