import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { ADDING_BASELINE_MSE, addingBatches, addingProblem } from '../src/data/adding.js';

describe('the adding problem, short (T = 20, 200 steps)', () => {
  const T = 20;
  let test: { x: tf.Tensor3D; y: tf.Tensor2D };
  before(() => {
    test = addingProblem({ batch: 500, time: T, seed: 99 });
  });
  after(() => tf.dispose([test.x, test.y]));

  it('generates sequences with two markers, one per half, and their sum as target', () => {
    const { x, y } = addingProblem({ batch: 200, time: 9, seed: 3 });
    const xs = x.arraySync();
    const ys = y.arraySync();
    xs.forEach((seq, b) => {
      const marked = seq.flatMap(([, m], t) => (m === 1 ? [t] : []));
      expect(marked).to.have.length(2);
      expect(marked[0]).to.be.below(4);
      expect(marked[1]).to.be.at.least(4);
      expect(seq.every(([, m]) => m === 0 || m === 1)).to.equal(true);
      expect(ys[b][0]).to.be.closeTo(seq[marked[0]][0] + seq[marked[1]][0], 1e-6);
    });
    const mse = tf.tidy(() => tf.losses.meanSquaredError(y, tf.onesLike(y)).dataSync()[0]);
    expect(mse).to.be.closeTo(ADDING_BASELINE_MSE, 0.04); // predicting 1 gives the baseline
    const again = addingProblem({ batch: 200, time: 9, seed: 3 });
    expect(again.x.arraySync()).to.deep.equal(xs);
    tf.dispose([x, y, again.x, again.y]);
    expect(() => addingProblem({ batch: 2, time: 1, seed: 1 })).to.throw(/expected time >= 2, got 1/);
  });

  async function testMse(cell: 'elman' | 'lstm' | 'gru'): Promise<number> {
    const net = rt.network({ cell, inputSize: 2, units: 16, outputSize: 1, seed: 1 });
    await rt.train(net, addingBatches({ batch: 32, time: T, seed: 1, batches: 200 }), {
      loss: 'mse',
      target: 'lastStep',
      learningRate: 0.02,
      clipNorm: 1,
      seed: 1,
    });
    const mse = tf.tidy(() => {
      const p = net.predict(test.x);
      return tf.losses.meanSquaredError(test.y, p.slice([0, T - 1, 0], [500, 1, 1]).reshape([500, 1])).dataSync()[0];
    });
    net.dispose();
    return mse;
  }

  it('LSTM and GRU learn it; the tanh Elman RNN stays near the baseline', async () => {
    const count = tf.memory().numTensors;
    const elman = await testMse('elman');
    const lstm = await testMse('lstm');
    const gru = await testMse('gru');
    expect(tf.memory().numTensors).to.equal(count);
    expect(lstm).to.be.below(0.03);
    expect(gru).to.be.below(0.03);
    expect(elman).to.be.above(0.1);
    expect(elman).to.be.above(10 * Math.max(lstm, gru));
  });
});
