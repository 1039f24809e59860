// Soak: thousands of training steps through rt.train leave the number of live tensors exactly
// flat and the JavaScript heap bounded (measured after a forced garbage collection).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, in bytes. */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

interface Sample {
  epoch: number;
  tensors: number;
  heap: number;
}

/**
 * Trains for `epochs`, sampling live tensors every epoch and the heap every `heapEvery` epochs;
 * returns the samples and the number of optimizer steps taken.
 */
async function soak(
  model: rt.RecurrentNetwork | tf.LayersModel,
  data: { x: tf.Tensor; y: tf.Tensor },
  options: Omit<rt.TrainOptions, 'callbacks' | 'progress'> & { epochs: number },
  heapEvery: number,
): Promise<{ samples: Sample[]; steps: number }> {
  const samples: Sample[] = [];
  let steps = 0;
  await rt.train(model, data, {
    ...options,
    progress: false,
    callbacks: {
      onBatchEnd: () => {
        steps += 1;
      },
      onEpochEnd: (epoch) => {
        const heap = epoch % heapEvery === 0 || epoch === options.epochs - 1 ? heapAfterGc() : Number.NaN;
        samples.push({ epoch, tensors: tf.memory().numTensors, heap });
      },
    },
  });
  return { samples, steps };
}

/** Tensors exactly flat after the first epoch; heap growth after warm-up within `maxGrowth` bytes. */
function expectFlat(samples: Sample[], maxGrowth: number): void {
  const tensors = samples.map((s) => s.tensors);
  expect(new Set(tensors.slice(1)).size, `live tensors per epoch: ${[...new Set(tensors)].join(', ')}`).to.equal(1);
  const heaps = samples.filter((s) => Number.isFinite(s.heap));
  const warm = heaps[Math.min(2, heaps.length - 1)].heap;
  const last = heaps[heaps.length - 1].heap;
  const peak = Math.max(...heaps.slice(2).map((s) => s.heap));
  expect(last - warm, `heap grew from ${warm} to ${last} bytes`).to.be.below(maxGrowth);
  expect(peak - warm, `heap peaked ${peak - warm} bytes above warm-up`).to.be.below(maxGrowth);
}

describe('soak: long training runs', function () {
  this.timeout(120_000);

  it('2,000 steps of a RecurrentNetwork (LSTM, full BPTT, clipNorm, validation): tensors flat, heap bounded', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const x = tf.randomNormal([16, 4, 2], 0, 1, 'float32', 1);
    const y = tf.randomNormal([16, 4, 1], 0, 1, 'float32', 2);
    const validation = { x: x.slice([0, 0, 0], [4, 4, 2]), y: y.slice([0, 0, 0], [4, 4, 1]) };
    const before = tf.memory().numTensors;
    const { samples, steps } = await soak(
      net,
      { x, y },
      { loss: 'mse', epochs: 250, batchSize: 2, clipNorm: 1, seed: 3, validation },
      25,
    );
    expect(steps).to.equal(2000);
    expectFlat(samples, 8 * 2 ** 20);
    tf.dispose([x, y, validation.x, validation.y]);
    net.dispose();
    expect(tf.memory().numTensors, 'tensors left after training').to.equal(before - 4 - Object.keys(net.params).length);
  });

  it('240 steps of a RecurrentNetwork (GRU, truncated BPTT): tensors flat, heap bounded', async () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const x = tf.randomNormal([8, 8, 2], 0, 1, 'float32', 3);
    const y = tf.randomNormal([8, 8, 1], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    // 2 batches x 4 windows of 2 steps: 8 optimizer steps per epoch.
    const { samples } = await soak(
      net,
      { x, y },
      { loss: 'mse', epochs: 30, batchSize: 4, bptt: { truncate: 2 }, seed: 5 },
      5,
    );
    expectFlat(samples, 8 * 2 ** 20);
    tf.dispose([x, y]);
    net.dispose();
    expect(tf.memory().numTensors).to.equal(before - 2 - Object.keys(net.params).length);
  });

  it('100 steps of a tf.LayersModel of this package’s layers: tensors flat, heap bounded', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.elman({ units: 4, returnSequences: true, inputShape: [null, 2] }),
        rt.layers.output({ units: 1 }),
      ],
    });
    const x = tf.randomNormal([8, 6, 2], 0, 1, 'float32', 6);
    const y = tf.randomNormal([8, 6, 1], 0, 1, 'float32', 7);
    const { samples, steps } = await soak(model, { x, y }, { loss: 'mse', epochs: 50, batchSize: 4, seed: 7 }, 5);
    expect(steps).to.equal(100);
    expectFlat(samples, 8 * 2 ** 20);
    tf.dispose([x, y]);
    model.dispose();
  });
});
