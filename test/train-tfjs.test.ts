/**
 * rt.train as model.fit users write it: tfjs's loss names (checked against model.fit itself),
 * tf.callbacks and CustomCallback objects, stopTraining, validationSplit, verbose, and the
 * history key val_loss.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { addingProblem } from '../src/data/adding.js';
import { expectError } from './helpers/refusals.js';

/** Two copies of one small LayersModel (our LSTM and a dense head), with the same weights. */
function twins(outputs: number, activation: string): [tf.LayersModel, tf.LayersModel] {
  const build = () =>
    tf.sequential({
      layers: [
        rt.layers.lstm({ units: 3, inputShape: [4, 2], seed: 1 }),
        tf.layers.dense({ units: outputs, activation: activation as 'linear', kernelInitializer: 'zeros' }),
      ],
    });
  const a = build();
  const b = build();
  b.setWeights(a.getWeights());
  const head = a.layers[1].getWeights()[0];
  const w = tf.randomNormal(head.shape, 0, 0.5, 'float32', 7);
  a.layers[1].setWeights([w, a.layers[1].getWeights()[1]]);
  b.layers[1].setWeights([w, b.layers[1].getWeights()[1]]);
  w.dispose();
  return [a, b];
}

/** The largest difference between the weights of two models. */
async function weightDiff(a: tf.LayersModel, b: tf.LayersModel): Promise<number> {
  let d = 0;
  const wa = a.getWeights();
  const wb = b.getWeights();
  for (let i = 0; i < wa.length; i++) {
    const diff = tf.max(tf.abs(tf.sub(wa[i], wb[i])));
    d = Math.max(d, (await diff.data())[0]);
    diff.dispose();
  }
  return d;
}

describe('train: tfjs loss names give model.fit’s update', () => {
  const x = tf.randomUniform([6, 4, 2], -1, 1, 'float32', 3);
  const probs = tf.softmax(tf.randomNormal([6, 3], 0, 1, 'float32', 4));
  const classes = tf.tensor1d([0, 2, 1, 1, 0, 2], 'float32');
  const real = tf.randomUniform([6, 3], 0.1, 0.9, 'float32', 5);
  after(() => tf.dispose([x, probs, classes, real]));

  const cases: [string, string, tf.Tensor][] = [
    ['meanSquaredError', 'linear', real],
    ['meanAbsoluteError', 'linear', real],
    ['meanAbsolutePercentageError', 'linear', real],
    ['binaryCrossentropy', 'sigmoid', real],
    ['cosineProximity', 'linear', real],
    ['categoricalCrossentropy', 'softmax', probs],
    ['sparseCategoricalCrossentropy', 'softmax', classes],
  ];
  for (const [loss, activation, y] of cases) {
    it(`${loss}: one step of rt.train equals one step of model.fit`, async () => {
      const [ours, theirs] = twins(3, activation);
      theirs.compile({ loss, optimizer: tf.train.sgd(0.5) });
      await theirs.fit(x, y, { epochs: 1, batchSize: 6, shuffle: false, verbose: 0 });
      const sgd = tf.train.sgd(0.5);
      const before = tf.memory().numTensors;
      const h = await rt.train(
        ours,
        { x, y },
        {
          loss: loss as rt.TrainOptions['loss'],
          optimizer: sgd,
          batchSize: 6,
          shuffle: false,
          progress: false,
        },
      );
      expect(tf.memory().numTensors).to.equal(before);
      expect(Number.isFinite(h.history.loss[0])).to.equal(true);
      expect(await weightDiff(ours, theirs)).to.be.below(1e-6);
      // The step moved the weights: the comparison is not between two untouched copies.
      const [fresh] = twins(3, activation);
      expect(await weightDiff(ours, fresh)).to.be.above(1e-4);
      [ours, theirs, fresh].forEach((m) => m.dispose());
      sgd.dispose();
    });
  }

  it('refuses an unknown loss name, listing tfjs’s names among those it takes', async () => {
    const [m] = twins(3, 'linear');
    await expectError(() => rt.train(m, { x, y: real }, { loss: 'meanSquareError' as 'mse' }), /'meanSquaredError'/);
    m.dispose();
  });
});

