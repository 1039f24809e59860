/**
 * The value checks of a training batch (x and y finite, the labels what the loss needs), as
 * `exampleValues` (`src/objective/`) makes them: a few kernels and one asynchronous read per batch
 * (rt.train makes them once on the whole of `{ x, y }` tensor data, then not on its batches).
 * On the cpu and wasm backends, for a loss whose labels may hold anything (`mse` and the like),
 * they are the finiteness of x and y only, read here synchronously and checked on the typed arrays:
 * on a small network's step the kernels and the read cost a third of the fused step itself. The
 * error is the same, made by `exampleProblem`.
 */
import * as tf from '@tensorflow/tfjs';
import { exampleProblem } from '../check/index.js';
import { exampleValues, labelKind, type LossFn, type LossName } from '../objective/index.js';
import { readSync, runAsync } from '../read.js';

const SYNC: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/** Whether every entry of `values` is finite. */
function finite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * The flags `exampleProblem` reads (x finite, y finite, the labels valid: 1 or 0) made on typed
 * arrays, where the check is theirs (see the module notes); else null.
 */
function syncFlags(x: tf.Tensor, y: tf.Tensor, loss: LossName | LossFn): number[] | null {
  if (labelKind(loss) !== 'any' || !SYNC.has(tf.getBackend())) return null;
  const read = (t: tf.Tensor) => readSync('train', 'the tensor checks', t);
  return [finite(read(x)) ? 1 : 0, finite(read(y)) ? 1 : 0, 1];
}

/** Refuses a batch whose values `exampleValues` refuses, with its error. */
export async function checkBatchValues(
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossName | LossFn,
  classes: number,
  names: { x: string; y: string },
  at: string,
): Promise<void> {
  const flags = syncFlags(x, y, loss);
  if (!flags) {
    await runAsync(exampleValues('train', x, y, loss, classes, names, at));
    return;
  }
  const problem = exampleProblem('train', flags, names, labelKind(loss), classes, at);
  if (problem) throw problem;
}
