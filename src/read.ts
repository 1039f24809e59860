/**
 * Reading tensors back to JavaScript, synchronously only where the backend can.
 *
 * `dataSync()` of a tensor held by a GPU backend fails in Node on webgpu ("OffscreenCanvas is not
 * defined"), returns zeros and then loses the device in browsers on webgpu, and stalls the page on
 * webgl. The synchronous functions of the public API (`diagnostics.gradientNorms`,
 * `diagnostics.gradientCheck`, `interop.toPyTorch`, `interop.compareWithPyTorch`) read through
 * {@link readSync}, which refuses those backends with an error that names the async variant to
 * use; the async variants read with `await t.data()` and work everywhere.
 *
 * A computation that reads in the middle (a finite-difference check reads the loss after every
 * probe) is written once as a generator that yields the tensors it needs and receives their
 * values; {@link runSync} and {@link runAsync} drive it.
 */
import * as tf from '@tensorflow/tfjs';

/** Backends whose tensors must be read with `await data()`. */
const GPU_BACKENDS: ReadonlySet<string> = new Set(['webgpu', 'webgl']);

/** Values read from tensors, one flat typed array per tensor. */
export type Values = tf.TypedArray;

/** A computation that yields the tensors it wants read and gets back their values. */
export type Reader<R> = Generator<readonly tf.Tensor[], R, Values[]>;

/** The name of the backend that holds `t`'s data (the current one when unknown). */
export function backendOf(t?: tf.Tensor): string {
  const engine = tf.engine();
  const holder = t ? engine.state.tensorInfo.get(t.dataId)?.backend : undefined;
  if (holder) {
    for (const [name, backend] of Object.entries(engine.registry)) if (backend === holder) return name;
  }
  return tf.getBackend();
}

/** Whether the current backend (and the one holding each tensor given) can be read synchronously. */
export function isSyncReadable(tensors: readonly tf.Tensor[] = []): boolean {
  return [tf.getBackend(), ...tensors.map(backendOf)].every((name) => !GPU_BACKENDS.has(name));
}

/**
 * Throws unless the current backend (and the backend holding each tensor given) can be read
 * synchronously. `where` names the function, `instead` what to call instead.
 */
export function assertSyncReadable(where: string, instead: string, tensors: readonly tf.Tensor[] = []): void {
  for (const name of [tf.getBackend(), ...tensors.map(backendOf)]) {
    if (GPU_BACKENDS.has(name)) {
      throw new Error(
        `${where}: reads tensors synchronously, which the '${name}' backend cannot do safely ` +
          `(dataSync fails in Node and stalls or breaks a page); use ${instead} instead, ` +
          `or run on the cpu or wasm backend`,
      );
    }
  }
}

/** `t.dataSync()`, or a clear error on a backend that cannot read synchronously. */
export function readSync(where: string, instead: string, t: tf.Tensor): Values {
  assertSyncReadable(where, instead, [t]);
  return t.dataSync();
}

/** `t.arraySync()` (nested arrays), or a clear error on a backend that cannot read synchronously. */
export function readArraySync(where: string, instead: string, t: tf.Tensor): ReturnType<tf.Tensor['arraySync']> {
  assertSyncReadable(where, instead, [t]);
  return t.arraySync();
}

/** Runs a {@link Reader} with synchronous reads (refused on GPU backends, see {@link readSync}). */
export function runSync<R>(where: string, instead: string, reader: Reader<R>): R {
  let step = reader.next();
  while (!step.done) {
    let values: Values[];
    try {
      values = step.value.map((t) => readSync(where, instead, t));
    } catch (err) {
      step = reader.throw(err);
      continue;
    }
    step = reader.next(values);
  }
  return step.value;
}

/** Runs a {@link Reader} with `await t.data()` reads: works on every backend. */
export async function runAsync<R>(reader: Reader<R>): Promise<R> {
  let step = reader.next();
  while (!step.done) {
    let values: Values[];
    try {
      values = await Promise.all(step.value.map((t) => t.data()));
    } catch (err) {
      step = reader.throw(err);
      continue;
    }
    step = reader.next(values);
  }
  return step.value;
}
