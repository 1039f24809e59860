import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import type { CellKind } from '../../src/cells/cell.js';

/**
 * The tensors a network of `cell` leaves behind over `steps` training steps (an Adam update on the
 * squared error) each followed by a forward pass, counted after one step of warm-up (the
 * optimizer's slots): 0 when nothing leaks.
 */
export function trainingLeak(cell: CellKind, steps: number): number {
  const net = rt.network({ cell, inputSize: 2, units: 5, outputSize: 1, seed: 3 });
  const x = tf.randomNormal([4, 6, 2], 0, 1, 'float32', 4);
  const y = tf.randomNormal([4, 6, 1], 0, 1, 'float32', 5);
  const optimizer = tf.train.adam(0.01);
  const step = () =>
    tf.tidy(() => {
      optimizer.minimize(() => tf.losses.meanSquaredError(y, net.apply(x).y) as tf.Scalar);
      net.predict(x);
    });
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) step();
  const left = tf.memory().numTensors - before;
  tf.dispose([x, y]);
  optimizer.dispose();
  net.dispose();
  return left;
}
