import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';

const { gradientNorms, gradientCheck, manualBPTT } = rt.diagnostics;

type Loss = 'mse' | 'softmaxCrossEntropy' | 'sparseSoftmaxCrossEntropy';
type Target = 'lastStep' | 'everyStep';

const CELLS = [
  { name: 'elman (tanh)', options: { cell: 'elman' } },
  { name: 'elman (relu)', options: { cell: 'elman', activation: 'relu' } },
  { name: 'lstm', options: { cell: 'lstm' } },
  { name: 'gru (resetAfter)', options: { cell: 'gru' } },
  { name: 'gru (reset before)', options: { cell: 'gru', resetAfter: false } },
] as const;

const [B, T, I, U, O] = [3, 7, 4, 5, 3];

function makeNet(options: (typeof CELLS)[number]['options'], seed = 4): rt.RecurrentNetwork {
  return rt.network({ ...options, inputSize: I, units: U, outputSize: O, seed });
}

/** Labels for every combination of loss and target. */
function labels(loss: Loss, target: Target): tf.Tensor {
  const shape = target === 'everyStep' ? [B, T, O] : [B, O];
  return tf.tidy(() => {
    const r = tf.randomNormal(shape, 0, 1, 'float32', 11);
    if (loss === 'mse') return r;
    if (loss === 'softmaxCrossEntropy') return tf.softmax(r);
    return tf.argMax(r, -1); // class indices
  });
}

/** The loss through tfjs's own ops, for tf.variableGrads. */
function lossOf(net: rt.RecurrentNetwork, x: tf.Tensor, y: tf.Tensor, loss: Loss, target: Target): tf.Scalar {
  const p = net.predict(x);
  const seen = target === 'lastStep' ? p.slice([0, T - 1, 0], [B, 1, O]).reshape([B, O]) : p;
  if (loss === 'mse') return tf.losses.meanSquaredError(y, seen) as tf.Scalar;
  const oneHot = loss === 'softmaxCrossEntropy' ? y : tf.oneHot(y.toInt(), O);
  return tf.losses.softmaxCrossEntropy(oneHot, seen) as tf.Scalar;
}

