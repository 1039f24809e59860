import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { describeOnBackends } from './helpers/backends.js';
import {
  BATCH,
  I,
  O,
  U,
  data,
  maxDiff,
  pathOptions,
  trained,
  type NetOptions,
  type Path,
  type Trained,
} from './helpers/fused-training.js';

const all = (t: Trained) => [t.loss, ...t.weights, ...t.slots];

const CELLS: NetOptions[] = [{ cell: 'lstm' }, { cell: 'gru' }, { cell: 'gru', resetAfter: false }, { cell: 'elman' }];

/** The error of a run (null when it resolves), with the network's weights and the optimizer's iterations after it. */
async function refusal(
  path: Path,
  x: tf.Tensor,
  y: tf.Tensor,
  options: Partial<rt.TrainOptions> = {},
): Promise<{ message: string | null; weights: Float32Array[]; iterations: number }> {
  const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: O, seed: 4 });
  const optimizer = tf.train.adam(0.01);
  const message = await rt
    .train(
      net,
      { x, y },
      {
        loss: 'mse',
        batchSize: 2,
        shuffle: false,
        progress: false,
        epochs: 2,
        ...pathOptions(path),
        ...options,
        optimizer,
      },
    )
    .then(
      () => null,
      (e: Error) => e.message,
    );
  const weights = Object.values(net.params).map((v) => v.dataSync().slice() as Float32Array);
  const { iterations } = optimizer;
  net.dispose();
  optimizer.dispose();
  return { message, weights, iterations };
}

/** `t` with the value `value` at every entry of rows `rows`. */
function withRows(t: tf.Tensor, rows: readonly number[], value: number): tf.Tensor {
  return tf.tidy(() => {
    const mask = tf.tensor1d(
      Array.from({ length: t.shape[0] }, (_, r) => (rows.includes(r) ? 1 : 0)),
      'bool',
    );
    return tf.where(
      tf.reshape(mask, [t.shape[0], ...t.shape.slice(1).map(() => 1)]).tile([1, ...t.shape.slice(1)]),
      tf.fill(t.shape, value),
      t,
    );
  });
}

