// One run of a cell over a sequence, for comparing paths: outputs, final state and every gradient.
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import type { Cell, State } from '../../src/cells/cell.js';

/** Outputs, final state and the gradients of a weighted loss for every parameter, x and the initial state. */
export function outputsAndGradients(
  cell: Cell,
  x: tf.Tensor,
  initial: State,
  options: rt.UnrollOptions,
  seed: number,
): tf.Tensor[] {
  const names = cell.stateNames;
  const loss = (x: tf.Tensor, ...s: tf.Tensor[]) => {
    const initialState = Object.fromEntries(names.map((n, i) => [n, s[i]])) as unknown as State;
    const { outputs, state } = rt.unroll(cell, x, { ...options, initialState });
    let L = tf.sum(tf.mul(outputs, tf.randomNormal(outputs.shape, 0, 1, 'float32', seed)));
    for (const [i, n] of names.entries()) {
      L = tf.add(L, tf.sum(tf.mul(state[n]!, tf.randomNormal(state[n]!.shape, 0, 1, 'float32', seed + 1 + i))));
    }
    return L as tf.Scalar;
  };
  const inputs = [x, ...names.map((n) => initial[n]!)];
  const { outputs, state } = rt.unroll(cell, x, { ...options, initialState: initial });
  const { grads } = tf.variableGrads(() => loss(x, ...inputs.slice(1)), Object.values(cell.params));
  return [
    outputs,
    ...names.map((n) => state[n]!),
    ...tf.grads(loss)(inputs),
    ...Object.values(cell.params).map((v) => grads[v.name]),
  ];
}