describe('diagnostics', () => {
  let x: tf.Tensor3D;
  before(() => {
    x = tf.randomNormal([B, T, I], 0, 1, 'float32', 3) as tf.Tensor3D;
  });
  after(() => x.dispose());

  describe('manualBPTT', () => {
    for (const { name, options } of CELLS) {
      it(`equals tf.variableGrads to 1e-4: ${name}, every loss and target`, () => {
        const net = makeNet(options);
        const count = tf.memory().numTensors;
        for (const loss of ['mse', 'softmaxCrossEntropy', 'sparseSoftmaxCrossEntropy'] as const) {
          for (const target of ['lastStep', 'everyStep'] as const) {
            const y = labels(loss, target);
            const manual = manualBPTT(net, x, y, { loss, target });
            const { value, grads } = tf.variableGrads(() => lossOf(net, x, y, loss, target), Object.values(net.params));
            expect(Object.keys(manual)).to.deep.equal(Object.keys(net.params));
            for (const [symbol, v] of Object.entries(net.params)) {
              const auto = grads[v.name].dataSync();
              const mine = manual[symbol].dataSync();
              expect(mine.length).to.equal(auto.length);
              const scale = Math.max(1, ...Array.from(auto, Math.abs));
              auto.forEach((a, i) =>
                expect(mine[i], `${loss} ${target} ${symbol}[${i}]`).to.be.closeTo(a, 1e-4 * scale),
              );
            }
            tf.dispose([y, value, ...Object.values(grads), ...Object.values(manual)]);
          }
        }
        expect(tf.memory().numTensors).to.equal(count);
        net.dispose();
      });
    }

    it('refuses what it cannot derive by hand, naming it', () => {
      const y = tf.zeros([B, O]);
      const swish = makeNet({ cell: 'elman', activation: 'swish' } as never);
      expect(() => manualBPTT(swish, x, y, { loss: 'mse' })).to.throw(
        /knows the derivatives of tanh.*got activation 'swish'/,
      );
      const net = makeNet({ cell: 'elman' });
      const fn = ((a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.sub(a, b))) as never;
      expect(() => manualBPTT(net, x, y, { loss: fn })).to.throw(/a function has no hand-written derivative/);
      expect(() => manualBPTT(net, x, tf.zeros([B, 2]), { loss: 'mse' })).to.throw(
        /expected y of shape \[3, 3\], got \[3, 2\]/,
      );
      y.dispose();
      swish.dispose();
      net.dispose();
    });
  });

  describe('gradientNorms', () => {
    /** ||dL/dh_t|| by a separate forward split at t: h_t becomes the variable, the rest is replayed. */
    function splitNorm(net: rt.RecurrentNetwork, y: tf.Tensor, target: Target, t: number): number {
      return tf.tidy(() => {
        const xs = (a: number, b: number) => x.slice([0, a, 0], [B, b - a, I]);
        const { state, outputs } = rt.unroll(net.cell, xs(0, t + 1));
        const before = net.output(outputs).slice([0, 0, 0], [B, t, O]); // y_1..y_{t-1}: do not depend on h_t
        const L = (h: tf.Tensor) => {
          const parts = [before, net.output(h).reshape([B, 1, O])];
          if (t + 1 < T) {
            const rest = rt.unroll(net.cell, xs(t + 1, T), { initialState: { ...state, h: h as tf.Tensor2D } });
            parts.push(net.output(rest.outputs));
          }
          const p = tf.concat(parts, 1);
          const seen = target === 'lastStep' ? p.slice([0, T - 1, 0], [B, 1, O]).reshape([B, O]) : p;
          return tf.losses.meanSquaredError(y, seen) as tf.Scalar;
        };
        return tf.norm(tf.grad(L)(state.h)).dataSync()[0];
      });
    }

    for (const { name, options } of CELLS) {
      it(`equals an independent probe computation per step and tf.variableGrads per parameter: ${name}`, () => {
        const net = makeNet(options);
        for (const target of ['lastStep', 'everyStep'] as const) {
          const y = labels('mse', target);
          const count = tf.memory().numTensors;
          const { perStep, perParam } = gradientNorms(net, x, y, { loss: 'mse', target });
          expect(tf.memory().numTensors).to.equal(count);
          expect(perStep).to.have.length(T);
          for (let t = 0; t < T; t++) {
            const expected = splitNorm(net, y, target, t);
            expect(perStep[t], `${target} t=${t}`).to.be.closeTo(expected, 1e-5 * Math.max(1, expected));
          }
          const { value, grads } = tf.variableGrads(() => lossOf(net, x, y, 'mse', target), Object.values(net.params));
          for (const [symbol, v] of Object.entries(net.params)) {
            expect(perParam[symbol], symbol).to.be.closeTo(tf.norm(grads[v.name]).dataSync()[0], 1e-5);
          }
          tf.dispose([y, value, ...Object.values(grads)]);
        }
        net.dispose();
      });
    }

    it('shows the gradient of a tanh Elman RNN vanishing back through time, with the loss at the end', () => {
      const net = rt.network({ cell: 'elman', inputSize: I, units: U, outputSize: 1, seed: 2 });
      const long = tf.randomNormal([B, 40, I], 0, 1, 'float32', 5);
      const y = tf.ones([B, 1]);
      const { perStep } = gradientNorms(net, long, y, { loss: 'mse' });
      expect(perStep[0]).to.be.below(perStep[39] * 1e-3);
      tf.dispose([long, y]);
      net.dispose();
    });

    it('refuses a tf.LayersModel with a clear error', () => {
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      const y = tf.zeros([B, O]);
      expect(() => gradientNorms(model as never, x, y, { loss: 'mse' })).to.throw(
        /expected a RecurrentNetwork.*probes/,
      );
      y.dispose();
      model.dispose();
    });
  });

  describe('gradientCheck', () => {
    for (const { name, options } of CELLS.filter((c) => !c.name.includes('relu'))) {
      it(`finds tf.variableGrads and manualBPTT right: ${name}`, () => {
        const net = makeNet(options);
        const before = Object.values(net.params).map((p) => p.dataSync().slice());
        for (const target of ['lastStep', 'everyStep'] as const) {
          const y = labels('softmaxCrossEntropy', target);
          const count = tf.memory().numTensors;
          const auto = gradientCheck(net, x, y, { loss: 'softmaxCrossEntropy', target });
          expect(tf.memory().numTensors).to.equal(count);
          expect(
            auto.passed,
            `worst ${JSON.stringify(auto.details.sort((a, b) => b.relativeError - a.relativeError)[0])}`,
          ).to.equal(true);
          expect(auto.checked).to.equal(Object.values(net.params).reduce((n, p) => n + Math.min(p.size, 6), 0));
          const manual = manualBPTT(net, x, y, { loss: 'softmaxCrossEntropy', target });
          const byHand = gradientCheck(net, x, y, { loss: 'softmaxCrossEntropy', target, gradients: manual });
          expect(byHand.maxRelativeError).to.be.below(1e-2);
          tf.dispose([y, ...Object.values(manual)]);
        }
        // The parameters are left as they were.
        Object.values(net.params).forEach((p, i) =>
          expect(Array.from(p.dataSync())).to.deep.equal(Array.from(before[i])),
        );
        net.dispose();
      });
    }

    it('flags a deliberately wrong gradient, and says where', () => {
      const net = makeNet({ cell: 'lstm' });
      const y = labels('mse', 'everyStep');
      const manual = manualBPTT(net, x, y, { loss: 'mse' });
      const wrong = { ...manual, W_fh: tf.transpose(manual.W_fh), b_o: tf.mul(manual.b_o, 1.1) };
      const result = gradientCheck(net, x, y, { loss: 'mse', gradients: wrong, samples: 10 });
      expect(result.passed).to.equal(false);
      expect(result.maxRelativeError).to.be.above(0.05);
      const flagged = new Set(result.details.filter((d) => d.relativeError > 1e-2).map((d) => d.param));
      expect([...flagged].sort()).to.deep.equal(['W_fh', 'b_o']);
      tf.dispose([y, wrong.W_fh, wrong.b_o, ...Object.values(manual)]);
      net.dispose();
    });

    it("checks a tf.LayersModel's gradients (tfjs's simpleRNN + dense)", () => {
      const model = tf.sequential({
        layers: [
          tf.layers.simpleRNN({ units: U, inputShape: [T, I], recurrentInitializer: 'glorotUniform' }),
          tf.layers.dense({ units: O }),
        ],
      });
      const y = labels('mse', 'lastStep');
      const result = gradientCheck(model, x, y, { loss: 'mse' });
      expect(result.passed).to.equal(true);
      expect(new Set(result.details.map((d) => d.param)).size).to.equal(5); // kernel, recurrent kernel, bias; dense kernel, bias
      y.dispose();
      model.dispose();
    });
  });
});
