/** Checks of tensor arguments (TensorFlow.js is loaded here, not in `values.ts`). */
import * as tf from '@tensorflow/tfjs';
import { assertSyncReadable, isSyncReadable, readSync } from '../read.js';
import {
  describe,
  disposedMessage,
  fmt,
  labelsMessage,
  LABEL_SUM_TOLERANCE,
  nonFiniteMessage,
  type LabelKind,
} from './values.js';

/**
 * A tensor of the given rank whose dimensions match `expected` where it gives a number
 * (`null` or a string is a free dimension; the string names it in the message).
 */
export function checkTensor(
  where: string,
  name: string,
  value: unknown,
  expected: readonly (number | null | string)[],
): tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    const got = Array.isArray(value) ? 'an array (wrap it with tf.tensor)' : describe(value);
    throw new TypeError(`${where}: expected ${name} to be a tf.Tensor of shape ${fmt(expected)}, got ${got}`);
  }
  if (value.isDisposed) {
    throw new Error(`${where}: ${name} has been disposed`);
  }
  const ok = value.rank === expected.length && expected.every((d, i) => typeof d !== 'number' || value.shape[i] === d);
  if (!ok) {
    throw new RangeError(`${where}: expected ${name} of shape ${fmt(expected)}, got ${fmt(value.shape)}`);
  }
  return value;
}

/**
 * A sequence batch `[batch, time, features]` (`batch` a number for a fixed batch size) with at
 * least one row and one step: an empty one has no prediction and no loss, only a NaN or an
 * internal error further on.
 */
export function checkSequence(
  where: string,
  name: string,
  value: unknown,
  features: number | null,
  batch: number | null = null,
): tf.Tensor3D {
  const x = checkTensor(where, name, value, [batch ?? 'batch', 'time', features ?? 'features']);
  if (x.shape[0] === 0) {
    throw new RangeError(`${where}: expected ${name} with at least one row (batch >= 1), got shape ${fmt(x.shape)}`);
  }
  if (x.shape[1] === 0) throw new RangeError(`${where}: expected ${name} with at least one time step, got time = 0`);
  return x as tf.Tensor3D;
}

/** Refuses a model or cell whose variables have been disposed (tfjs would fail deep inside). */
export function checkLive(where: string, what: string, variables: readonly tf.Tensor[]): void {
  if (variables.some((v) => v.isDisposed)) {
    throw new Error(disposedMessage(where, what));
  }
}

/**
 * Refuses a mask with entries other than 0 and 1 (or false and true): `0.5`, `7` or `NaN` would
 * otherwise blend states as weights. The check is one reduction and one read of a single value.
 * A bool mask cannot hold others. On webgpu and webgl, where a tensor can be read only
 * asynchronously, the values are not checked (the shape is): a synchronous read there fails in
 * Node and stalls a page, and `unroll` and a layer's `call` are synchronous.
 */
export function checkMaskValues(where: string, mask: tf.Tensor): void {
  if (mask.dtype === 'bool' || !isSyncReadable([mask])) return;
  const bad = tf.tidy(() => tf.any(tf.logicalAnd(tf.notEqual(mask, 0), tf.notEqual(mask, 1))).cast('int32'));
  const [found] = readSync(where, 'rt.unroll without mask values checked', bad);
  bad.dispose();
  if (found) {
    throw new RangeError(`${where}: expected mask values 0 or 1 (or false and true), got others (e.g. 0.5 or NaN)`);
  }
}

/**
 * Three flags in one tensor, `[xFinite, yFinite, labelsValid]`: one read tells whether an example
 * can be used. `labels` says what `y` must hold (see {@link LabelKind}; `classes` is the size of
 * the class axis).
 */
