// fromKeras / toKeras: Keras layout, round trips, Keras 3's reset_after GRU bias, activation names,
// and the errors for what cannot be read.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { fromTfjsActivation, toTfjsActivation } from '../src/interop/keras.js';
import { maxAbsDiff } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const [B, I, U] = [2, 3, 4];

/** A tfjs layer built on `[*, *, I]` (applied once to a symbolic input). */
function built<L extends tf.layers.Layer>(layer: L): L {
  layer.apply(tf.input({ shape: [null, I] }));
  return layer;
}

const fast = { units: U, recurrentInitializer: 'glorotUniform' as const };

describe('interop: toKeras', () => {
  it('lays the LSTM out as Keras does: kernel [I, 4U] = [W_ix^T, W_fx^T, W_gx^T, W_ox^T], gates i, f, c, o', () => {
    const cell = rt.cells.lstm({ inputSize: I, units: U, seed: 1 });
    const [kernel, recurrentKernel, bias] = rt.interop.toKeras(cell);
    expect(kernel.shape).to.deep.equal([I, 4 * U]);
    expect(recurrentKernel.shape).to.deep.equal([U, 4 * U]);
    expect(bias.shape).to.deep.equal([4 * U]);
    tf.tidy(() =>
      ['i', 'f', 'g', 'o'].forEach((g, k) => {
        const block = (t: tf.Tensor) => tf.slice(t, [0, k * U], [-1, U]);
        expect(maxAbsDiff(block(kernel), tf.transpose(cell.params[`W_${g}x`]))).to.equal(0);
        expect(maxAbsDiff(block(recurrentKernel), tf.transpose(cell.params[`W_${g}h`]))).to.equal(0);
        expect(maxAbsDiff(tf.slice(bias, k * U, U), cell.params[`b_${g}`])).to.equal(0);
      }),
    );
    tf.dispose([kernel, recurrentKernel, bias]);
    cell.dispose();
  });

  it('gives a resetAfter GRU the Keras 3 bias [2, 3U], and the Keras 3 reset_after equations with it give our step', () => {
    const cell = rt.cells.gru({ inputSize: I, units: U, seed: 3 });
    for (const [k, symbol] of ['b_z', 'b_r', 'b_n', 'b_nh'].entries()) {
      cell.params[symbol].assign(seededTensor([U], 50 + k, 0.5));
    }
    const [kernel, recurrentKernel, bias] = rt.interop.toKeras(cell);
    expect(bias.shape).to.deep.equal([2, 3 * U]);
    const x = seededTensor([B, I], 5) as tf.Tensor2D;
    const h = seededTensor([B, U], 6) as tf.Tensor2D;
    // keras.layers.GRU(reset_after=True), one step, written out from Keras 3's GRUCell.call.
    const [inputBias, recurrentBias] = tf.unstack(bias);
    const [xz, xr, xh] = tf.split(tf.add(tf.matMul(x, kernel), inputBias), 3, 1);
    const [hz, hr, hh] = tf.split(tf.add(tf.matMul(h, recurrentKernel), recurrentBias), 3, 1);
    const z = tf.sigmoid(tf.add(xz, hz));
    const r = tf.sigmoid(tf.add(xr, hr));
    const candidate = tf.tanh(tf.add(xh, tf.mul(r, hh)));
    const keras = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
    expect(maxAbsDiff(keras, cell.step(x, { h }).h)).to.be.at.most(1e-6);
    cell.dispose();
  });

  it('refuses what is not a cell', () => {
    expect(() => rt.interop.toKeras({} as never)).to.throw(/toKeras: expected a Cell, got an object/);
  });
});