describeOnBackends('train: the fused epoch', ['cpu', 'wasm'], () => {
  for (const net of CELLS) {
    for (const options of [
      {},
      { clipNorm: 0.05 },
      { clipValue: 0.02 },
      { shuffle: false },
      { target: 'lastStep' as const },
    ]) {
      it(`equals the fused step batch by batch and the readable step: ${JSON.stringify(net)} ${JSON.stringify(options)}`, async () => {
        const epoch = await trained('epoch', net, options);
        const batch = await trained('batch', net, options);
        const readable = await trained('readable', net, options);
        // 2 batches a pass: one kernel for the pass, one for each batch, none
        expect([epoch.fusedKernels, batch.fusedKernels, readable.fusedKernels]).to.deep.equal([1, 2, 0]);
        expect(maxDiff(all(epoch), all(batch))).to.equal(0);
        expect(maxDiff(all(epoch), all(readable))).to.be.below(1e-6);
        expect([epoch.iterations, batch.iterations, readable.iterations]).to.deep.equal([8, 8, 8]);
        expect(epoch.loss[2]).to.be.below(epoch.loss[0]);
      });
    }
  }

  it('refuses a non-finite loss at the batch where the batch-by-batch loop refuses it, after the steps before it', async () => {
    const { x, y } = data(3);
    for (const rows of [[0], [3], [5]]) {
      // Batches of 2 rows, in order: row 3's batch is batch 1 of epoch 0, row 5's batch 2.
      const bad = withRows(y, rows, 3e38);
      const epoch = await refusal('epoch', x, bad);
      const batch = await refusal('batch', x, bad);
      const at = Math.floor(rows[0] / 2);
      expect(epoch.message).to.match(
        new RegExp(`^train: the loss is Infinity at epoch 0, batch ${at} \\(0-based\\); training stopped`),
      );
      expect(epoch.message).to.equal(batch.message);
      expect(epoch.iterations).to.equal(at);
      expect(batch.iterations).to.equal(at);
      expect(maxDiff(epoch.weights, batch.weights)).to.equal(0);
      bad.dispose();
    }
    tf.dispose([x, y]);
  });

  it('refuses non-finite data as the batch-by-batch loop does, naming its batch, after the steps before it', async () => {
    const { x, y } = data(4);
    for (const [which, rows] of [
      ['x', [2]],
      ['y', [4]],
    ] as const) {
      const xs = which === 'x' ? withRows(x, rows, NaN) : x;
      const ys = which === 'y' ? withRows(y, rows, Infinity) : y;
      const epoch = await refusal('epoch', xs, ys);
      const batch = await refusal('batch', xs, ys);
      expect(epoch.message).to.match(new RegExp(`non-finite value .* at epoch 0, batch ${rows[0] / 2} \\(0-based\\)`));
      expect(epoch.message).to.equal(batch.message);
      expect(epoch.iterations).to.equal(rows[0] / 2);
      expect(maxDiff(epoch.weights, batch.weights)).to.equal(0);
      tf.dispose([xs, ys].filter((t) => t !== x && t !== y));
    }
    tf.dispose([x, y]);
  });

  it('checks the data again after a variable holding them is assigned', async () => {
    const { x, y } = data(7);
    const messages: (string | null)[] = [];
    for (const path of ['epoch', 'batch'] as const) {
      const xv = tf.variable(x);
      // After epoch 0, row 2 of x (batch 1 in batches of 2) becomes NaN.
      const poison = {
        onEpochEnd: (epoch: number) => void (epoch === 0 && tf.tidy(() => xv.assign(withRows(x, [2], NaN)))),
      };
      const hooks = path === 'batch' ? [poison, { onBatchEnd: () => {} }] : [poison];
      const { message, iterations } = await refusal(path, xv, y, { callbacks: hooks });
      expect(message).to.match(/non-finite value .* at epoch 1, batch 1 \(0-based\)/);
      expect(iterations).to.equal(4);
      messages.push(message);
      xv.dispose();
    }
    expect(messages[0]).to.equal(messages[1]);
    tf.dispose([x, y]);
  });

  it('takes the batch-by-batch loop where a callback could see or stop a batch', async () => {
    const { x, y } = data(5);
    const stopAtFirstBatch = { onEpochBegin: () => void (net.stopTraining = true) };
    const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: O, seed: 4 });
    const cases: [string, rt.TrainOptions['callbacks'], number][] = [
      ['no callbacks', undefined, 1],
      ['epoch hooks', { onEpochEnd: () => {} }, 1],
      ['tf.callbacks.earlyStopping', tf.callbacks.earlyStopping({ monitor: 'loss', patience: 9 }), 1],
      ['onBatchBegin', { onBatchBegin: () => {} }, 2],
      ['onYield', { onYield: () => {} }, 2],
      ['a tf.CustomCallback', new tf.CustomCallback({ onEpochEnd: () => {} }), 2],
    ];
    for (const [what, callbacks, kernels] of cases) {
      const { kernels: run } = await tf.profile(async () => {
        await rt.train(net, { x, y }, { loss: 'mse', batchSize: BATCH, progress: false, seed: 1, callbacks });
      });
      expect(run.filter((k) => k.name === 'TfjsRecurrentTrainStep').length, what).to.equal(kernels);
    }
    // stopTraining set before the pass: the loop trains one batch and stops, as always.
    const optimizer = tf.train.adam(0.01);
    const history = await rt.train(
      net,
      { x, y },
      { loss: 'mse', batchSize: BATCH, progress: false, seed: 1, epochs: 3, optimizer, callbacks: stopAtFirstBatch },
    );
    expect([history.history.loss.length, optimizer.iterations]).to.deep.equal([1, 1]);
    optimizer.dispose();
    net.dispose();
    tf.dispose([x, y]);
  });

  for (const [what, net, options] of [
    ['a stacked network', { cell: 'lstm', layers: 2 }, {}],
    ['truncated BPTT', { cell: 'lstm' }, { bptt: { truncate: 2 } }],
    ['another loss', { cell: 'gru' }, { loss: 'meanAbsoluteError' }],
  ] as [string, NetOptions, Partial<rt.TrainOptions>][]) {
    it(`takes the readable step batch by batch for ${what}`, async () => {
      const { fusedKernels, loss } = await trained('epoch', net, options);
      expect(fusedKernels).to.equal(0);
      expect(loss.every(Number.isFinite)).to.equal(true);
    });
  }

  it('equals the batch-by-batch loop with validation data held out', async () => {
    const options = { validationSplit: 0.34 };
    const epoch = await trained('epoch', { cell: 'gru' }, options);
    const batch = await trained('batch', { cell: 'gru' }, options);
    expect([epoch.fusedKernels, batch.fusedKernels]).to.deep.equal([1, 1]);
    expect(maxDiff(all(epoch), all(batch))).to.equal(0);
  });

  it('leaks no tensor', async () => {
    const { x, y } = data(6);
    const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: O, seed: 4 });
    const optimizer = tf.train.adam(0.01);
    const options = { loss: 'mse', batchSize: BATCH, progress: false, seed: 1, optimizer } as const;
    await rt.train(net, { x, y }, options); // the optimizer's moments
    const count = tf.memory().numTensors;
    const { kernels } = await tf.profile(async () => {
      await rt.train(net, { x, y }, { ...options, epochs: 3, clipNorm: 1 });
    });
    expect(kernels.filter((k) => k.name === 'TfjsRecurrentTrainStep').length).to.equal(3);
    expect(tf.memory().numTensors).to.equal(count);
    optimizer.dispose();
    net.dispose();
    tf.dispose([x, y]);
  });
});
