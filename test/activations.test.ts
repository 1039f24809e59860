import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';

// Each activation against its textbook formula, evaluated in float64 JavaScript.
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const reference: Record<string, (v: number) => number> = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
  sigmoid,
  hardSigmoid: (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5)),
  linear: (v) => v,
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)),
  softplus: (v) => Math.log1p(Math.exp(v)),
  softsign: (v) => v / (1 + Math.abs(v)),
  swish: (v) => v * sigmoid(v),
  gelu: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
};

describe('activations', () => {
  const xs = [-3, -1.5, -0.2, 0, 0.3, 1, 2.5];

  for (const [name, f] of Object.entries(reference)) {
    it(`${name} matches its formula`, () => {
      const y = tf.tidy(() => rt.getActivation(name)(tf.tensor1d(xs)));
      expectAbsClose(y, xs.map(f), 2e-6, name);
      y.dispose();
    });
  }

  it('softmax normalises the last axis', () => {
    const rows = [
      [1, 2, 3],
      [0, 0, -1],
    ];
    const y = tf.tidy(() => rt.getActivation('softmax')(tf.tensor2d(rows)));
    const expected = rows.map((r) => {
      const e = r.map(Math.exp);
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    });
    expectAbsClose(y, expected, 1e-6, 'softmax');
    y.dispose();
  });

  it('lists every documented name', () => {
    const names = rt.activationNames();
    for (const n of [...Object.keys(reference), 'softmax']) expect(names).to.include(n);
  });

  it('refuses an unknown name and lists the known ones', () => {
    expect(() => rt.getActivation('tanhh')).to.throw(/Unknown activation "tanhh": expected one of tanh, relu, sigmoid/);
    expect(() => rt.cells.elman({ inputSize: 2, units: 3, activation: 'nope' })).to.throw(/Unknown activation "nope"/);
  });

  it('registers a user function by name, usable by cells, and refuses replacing built-ins', () => {
    rt.registerActivation('cube', (x) => tf.pow(x, 3));
    const cell = rt.cells.elman({ inputSize: 1, units: 1, activation: 'cube', seed: 1 });
    expect(cell.config.activation).to.equal('cube');
    const y = tf.tidy(() => rt.getActivation('cube')(tf.tensor1d([2])));
    expect(y.dataSync()[0]).to.equal(8);
    y.dispose();
    cell.dispose();
    expect(() => rt.registerActivation('tanh', (x) => x)).to.throw(/built-in/);
    expect(() => rt.registerActivation('', (x) => x)).to.throw(/non-empty name/);
    expect(() => rt.registerActivation('bad', 3 as unknown as rt.ActivationFn)).to.throw(/expected a function/);
  });
});
