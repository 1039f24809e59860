/**
 * The training run of the adding-problem scripts (`scripts/adding-problem.ts` at T = 50,
 * `scripts/reproduce/adding-1000.ts` at T = 1,000): `rt.train` on a stream of fresh batches (Adam,
 * global-norm clipping 1, the loss at the last step), the test MSE measured every `every` steps
 * with the training clock paused.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { addingBatches } from '../src/data/adding.js';
import { TrainingClock, type Elapsed } from './reproduce/clock.js';

/** Held-out sequences and their sums. */
export interface AddingData {
  x: tf.Tensor3D;
  y: tf.Tensor2D;
}

export interface AddingRun {
  steps: number;
  batch: number;
  learningRate: number;
  seed: number;
  /** Measure the test MSE every so many steps (and after the last). */
  every: number;
  /** Stop early once this much training time is spent (default: no limit). */
  budget?: { seconds: number; by: 'cpu' | 'wall' };
  /** Called at every measurement. */
  onPoint?: (point: AddingPoint) => void;
}

/** One measurement: the test MSE after `step` steps and the training time until then. */
export interface AddingPoint extends Elapsed {
  step: number;
  mse: number;
}

/** Sequences predicted at once when measuring (a whole test set of long sequences at once can exhaust tfjs-wasm's heap). */
const CHUNK = 100;

/** The MSE of the network's last-step prediction on `data`, predicted {@link CHUNK} sequences at a time. */
export function lastStepMse(net: rt.RecurrentNetwork, data: AddingData): number {
  const [rows, time] = data.x.shape;
  let sum = 0;
  for (let start = 0; start < rows; start += CHUNK) {
    const size = Math.min(CHUNK, rows - start);
    sum += tf.tidy(() => {
      const y = net.predict(data.x.slice([start, 0, 0], [size, time, data.x.shape[2]]));
      const last = y.slice([0, time - 1, 0], [size, 1, 1]).reshape([-1, 1]);
      return tf.sum(tf.squaredDifference(data.y.slice([start, 0], [size, 1]), last)).dataSync()[0];
    });
  }
  return sum / rows;
}

/** Trains `net` on the adding problem of `test`'s length; the curve of test MSEs, step 0 included. */
export async function trainAdding(net: rt.RecurrentNetwork, test: AddingData, run: AddingRun): Promise<AddingPoint[]> {
  const time = test.x.shape[1];
  const clock = new TrainingClock();
  const measure = (step: number) => {
    clock.pause();
    const point = { step, ...clock.elapsed, mse: lastStepMse(net, test) };
    run.onPoint?.(point);
    clock.resume();
    return point;
  };
  const curve = [measure(0)];
  const { steps, batch, seed } = run;
  await rt.train(net, addingBatches({ batch, time, seed, batches: steps }), {
    loss: 'mse',
    target: 'lastStep',
    optimizer: 'adam',
    learningRate: run.learningRate,
    clipNorm: 1,
    seed,
    progress: false,
    callbacks: {
      onBatchEnd: (b) => {
        const step = b + 1;
        const over = run.budget !== undefined && clock.spent(run.budget.seconds, run.budget.by);
        if (over) net.stopTraining = true;
        if (step % run.every === 0 || step === steps || over) curve.push(measure(step));
      },
    },
  });
  return curve;
}