export function exampleFlags(x: tf.Tensor, y: tf.Tensor, labels: LabelKind, classes: number): tf.Tensor1D {
  return tf.tidy(() => {
    const finite = (t: tf.Tensor) => tf.all(tf.isFinite(tf.cast(t, 'float32')));
    const values = tf.cast(y, 'float32');
    let valid: tf.Tensor = tf.scalar(true, 'bool');
    if (labels === 'classes') {
      const integral = tf.all(tf.equal(values, tf.round(values)));
      const inRange = tf.logicalAnd(tf.all(tf.greaterEqual(values, 0)), tf.all(tf.less(values, classes)));
      valid = tf.logicalAnd(integral, inRange);
    } else if (labels === 'probabilities') {
      const rowSums = tf.sum(values, -1);
      const normalised = tf.all(tf.lessEqual(tf.abs(tf.sub(rowSums, 1)), LABEL_SUM_TOLERANCE));
      valid = tf.logicalAnd(tf.all(tf.greaterEqual(values, 0)), normalised);
    }
    return tf.cast(tf.stack([finite(x), finite(y), valid]), 'float32') as tf.Tensor1D;
  });
}

/**
 * The error that flags read from {@link exampleFlags} call for, or `null`. `names` are the
 * inputs as messages name them (`data x`, `y`), `at` where they came from (` at epoch 0, …`).
 */
export function exampleProblem(
  where: string,
  flags: ArrayLike<number>,
  names: { x: string; y: string },
  labels: LabelKind,
  classes: number,
  at = '',
): Error | null {
  if (!flags[0]) return new RangeError(nonFiniteMessage(where, names.x, at));
  if (!flags[1]) return new RangeError(nonFiniteMessage(where, names.y, at));
  if (!flags[2]) return new RangeError(labelsMessage(where, labels, classes, names.y, at));
  return null;
}

/**
 * Throws when `t` holds NaN or Infinity, naming it; returns `t`. NaN in the input of `predict`,
 * `unroll` or `cell.step` propagates to every later step without an error (as in any tfjs op):
 * call this first where that matters. Synchronous: on cpu, wasm and tensorflow; on webgpu and
 * webgl use {@link checkFiniteAsync}.
 */
export function checkFinite<T extends tf.Tensor>(t: T, name = 'x'): T {
  const where = 'checkFinite';
  checkTensor(where, name, t, t instanceof tf.Tensor ? t.shape : []);
  assertSyncReadable(where, `await rt.checkFiniteAsync(${name}, '${name}')`, [t]);
  const flag = tf.tidy(() => tf.all(tf.isFinite(tf.cast(t, 'float32'))).cast('int32'));
  const [finite] = readSync(where, `await rt.checkFiniteAsync(${name}, '${name}')`, flag);
  flag.dispose();
  if (!finite) throw new RangeError(nonFiniteMessage(where, name, ''));
  return t;
}

/** {@link checkFinite}, read with `await data()`: works on every backend. */
export async function checkFiniteAsync<T extends tf.Tensor>(t: T, name = 'x'): Promise<T> {
  const where = 'checkFiniteAsync';
  checkTensor(where, name, t, t instanceof tf.Tensor ? t.shape : []);
  const flag = tf.tidy(() => tf.all(tf.isFinite(tf.cast(t, 'float32'))).cast('int32'));
  const [finite] = await flag.data();
  flag.dispose();
  if (!finite) throw new RangeError(nonFiniteMessage(where, name, ''));
  return t;
}

/**
 * A value written to a layer's weight (by `setWeights` or by `tf.loadLayersModel`): float32 and
 * of the weight's shape. A transposed matrix is named as such (our weights keep the document's
 * orientation, `W_hx: [units, inputSize]`, the transpose of Keras's `kernel`).
 */
export function checkWeight(where: string, name: string, value: unknown, shape: readonly number[]): tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new TypeError(
      `${where}: expected weight ${name} to be a tf.Tensor of shape ${fmt(shape)}, got ${describe(value)}`,
    );
  }
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(value.shape, shape)) {
    const transposed =
      shape.length === 2 && shape[0] !== shape[1] && same(value.shape, [...shape].reverse())
        ? " (transposed: our weights keep the equations' orientation, W_kx: [units, inputSize], the " +
          "transpose of Keras's kernel; see rt.interop.toKeras/fromKeras)"
        : '';
    throw new RangeError(
      `${where}: expected weight ${name} of shape ${fmt(shape)}, got ${fmt(value.shape)}${transposed}`,
    );
  }
  if (value.dtype !== 'float32') {
    throw new TypeError(`${where}: expected weight ${name} of dtype float32, got ${value.dtype}`);
  }
  return value;
}