describe('train: callbacks as model.fit takes them', () => {
  let data: { x: tf.Tensor3D; y: tf.Tensor2D };
  before(() => {
    data = addingProblem({ batch: 32, time: 6, seed: 1 });
  });
  after(() => tf.dispose([data.x, data.y]));
  const net = () => rt.network({ cell: 'gru', inputSize: 2, units: 4, outputSize: 1, seed: 2 });
  const base = { loss: 'mse' as const, batchSize: 8, seed: 3, progress: false };

  it('tf.callbacks.earlyStopping stops a network on val_loss (validationSplit), as it stops model.fit', async () => {
    const n = net();
    // minDelta so large that no epoch counts as an improvement: patience 1 stops after epoch 1.
    const stop = tf.callbacks.earlyStopping({ monitor: 'val_loss', minDelta: 1e9, patience: 1 });
    const h = await rt.train(n, data, { ...base, epochs: 10, validationSplit: 0.25, callbacks: stop });
    expect(h.history.loss).to.have.length(2);
    expect(h.history.val_loss).to.have.length(2);
    expect(h.history.valLoss).to.deep.equal(h.history.val_loss);
    n.dispose();
  });

  it('earlyStopping stops a tf.LayersModel too, and model.stopTraining is reset at the start', async () => {
    const [m] = twins(1, 'linear');
    m.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
    m.stopTraining = true;
    const stop = tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 1e9, patience: 1 });
    const y = tf.randomUniform([32, 1], 0, 1, 'float32', 9);
    const x = tf.randomUniform([32, 4, 2], 0, 1, 'float32', 8);
    const h = await rt.train(m, { x, y }, { ...base, epochs: 6, callbacks: [stop] });
    expect(h.history.loss).to.have.length(2);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('calls every hook of a CustomCallback and of a hooks object in tfjs’s order, with tfjs’s log keys', async () => {
    const events: string[] = [];
    const custom = new tf.CustomCallback({
      onTrainBegin: async () => void events.push('trainBegin'),
      onEpochBegin: async (e) => void events.push(`epochBegin ${e}`),
      onBatchBegin: async (b) => void events.push(`batchBegin ${b}`),
      onBatchEnd: async (b, logs) => void events.push(`batchEnd ${b} ${typeof logs?.loss}`),
      onEpochEnd: async (e, logs) =>
        void events.push(
          `epochEnd ${e} ${Object.keys(logs ?? {})
            .sort()
            .join(',')}`,
        ),
      onTrainEnd: async () => void events.push('trainEnd'),
    });
    const yields: number[][] = [];
    const hooks = { onYield: (epoch: number, batch: number) => void yields.push([epoch, batch]) };
    const small = { x: data.x.slice(0, 16), y: data.y.slice(0, 16) };
    const validation = { x: data.x.slice(16, 8), y: data.y.slice(16, 8) };
    const n = net();
    await rt.train(n, small, { ...base, epochs: 2, validation, callbacks: [custom, hooks] });
    expect(events).to.deep.equal([
      'trainBegin',
      'epochBegin 0',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 0 loss,valLoss,val_loss',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 1 loss,valLoss,val_loss',
      'trainEnd',
    ]);
    expect(yields).to.deep.equal([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    tf.dispose([small.x, small.y, validation.x, validation.y]);
    n.dispose();
  });

  it('a stop writes the checkpoint of the epoch it stops at (checkpoint every 5 epochs, stopped after 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-stop-'));
    const n = net();
    const stop = tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 1e9, patience: 1 });
    const path = join(dir, 'ck');
    await rt.train(n, data, { ...base, epochs: 10, checkpoint: { path, every: 5 }, callbacks: stop });
    const ck = await rt.loadCheckpoint(path);
    expect(ck.epochsDone).to.equal(2);
    ck.network.dispose();
    n.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('net.stopTraining set in onBatchEnd ends training after that batch', async () => {
    const n = net();
    const h = await rt.train(n, data, {
      ...base,
      epochs: 5,
      callbacks: {
        onBatchEnd: (batch) => {
          if (batch === 1) n.stopTraining = true;
        },
      },
    });
    expect(h.history.loss).to.have.length(1);
    n.dispose();
  });

  it('validationSplit holds out the last rows: the same run as validation given those rows', async () => {
    const run = async (options: Partial<rt.TrainOptions>, d: { x: tf.Tensor; y: tf.Tensor }) => {
      const n = net();
      const before = tf.memory().numTensors;
      const h = await rt.train(n, d, { ...base, epochs: 2, ...options });
      expect(tf.memory().numTensors).to.equal(before);
      n.dispose();
      return h.history;
    };
    const split = await run({ validationSplit: 0.25 }, data);
    const head = { x: data.x.slice(0, 24), y: data.y.slice(0, 24) };
    const tail = { x: data.x.slice(24, 8), y: data.y.slice(24, 8) };
    const given = await run({ validation: tail }, head);
    expect(split.loss).to.deep.equal(given.loss);
    expect(split.val_loss).to.deep.equal(given.val_loss);
    tf.dispose([head.x, head.y, tail.x, tail.y]);
  });

  it('refuses what it cannot honour: validationSplit with validation, out of range, on an iterable; verbose against progress', async () => {
    const n = net();
    const it = { async *[Symbol.asyncIterator]() {} };
    await expectError(
      () => rt.train(n, data, { ...base, validationSplit: 0.2, validation: data }),
      /validation data or validationSplit, not both/,
    );
    await expectError(() => rt.train(n, data, { ...base, validationSplit: 1 }), /between 0 and 1/);
    await expectError(() => rt.train(n, data, { ...base, validationSplit: 0.99 }), /leaves no rows to train on/);
    await expectError(
      () => rt.train(n, it, { loss: 'mse', validationSplit: 0.5 }),
      /iterable or a dataset needs its own validation/,
    );
    await expectError(() => rt.train(n, data, { ...base, verbose: 1 }), /progress: false and verbose: 1 disagree/);
    await expectError(() => rt.train(n, data, { loss: 'mse', verbose: 3 as 1 }), /verbose to be 0, 1 or 2, got 3/);
    await expectError(
      () => rt.train(n, data, { loss: 'mse', callbacks: { onEpochEnd: 5 as unknown as () => void } }),
      /callbacks.onEpochEnd to be a function/,
    );
    await expectError(
      () => rt.train(n, data, { loss: 'mse', callbacks: [{ onEpochFinish: () => {} } as object] }),
      /onEpochFinish/,
    );
    const h = await rt.train(n, data, { loss: 'mse', verbose: 0, epochs: 1 });
    expect(h.history.loss).to.have.length(1);
    n.dispose();
  });
});