describe('interop: fromKeras', () => {
  it('round-trips toKeras through a tfjs layer exactly (every kind)', () => {
    const cells = [
      rt.cells.elman({ inputSize: I, units: U, seed: 1, activation: 'relu' }),
      rt.cells.lstm({ inputSize: I, units: U, seed: 2, recurrentActivation: 'hardSigmoid' }),
      rt.cells.gru({ inputSize: I, units: U, seed: 3, resetAfter: false }),
    ];
    const layers = [
      built(tf.layers.simpleRNN({ ...fast, activation: 'relu' })),
      built(tf.layers.lstm({ ...fast, recurrentActivation: 'hardSigmoid' })),
      built(tf.layers.gru({ ...fast, recurrentActivation: 'sigmoid' })),
    ];
    cells.forEach((cell, k) => {
      const weights = rt.interop.toKeras(cell);
      layers[k].setWeights(weights);
      const back = rt.interop.fromKeras(layers[k]);
      expect(back.config).to.deep.equal(cell.config);
      expect(Object.keys(back.params)).to.deep.equal(Object.keys(cell.params));
      for (const [symbol, p] of Object.entries(cell.params)) {
        expect(maxAbsDiff(back.params[symbol], p), symbol).to.equal(0);
      }
      tf.dispose(weights);
      back.dispose();
      cell.dispose();
      layers[k].dispose();
    });
  });

  it("carries tfjs's defaults: tanh, hardSigmoid gates, resetAfter false", () => {
    const cell = rt.interop.fromKeras(built(tf.layers.gru(fast)));
    expect(cell.config).to.deep.equal({
      kind: 'gru',
      inputSize: I,
      units: U,
      activation: 'tanh',
      recurrentActivation: 'hardSigmoid',
      resetAfter: false,
    });
    cell.dispose();
  });

  it('reads a layer without bias as zero biases, with the same outputs', () => {
    const layer = built(tf.layers.lstm({ ...fast, useBias: false, returnSequences: true }));
    const cell = rt.interop.fromKeras(layer);
    for (const g of ['i', 'f', 'g', 'o']) expect(cell.params[`b_${g}`].arraySync()).to.deep.equal([0, 0, 0, 0]);
    const x = seededTensor([B, 5, I], 9);
    expect(maxAbsDiff(rt.unroll(cell, x).outputs, layer.apply(x) as tf.Tensor)).to.be.at.most(1e-5);
    cell.dispose();
  });

  it('refuses non-layers, other layers, unbuilt layers and activations we do not have', () => {
    expect(() => rt.interop.fromKeras({} as never)).to.throw(
      /expected a tfjs SimpleRNN, LSTM or GRU layer, got an object/,
    );
    expect(() => rt.interop.fromKeras(built(tf.layers.dense({ units: 2 })))).to.throw(/got a Dense layer/);
    expect(() => rt.interop.fromKeras(tf.layers.lstm(fast))).to.throw(/not built yet/);
    expect(() => rt.interop.fromKeras(built(tf.layers.simpleRNN({ ...fast, activation: 'relu6' })))).to.throw(
      /tfjs activation 'relu6' has no equal here; expected one of tanh, relu/,
    );
    // tfjs's gelu is the exact erf form; ours is the tanh approximation (tfjs's gelu_new).
    expect(() => rt.interop.fromKeras(built(tf.layers.simpleRNN({ ...fast, activation: 'gelu' })))).to.throw(
      /tfjs activation 'gelu' has no equal/,
    );
    const geluNew = rt.interop.fromKeras(built(tf.layers.simpleRNN({ ...fast, activation: 'gelu_new' })));
    expect(geluNew.config.activation).to.equal('gelu');
    geluNew.dispose();
  });
});

describe('interop: activation names shared with tfjs', () => {
  const z = tf.linspace(-6, 6, 97).reshape([1, 97]);
  after(() => z.dispose());

  for (const name of rt.activationNames()) {
    const tfjsName = toTfjsActivation(name);
    if (tfjsName === null) continue;
    it(`'${name}' computes what tfjs's '${tfjsName}' computes`, () => {
      const theirs = tf.layers.activation({ activation: tfjsName as 'linear' }).apply(z) as tf.Tensor;
      expect(maxAbsDiff(rt.getActivation(name)(z), theirs)).to.be.at.most(1e-6);
      expect(fromTfjsActivation('test', tfjsName)).to.equal(name);
    });
  }

  it("reads tfjs's 'gelu_new' as our 'gelu' (same numbers) and never writes it", () => {
    const theirs = tf.layers.activation({ activation: 'gelu_new' }).apply(z) as tf.Tensor;
    expect(maxAbsDiff(rt.getActivation('gelu')(z), theirs)).to.be.at.most(1e-6);
    expect(toTfjsActivation('gelu')).to.equal(null);
  });
});
