import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { addingProblem } from '../src/data/adding.js';

/** A small regression task: y_t = running mean of the first feature (every step) or its last value. */
function task(batch: number, time: number, seed: number) {
  return addingProblem({ batch, time, seed });
}

function snapshot(net: rt.RecurrentNetwork): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(net.params).map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  return d;
}

function mseOf(net: rt.RecurrentNetwork, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => {
    const p = net.predict(x);
    const [b, t, o] = p.shape;
    return tf.losses.meanSquaredError(y, p.slice([0, t - 1, 0], [b, 1, o]).reshape([b, o])).dataSync()[0];
  });
}

describe('train: RecurrentNetwork', () => {
  let data: { x: tf.Tensor3D; y: tf.Tensor2D };
  before(() => {
    data = task(64, 8, 1);
  });
  after(() => tf.dispose([data.x, data.y]));

  for (const cell of ['elman', 'lstm', 'gru'] as const) {
    it(`lowers the loss of a ${cell} network (adam, lastStep)`, async () => {
      const net = rt.network({ cell, inputSize: 2, units: 8, outputSize: 1, seed: 2 });
      const before = mseOf(net, data.x, data.y);
      const h = await rt.train(net, data, { loss: 'mse', epochs: 8, batchSize: 16, seed: 3, learningRate: 1e-2 });
      expect(h.history.loss).to.have.length(8);
      expect(h.epoch).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(mseOf(net, data.x, data.y)).to.be.below(before * 0.5);
      expect(h.history.loss[7]).to.be.below(h.history.loss[0]);
      net.dispose();
    });
  }

  it('gives the same numbers for the same seed, and other numbers for another seed', async () => {
    const run = async (seed: number) => {
      const net = rt.network({ cell: 'gru', inputSize: 2, units: 6, outputSize: 1, seed: 5 });
      const h = await rt.train(net, data, { loss: 'mse', epochs: 3, batchSize: 8, seed, learningRate: 1e-2 });
      const w = snapshot(net);
      net.dispose();
      return { loss: h.history.loss, w };
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b.loss).to.deep.equal(a.loss);
    expect(maxDiff(a.w, b.w)).to.equal(0);
    expect(maxDiff(a.w, c.w)).to.be.above(1e-4);
  });

  it('with { truncate: k >= T } equals full BPTT exactly', async () => {
    const everyStep = { x: data.x, y: tf.tidy(() => tf.cumsum(data.x.slice([0, 0, 0], [64, 8, 1]), 1).div(4)) };
    for (const target of ['lastStep', 'everyStep'] as const) {
      const y = target === 'lastStep' ? data.y : everyStep.y;
      const results = [];
      for (const bptt of ['full', { truncate: 8 }, { truncate: 20 }] as const) {
        const net = rt.network({ cell: 'lstm', inputSize: 2, units: 5, outputSize: 1, seed: 9 });
        const h = await rt.train(
          net,
          { x: data.x, y },
          { loss: 'mse', target, epochs: 2, batchSize: 16, seed: 1, bptt },
        );
        results.push({ loss: h.history.loss, w: snapshot(net) });
        net.dispose();
      }
      expect(results[1].loss).to.deep.equal(results[0].loss);
      expect(results[2].loss).to.deep.equal(results[0].loss);
      expect(maxDiff(results[1].w, results[0].w)).to.equal(0);
      expect(maxDiff(results[2].w, results[0].w)).to.equal(0);
    }
    everyStep.y.dispose();
  });

  for (const target of ['everyStep', 'lastStep'] as const) {
    it(`with { truncate: k < T } carries the state and stops the gradient at window edges (${target})`, async () => {
      const x = data.x.slice([0, 0, 0], [16, 8, 2]);
      const y =
        target === 'everyStep' ? tf.tidy(() => tf.cumsum(x.slice([0, 0, 0], [16, 8, 1]), 1)) : data.y.slice(0, 16);
      const net = rt.network({ cell: 'gru', inputSize: 2, units: 4, outputSize: 1, seed: 4 });
      const ref = rt.network({ cell: 'gru', inputSize: 2, units: 4, outputSize: 1, seed: 4 });
      await rt.train(
        net,
        { x, y },
        {
          loss: 'mse',
          target,
          optimizer: 'sgd',
          learningRate: 0.1,
          bptt: { truncate: 3 },
          batchSize: 16,
          shuffle: false,
        },
      );

      // The same by hand: windows [0,3), [3,6), [6,8); each starts from the previous window's
      // final state as a constant; one SGD step per window that has a loss.
      const sgd = tf.train.sgd(0.1);
      let state: rt.cells.State | undefined;
      for (const [start, len] of [
        [0, 3],
        [3, 3],
        [6, 2],
      ]) {
        const xw = x.slice([0, start, 0], [16, len, 2]);
        const last = start + len === 8;
        if (target === 'lastStep' && !last) {
          const next = tf.tidy(() => ref.apply(xw, state ? { initialState: state } : {}).state);
          tf.dispose(Object.values(state ?? {}));
          state = next;
          xw.dispose();
          continue;
        }
        let next: rt.cells.State | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const out = ref.apply(xw, state ? { initialState: state } : {});
          next = { h: tf.keep(out.state.h) };
          const pred = target === 'lastStep' ? out.y.slice([0, len - 1, 0], [16, 1, 1]).reshape([16, 1]) : out.y;
          const label = target === 'lastStep' ? y : y.slice([0, start, 0], [16, len, 1]);
          return tf.losses.meanSquaredError(label, pred) as tf.Scalar;
        }, Object.values(ref.params));
        sgd.applyGradients(grads);
        tf.dispose([value, xw, ...Object.values(grads), ...Object.values(state ?? {})]);
        state = next;
      }
      tf.dispose(Object.values(state ?? {}));
      expect(maxDiff(snapshot(net), snapshot(ref))).to.be.below(1e-6);
      tf.dispose([x, y]);
      sgd.dispose();
      net.dispose();
      ref.dispose();
    });
  }

  it('clipNorm rescales the update to the global norm; clipValue clips every entry', async () => {
    const x = data.x.slice([0, 0, 0], [8, 8, 2]);
    const y = tf.mul(data.y.slice(0, 8), 10); // large errors, large gradients
    const probe = rt.network({ cell: 'elman', inputSize: 2, units: 4, outputSize: 1, seed: 6 });
    const { value, grads } = tf.variableGrads(() => {
      const p = probe.predict(x);
      return tf.losses.meanSquaredError(y, p.slice([0, 7, 0], [8, 1, 1]).reshape([8, 1])) as tf.Scalar;
    }, Object.values(probe.params));
    const g = Object.fromEntries(
      Object.entries(probe.params).map(([k, v]) => [k, grads[v.name].dataSync() as Float32Array]),
    );
    const rawNorm = Math.sqrt(Object.values(g).reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0));
    tf.dispose([value, ...Object.values(grads)]);
    probe.dispose();
    expect(rawNorm).to.be.above(1);

    const step = async (clip: { clipNorm?: number; clipValue?: number }) => {
      const net = rt.network({ cell: 'elman', inputSize: 2, units: 4, outputSize: 1, seed: 6 });
      const before = snapshot(net);
      await rt.train(
        net,
        { x, y },
        { loss: 'mse', optimizer: 'sgd', learningRate: 1, batchSize: 8, shuffle: false, ...clip },
      );
      const after = snapshot(net);
      net.dispose();
      return Object.fromEntries(Object.keys(before).map((k) => [k, before[k].map((b, i) => b - after[k][i])]));
    };
    const byNorm = await step({ clipNorm: 0.5 });
    const norm = Math.sqrt(Object.values(byNorm).reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0));
    expect(norm).to.be.closeTo(0.5, 1e-4);
    for (const k of Object.keys(g)) {
      g[k].forEach((v, i) => expect(byNorm[k][i]).to.be.closeTo((v * 0.5) / rawNorm, 1e-5));
    }
    const byValue = await step({ clipValue: 0.05 });
    for (const k of Object.keys(g)) {
      g[k].forEach((v, i) => expect(byValue[k][i]).to.be.closeTo(Math.max(-0.05, Math.min(0.05, v)), 1e-5));
    }
    expect(Object.values(g).some((a) => a.some((v) => Math.abs(v) > 0.05))).to.equal(true);
    tf.dispose([x, y]);
  });

  it('calls back with 0-based epochs and batches and fills History (with validation)', async () => {
    const val = task(20, 8, 7);
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 6, outputSize: 1, seed: 1 });
    const calls: string[] = [];
    const epochLogs: { loss: number; valLoss?: number }[] = [];
    const h = await rt.train(net, data, {
      loss: 'mse',
      epochs: 3,
      batchSize: 20, // 64 rows: batches of 20, 20, 20, 4
      seed: 1,
      validation: val,
      callbacks: {
        onBatchEnd: async (b, logs) => {
          await new Promise((r) => setTimeout(r, 0));
          calls.push(`b${b}:${logs.size}`);
        },
        onEpochEnd: (e, logs) => {
          calls.push(`e${e}`);
          epochLogs.push(logs);
        },
      },
    });
    const epoch = ['b0:20', 'b1:20', 'b2:20', 'b3:4'];
    expect(calls).to.deep.equal([...epoch, 'e0', ...epoch, 'e1', ...epoch, 'e2']);
    expect(h.epoch).to.deep.equal([0, 1, 2]);
    expect(h.resumedFromEpoch).to.equal(undefined);
    expect(epochLogs.map((l) => l.loss)).to.deep.equal(h.history.loss);
    expect(epochLogs.map((l) => l.valLoss)).to.deep.equal(h.history.valLoss);
    expect(h.history.valLoss![2]).to.be.closeTo(mseOf(net, val.x, val.y), 1e-6);
    tf.dispose([val.x, val.y]);
    net.dispose();
  });

  it('takes an async iterable of batches and a tf.data.Dataset', async () => {
    const batches = [task(16, 6, 1), task(16, 6, 2)];
    const iterable = {
      async *[Symbol.asyncIterator]() {
        yield* batches;
      },
    };
    const a = rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, seed: 3 });
    const ha = await rt.train(a, iterable, { loss: 'mse', epochs: 2, seed: 1 });
    const b = rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, seed: 3 });
    const dataset = tf.data.generator(function* () {
      for (const { x, y } of batches) yield { xs: x.clone(), ys: y.clone() };
    });
    const count = tf.memory().numTensors;
    const hb = await rt.train(b, dataset, { loss: 'mse', epochs: 2, seed: 1 });
    expect(tf.memory().numTensors).to.equal(count); // the dataset's tensors were disposed
    expect(hb.history.loss).to.deep.equal(ha.history.loss);
    expect(maxDiff(snapshot(a), snapshot(b))).to.equal(0);
    expect(batches.every((t) => !t.x.isDisposed)).to.equal(true); // an iterable's batches stay the caller's

    async function* once() {
      yield batches[0];
    }
    let err: Error | undefined;
    await rt.train(a, once(), { loss: 'mse', epochs: 2 }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/no batches in epoch 1/);
    tf.dispose(batches.flatMap((t) => [t.x, t.y]));
    a.dispose();
    b.dispose();
  });

  it('stops with an error naming epoch and batch on a non-finite input, before updating', async () => {
    const values = tf.buffer(data.x.shape, 'float32', data.x.dataSync().slice() as Float32Array);
    values.set(NaN, 37, 3, 0); // row 37: batch 2 with batchSize 16 and no shuffling
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    let seen = 0;
    const poisoned = { x: values.toTensor(), y: data.y };
    const err = await rt
      .train(net, poisoned, {
        loss: 'mse',
        epochs: 2,
        batchSize: 16,
        shuffle: false,
        callbacks: { onBatchEnd: () => void (seen += 1) },
      })
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(err?.message).to.match(/non-finite value .* at epoch 0, batch 2/);
    expect(seen).to.equal(2);
    poisoned.x.dispose();
    net.dispose();
  });

  it('stops with an error naming epoch and batch when the loss becomes non-finite, and leaves the weights', async () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const huge = tf.fill([16, 1], 1e30); // (ŷ - 1e30)^2 overflows float32
    const batches = [task(16, 6, 1), task(16, 6, 2), { x: task(16, 6, 3).x, y: huge }];
    let before: Record<string, Float32Array> = {};
    const err = await rt
      .train(
        net,
        {
          async *[Symbol.asyncIterator]() {
            yield* batches;
          },
        },
        {
          loss: 'mse',
          callbacks: { onBatchEnd: (b) => void (b === 1 && (before = snapshot(net))) },
        },
      )
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(err?.message).to.match(/the loss is Infinity at epoch 0, batch 2/);
    expect(maxDiff(before, snapshot(net))).to.equal(0);
    tf.dispose(batches.flatMap((t) => [t.x, t.y]));
    net.dispose();
  });

  it('stops before updating when the loss is finite but a gradient is not', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 1, seed: 1 });
    const before = snapshot(net);
    // sqrt(0 · ŷ) is 0, but its derivative is 0.5 / sqrt(0) · 0 = NaN.
    const loss = (_y: tf.Tensor, yHat: tf.Tensor) => tf.sum(tf.sqrt(tf.mul(yHat, 0))) as tf.Scalar;
    const err = await rt.train(net, data, { loss, batchSize: 16 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/a gradient is not finite at epoch 0, batch 0/);
    expect(maxDiff(before, snapshot(net))).to.equal(0);
    net.dispose();
  });

  it('leaks no tensors on a second call (full and truncated BPTT, validation)', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const options = { loss: 'mse' as const, epochs: 2, batchSize: 16, seed: 1, validation: data };
    await rt.train(net, data, options);
    const count = tf.memory().numTensors;
    await rt.train(net, data, options);
    await rt.train(net, data, { ...options, bptt: { truncate: 3 }, clipNorm: 1, clipValue: 1 });
    await rt.train(net, data, { ...options, progress: true });
    expect(tf.memory().numTensors).to.equal(count);
    net.dispose();
  });

  it('trains with the other losses and optimizers', async () => {
    const x = tf.randomUniform([32, 5, 3], 0, 1, 'float32', 1);
    const labels = tf.tidy(() => tf.argMax(tf.cumsum(x, 1), 2)); // [32, 5]: which feature leads so far
    const oneHot = tf.oneHot(labels, 3).toFloat();
    for (const [loss, y] of [
      ['sparseSoftmaxCrossEntropy', labels],
      ['softmaxCrossEntropy', oneHot],
    ] as const) {
      for (const optimizer of ['adam', 'rmsprop', 'adagrad', 'sgd'] as const) {
        const net = rt.network({ cell: 'gru', inputSize: 3, units: 8, outputSize: 3, seed: 2 });
        const h = await rt.train(
          net,
          { x, y },
          { loss, optimizer, learningRate: 0.05, epochs: 6, batchSize: 8, seed: 1 },
        );
        expect(h.history.loss[5], `${loss} ${optimizer}`).to.be.below(h.history.loss[0]);
        net.dispose();
      }
    }
    const custom = rt.network({ cell: 'elman', inputSize: 3, units: 4, outputSize: 3, seed: 2 });
    const absLoss = (yt: tf.Tensor, yp: tf.Tensor) => tf.mean(tf.abs(tf.sub(yt, yp))) as tf.Scalar;
    const h = await rt.train(custom, { x, y: oneHot }, { loss: absLoss, epochs: 4, learningRate: 0.05, seed: 1 });
    expect(h.history.loss[3]).to.be.below(h.history.loss[0]);
    custom.dispose();
    tf.dispose([x, labels, oneHot]);
  });

  it('refuses bad options and data with messages that name them', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const fails = async (data: unknown, options: unknown, pattern: RegExp) => {
      const err = await rt.train(net, data as rt.TrainData, options as rt.TrainOptions).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message, String(pattern)).to.match(pattern);
    };
    const wrongX = tf.zeros([4, 5, 3]);
    const wrongY = tf.zeros([64, 2]);
    await fails(data, { loss: 'mae' }, /expected loss to be one of 'mse'.*got 'mae'/);
    await fails(data, { loss: 'mse', epoch: 2 }, /unknown option 'epoch'/);
    await fails(data, { loss: 'mse', optimizer: 'adamw' }, /expected optimizer to be one of/);
    await fails(data, { loss: 'mse', bptt: { truncate: 0 } }, /bptt.truncate to be a positive integer/);
    await fails(data, { loss: 'mse', resume: true }, /resume: true needs checkpoint/);
    await fails(data, { loss: 'mse', clipNorm: -1 }, /clipNorm to be a positive number/);
    await fails(
      { x: wrongX, y: wrongY.slice(0, 4) },
      { loss: 'mse' },
      /expected x of shape \[batch, time, 2\], got \[4, 5, 3\]/,
    );
    await fails({ x: data.x, y: wrongY }, { loss: 'mse' }, /expected y of shape \[32, 1\], got \[32, 2\]/);
    await fails({ x: data.x, y: data.y }, { loss: 'mse', target: 'everyStep' }, /expected y of shape \[32, 8, 1\]/);
    await fails([1, 2], { loss: 'mse' }, /expected data to be \{ x, y \} tensors, an async iterable/);
    const iterable = { async *[Symbol.asyncIterator]() {} };
    await fails(iterable, { loss: 'mse', shuffle: true }, /batchSize and shuffle apply to \{ x, y \} tensor data/);
    await fails(
      data,
      { loss: 'mse', optimizer: tf.train.adam(), learningRate: 0.1 },
      /learningRate applies to an optimizer given by name/,
    );
    tf.dispose([wrongX, wrongY]);
    net.dispose();
  });
});

