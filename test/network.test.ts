import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';

describe('network', () => {
  it('y_t = g(W_yh h_t + b_y) at every step, on top of unroll', () => {
    const net = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 2, seed: 11 });
    expect(Object.keys(net.params)).to.include.members(['W_zx', 'W_nh', 'b_nh', 'W_yh', 'b_y']);
    expect(net.params.W_yh.shape).to.deep.equal([2, 4]);
    tf.tidy(() => {
      const x = tf.randomNormal([5, 6, 3], 0, 1, 'float32', 1);
      const { y, state } = net.apply(x);
      expect(y.shape).to.deep.equal([5, 6, 2]);
      const { outputs } = rt.unroll(net.cell, x);
      const manual = tf.add(tf.einsum('btu,ou->bto', outputs, net.params.W_yh), net.params.b_y);
      expectAbsClose(y, manual, 1e-6, 'y');
      expectAbsClose(state.h, outputs.slice([0, 5, 0], [5, 1, 4]).reshape([5, 4]), 0, 'last h');
      expectAbsClose(net.predict(x), y, 0, 'predict');
    });
    net.dispose();
  });

  it('softmax output sums to one per step', () => {
    const net = rt.network({
      cell: 'lstm',
      inputSize: 2,
      units: 3,
      outputSize: 4,
      outputActivation: 'softmax',
      seed: 2,
    });
    const sums = tf.tidy(() => tf.sum(net.predict(tf.randomUniform([2, 3, 2], 0, 1, 'float32', 3)), -1));
    expectAbsClose(
      sums,
      [
        [1, 1, 1],
        [1, 1, 1],
      ],
      1e-6,
      'sums',
    );
    sums.dispose();
    net.dispose();
  });

  it('accepts a cell object and carries the initial state', () => {
    const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 4 });
    const net = rt.network({ cell, outputSize: 1, seed: 4 });
    expect(net.cell).to.equal(cell);
    tf.tidy(() => {
      const x = tf.ones([1, 4, 2]);
      const first = net.apply(x.slice([0, 0, 0], [1, 2, 2]));
      const second = net.apply(x.slice([0, 2, 0], [1, 2, 2]), { initialState: first.state });
      const whole = net.apply(x);
      expectAbsClose(tf.concat([first.y, second.y], 1), whole.y, 1e-6, 'split vs whole');
    });
    net.dispose();
  });

  it('predict in a loop leaks no tensors', () => {
    const net = rt.network({ cell: 'lstm', inputSize: 2, units: 3, outputSize: 1, seed: 4 });
    const x = tf.ones([2, 5, 2]);
    net.predict(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) net.predict(x).dispose();
    expect(tf.memory().numTensors).to.equal(before);
    x.dispose();
    net.dispose();
  });

  it('refuses bad options and inputs clearly', () => {
    expect(() => rt.network({ cell: 'lstn' as never, inputSize: 2, units: 3, outputSize: 1 })).to.throw(
      /expected cell to be one of 'elman', 'lstm', 'gru', .*got "lstn"/,
    );
    expect(() => rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 0 })).to.throw(
      /expected outputSize to be a positive integer, got 0/,
    );
    expect(() =>
      rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 1, outputActivation: 'sofmax' }),
    ).to.throw(/Unknown activation "sofmax"/);
    const net = rt.network({ cell: 'elman', inputSize: 3, units: 2, outputSize: 1, seed: 1 });
    expect(() => net.predict(tf.zeros([2, 5, 7]))).to.throw(/expected x of shape \[batch, time, 3\], got \[2, 5, 7\]/);
    expect(() => net.predict(tf.zeros([5, 3]))).to.throw(/expected x of shape \[batch, time, 3\], got \[5, 3\]/);
    expect(() => net.predict([[1, 2, 3]] as never)).to.throw(/got an array \(wrap it with tf.tensor\)/);
    net.dispose();
  });
});

describe('network save and load', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rt-net-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const [cell, extra] of [
    ['elman', { activation: 'relu' }],
    ['lstm', {}],
    ['gru', { resetAfter: false }],
    ['gru', {}],
  ] as const) {
    it(`file:// round trip is exact (${cell} ${JSON.stringify(extra)})`, async () => {
      const net = rt.network({
        cell,
        inputSize: 3,
        units: 5,
        outputSize: 2,
        seed: 8,
        outputActivation: 'sigmoid',
        ...extra,
      });
      await net.save(`file://${dir}`);
      expect(readdirSync(dir).sort()).to.deep.equal(['model.json', 'weights.bin']);
      const back = await rt.loadNetwork(`file://${dir}`);
      expect(back.config).to.deep.equal(net.config);
      for (const [k, v] of Object.entries(net.params)) {
        expect(Array.from(back.params[k].dataSync()), k).to.deep.equal(Array.from(v.dataSync()));
      }
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 5);
      expectAbsClose(back.predict(x), net.predict(x), 0, 'predictions');
      tf.dispose(x);
      net.dispose();
      back.dispose();
    });
  }

  it('also opens file://DIR/model.json (the form tfjs-node uses)', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 1, seed: 6 });
    await net.save(`file://${dir}`);
    const back = await rt.loadNetwork(`file://${dir}/model.json`);
    expect(Array.from(back.params.W_hh.dataSync())).to.deep.equal(Array.from(net.params.W_hh.dataSync()));
    net.dispose();
    back.dispose();
  });

  it('round trips through any tf.io handler (withSaveHandler / fromMemory)', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 2, units: 3, outputSize: 1, seed: 3 });
    let saved: tf.io.ModelArtifacts | undefined;
    await net.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const back = await rt.loadNetwork(tf.io.fromMemory(saved!));
    const x = tf.ones([1, 3, 2]);
    expectAbsClose(back.predict(x), net.predict(x), 0, 'predictions');
    x.dispose();
    net.dispose();
    back.dispose();
  });

  it('says what to do with a URL no handler serves', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 1, units: 1, outputSize: 1, seed: 1 });
    let error: Error | undefined;
    await net.save('ftp://example/model').catch((e: Error) => (error = e));
    expect(error?.message).to.match(/no tf.io handler for "ftp:\/\/example\/model"; use file:\/\/DIR in Node/);
    net.dispose();
  });
});
