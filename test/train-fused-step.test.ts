import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { exampleValues } from '../src/objective/index.js';
import { runAsync } from '../src/read.js';
import { checkBatchValues } from '../src/train/batch-values.js';
import { describeOnBackends } from './helpers/backends.js';
import { B, I, O, T, U, data, maxDiff, readableMse, trained, type NetOptions } from './helpers/fused-training.js';

const CELLS: NetOptions[] = [
  { cell: 'lstm' },
  { cell: 'gru' },
  { cell: 'gru', resetAfter: false },
  { cell: 'elman' },
  { cell: 'lstm', useBias: false },
  { cell: 'gru', useBias: false },
  { cell: 'gru', resetAfter: false, useBias: false },
  { cell: 'elman', useBias: false },
];

describeOnBackends('train: the fused step', ['cpu', 'wasm'], () => {
  for (const net of CELLS) {
    for (const clip of [{}, { clipNorm: 0.05 }, { clipValue: 0.02 }]) {
      it(`equals the readable step: ${JSON.stringify(net)} ${JSON.stringify(clip)}`, async () => {
        const fused = await trained('batch', net, clip);
        const readable = await trained('readable', net, clip);
        // 2 batches a pass, one step each
        expect([fused.fusedKernels, readable.fusedKernels]).to.deep.equal([2, 0]);
        expect(maxDiff([fused.loss], [readable.loss])).to.be.below(1e-5);
        expect(maxDiff(fused.weights, readable.weights)).to.be.below(1e-5);
        expect(maxDiff(fused.slots, readable.slots)).to.be.below(1e-5);
        expect(fused.loss[2]).to.be.below(fused.loss[0]);
      });
    }
  }

  it('equals the readable step with the loss at the last step only', async () => {
    const options = { target: 'lastStep' as const, clipNorm: 0.5 };
    const fused = await trained('batch', { cell: 'lstm' }, options);
    const readable = await trained('readable', { cell: 'lstm' }, options);
    expect([fused.fusedKernels, readable.fusedKernels]).to.deep.equal([2, 0]);
    expect(
      maxDiff([fused.loss, ...fused.weights, ...fused.slots], [readable.loss, ...readable.weights, ...readable.slots]),
    ).to.be.below(1e-5);
  });

  const readableCases: [string, NetOptions, Partial<rt.TrainOptions>][] = [
    ['stacked', { cell: 'lstm', layers: 2 }, {}],
    ['bidirectional', { cell: 'gru', bidirectional: true }, {}],
    ['dropout', { cell: 'lstm', layers: 2, dropout: 0.2 }, {}],
    ['truncated BPTT', { cell: 'lstm' }, { bptt: { truncate: 2 } }],
    ['another optimizer', { cell: 'lstm' }, { optimizer: 'rmsprop' }],
    ['another loss', { cell: 'lstm' }, { loss: 'meanAbsoluteError' }],
    ['a nonlinear output', { cell: 'elman', outputActivation: 'sigmoid' }, {}],
    ['a cell kind without a whole-sequence kernel', { cell: 'mingru' }, {}],
    ['activations the kernel does not compute', { cell: 'lstm', activation: 'relu' }, {}],
  ];
  for (const [what, net, options] of readableCases) {
    it(`takes the readable step for ${what}`, async () => {
      const optimizer = options.optimizer === 'rmsprop' ? { optimizer: tf.train.rmsprop(0.01) } : {};
      const { fusedKernels, loss } = await trained('batch', net, { ...options, ...optimizer });
      expect(fusedKernels).to.equal(0);
      expect(loss.every(Number.isFinite)).to.equal(true);
    });
  }

  it('refuses a non-finite loss before updating, with the readable step’s message', async () => {
    const messages: string[] = [];
    for (const loss of ['mse', readableMse] as const) {
      const { x } = data(1);
      const y = tf.fill([B, T, O], 3e38);
      const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: O, seed: 4 });
      const before = Object.values(net.params).map((v) => v.dataSync().slice());
      const optimizer = tf.train.adam(0.01);
      const error = await rt.train(net, { x, y }, { loss, optimizer, batchSize: 4, progress: false }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).to.match(/^train: the loss is Infinity at epoch 0, batch 0 \(0-based\); training stopped/);
      messages.push(error!.message);
      expect(
        maxDiff(
          Object.values(net.params).map((v) => v.dataSync()),
          before,
        ),
      ).to.equal(0);
      expect(optimizer.iterations).to.equal(0);
      net.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
    }
    expect(messages[0]).to.equal(messages[1]);
  });

  it("checks a batch's values on typed arrays with exampleValues' errors", async () => {
    const { x, y } = data(5);
    const bad = (t: tf.Tensor, value: number) =>
      tf.tidy(() => tf.concat([tf.fill([1, ...t.shape.slice(1)], value), t.slice([1])]));
    const names = { x: 'data x', y: 'data y' };
    const message = (run: () => Promise<void>) =>
      run().then(
        () => null,
        (e: Error) => e.message,
      );
    for (const [xs, ys] of [
      [bad(x, NaN), y],
      [x, bad(y, Infinity)],
      [x, y],
    ]) {
      const ours = await message(() => checkBatchValues(xs, ys, 'mse', O, names, ' at epoch 0, batch 3 (0-based)'));
      const theirs = await message(() =>
        runAsync(exampleValues('train', xs, ys, 'mse', O, names, ' at epoch 0, batch 3 (0-based)')),
      );
      expect(ours).to.equal(theirs);
      if (xs !== x || ys !== y) expect(ours).to.match(/non-finite value .* at epoch 0, batch 3/);
      tf.dispose([xs, ys].filter((t) => t !== x && t !== y));
    }
    tf.dispose([x, y]);
  });

  it('leaks no tensor', async () => {
    const { x, y } = data(2);
    const net = rt.network({ cell: 'gru', inputSize: I, units: U, outputSize: O, seed: 4 });
    const count = tf.memory().numTensors;
    await rt.train(net, { x, y }, { loss: 'mse', epochs: 2, batchSize: 4, clipNorm: 1, progress: false, seed: 1 });
    expect(tf.memory().numTensors).to.equal(count);
    net.dispose();
    tf.dispose([x, y]);
  });

  describe('checkpoints', () => {
    let root: string;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'rt-fused-step-'));
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('a run resumed from a checkpoint equals an uninterrupted one', async () => {
      const { x, y } = data(3);
      const run = async (path: string | null, epochs: number) => {
        const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: O, seed: 4 });
        const options = { loss: 'mse', batchSize: 4, progress: false, seed: 7, learningRate: 0.03 } as const;
        const checkpoint = path === null ? {} : { checkpoint: { path }, resume: true };
        const history = await rt.train(net, { x, y }, { ...options, ...checkpoint, epochs });
        const weights = Object.values(net.params).map((v) => v.dataSync().slice());
        net.dispose();
        return { weights, loss: history.history.loss };
      };
      const path = join(root, 'run');
      await run(path, 2);
      const resumed = await run(path, 4);
      const straight = await run(null, 4);
      expect(resumed.loss).to.deep.equal(straight.loss);
      expect(maxDiff(resumed.weights, straight.weights)).to.equal(0);
      tf.dispose([x, y]);
    });
  });
});
