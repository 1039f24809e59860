/**
 * Checking refusals: the inputs of one case are made through {@link Inputs} and disposed after the
 * call, so that {@link expectError} sees in the tensor count only what the refused call left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import type { State } from '../../src/cells/cell.js';

/** Makes the inputs of one case and disposes them after the call. */
export class Inputs {
  private readonly made: { dispose(): void }[] = [];
  zeros(shape: number[]): tf.Tensor {
    return this.keep(tf.zeros(shape));
  }
  ones(shape: number[]): tf.Tensor {
    return this.keep(tf.ones(shape));
  }
  fill(shape: number[], value: number): tf.Tensor {
    return this.keep(tf.fill(shape, value));
  }
  tensor(values: number[], shape: number[]): tf.Tensor {
    return this.keep(tf.tensor(values, shape));
  }
  /** A tensor, a cell or a state (a record of tensors) to dispose after the call. */
  keep<V extends { dispose(): void } | State>(value: V): V {
    if ('dispose' in value && typeof value.dispose === 'function') this.made.push(value as { dispose(): void });
    else this.made.push(...Object.values(value as State));
    return value;
  }
  dispose(): void {
    for (const m of this.made) m.dispose();
  }
}

/**
 * `f` throws (or rejects) with a message matching `pattern`, and leaves no tensor behind (unless
 * `leaks` says why tfjs itself does).
 */
export async function expectError(f: (T: Inputs) => unknown, pattern: RegExp, leaks?: string): Promise<void> {
  const T = new Inputs();
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    await f(T);
  } catch (e) {
    error = e;
  }
  T.dispose();
  expect(error, `expected an error matching ${pattern}`).to.be.instanceOf(Error);
  expect((error as Error).message).to.match(pattern);
  if (leaks === undefined) {
    expect(tf.memory().numTensors, `tensors left behind by a refused call (${pattern})`).to.equal(before);
  }
}

/** One refusal: what is tried, the call, the message it must give (and why tfjs leaks, if it does). */
export type Case = [what: string, f: (T: Inputs) => unknown, pattern: RegExp, leaks?: string];

/** One `it` per case, so that a gap shows as one named failure. */
export function cases(list: Case[]): void {
  for (const [what, f, pattern, leaks] of list) it(what, () => expectError(f, pattern, leaks));
}