describe('train: tf.LayersModel', () => {
  let data: { x: tf.Tensor3D; y: tf.Tensor2D };
  before(() => {
    data = task(64, 8, 1);
  });
  after(() => tf.dispose([data.x, data.y]));

  function lossOf(model: tf.LayersModel): number {
    return tf.tidy(() => tf.losses.meanSquaredError(data.y, model.predict(data.x) as tf.Tensor).dataSync()[0]);
  }

  it("lowers the loss of tfjs's own simpleRNN + dense, and leaks nothing", async () => {
    const model = tf.sequential({
      layers: [
        // Seeded initialisers: the same starting point in every run.
        tf.layers.simpleRNN({
          units: 8,
          inputShape: [8, 2],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const before = lossOf(model);
    await rt.train(model, data, { loss: 'mse', epochs: 8, batchSize: 16, seed: 1, learningRate: 1e-2 });
    const count = tf.memory().numTensors;
    const h = await rt.train(model, data, { loss: 'mse', epochs: 4, batchSize: 16, seed: 1, learningRate: 1e-2 });
    expect(tf.memory().numTensors).to.equal(count);
    expect(lossOf(model)).to.be.below(before * 0.5);
    expect(h.history.loss[3]).to.be.below(h.history.loss[0]);
    model.dispose();
  });

  it('lowers the loss of a model built with rt.layers (everyStep)', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, 2] } as rt.layers.LstmLayerArgs),
        rt.layers.output({ units: 1 }),
      ],
    });
    const y = tf.tidy(() => tf.cumsum(data.x.slice([0, 0, 0], [64, 8, 1]), 1).div(4));
    const h = await rt.train(
      model,
      { x: data.x, y },
      { loss: 'mse', epochs: 6, batchSize: 16, seed: 1, learningRate: 1e-2 },
    );
    expect(h.history.loss[5]).to.be.below(h.history.loss[0] * 0.5);
    y.dispose();
    model.dispose();
  });

  it('refuses truncated BPTT and checkpoints with a clear error', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 2, inputShape: [8, 2], recurrentInitializer: 'glorotUniform' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const err1 = await rt.train(model, data, { loss: 'mse', bptt: { truncate: 2 } }).catch((e: Error) => e);
    expect((err1 as Error).message).to.match(/truncated BPTT .* needs a RecurrentNetwork; for a tf.LayersModel/);
    const err2 = await rt.train(model, data, { loss: 'mse', checkpoint: { path: '/tmp/x' } }).catch((e: Error) => e);
    expect((err2 as Error).message).to.match(
      /checkpoints hold a RecurrentNetwork; for a tf.LayersModel save it with model.save/,
    );
    model.dispose();
  });
});
