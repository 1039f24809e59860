// net.toLayersModel(): tfjs's own layers where tfjs has the same function, ours where it has not,
// with predictions equal to net.predict, and the model saving and loading.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { maxAbsDiff } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const [B, T, I, U, O] = [2, 6, 3, 5, 4];
const TOL = 1e-5;

/** Saves through memory and loads back with tf.loadLayersModel. */
async function roundTrip(model: tf.LayersModel): Promise<{ model: tf.LayersModel; classNames: string[] }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const topology = artifacts?.modelTopology as { config: { layers: { class_name: string }[] } };
  const classNames = topology.config.layers.map((l) => l.class_name);
  return { model: await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts)), classNames };
}

const CASES: {
  name: string;
  options: Omit<rt.NetworkOptions, 'inputSize' | 'units' | 'outputSize'>;
  classes: string[];
}[] = [
  { name: 'Elman (tanh)', options: { cell: 'elman' }, classes: ['SimpleRNN', 'Dense'] },
  {
    name: 'Elman (relu), softmax output',
    options: { cell: 'elman', activation: 'relu', outputActivation: 'softmax' },
    classes: ['SimpleRNN', 'Dense'],
  },
  { name: 'LSTM', options: { cell: 'lstm' }, classes: ['LSTM', 'Dense'] },
  {
    name: 'LSTM (hardSigmoid gates)',
    options: { cell: 'lstm', recurrentActivation: 'hardSigmoid' },
    classes: ['LSTM', 'Dense'],
  },
  { name: 'GRU, resetAfter false', options: { cell: 'gru', resetAfter: false }, classes: ['GRU', 'Dense'] },
  // tfjs has no resetAfter GRU and no gelu that loads: our layers stand in.
  { name: 'GRU, resetAfter true', options: { cell: 'gru', resetAfter: true }, classes: ['RecurrentGRU', 'Dense'] },
  {
    name: 'Elman (gelu), gelu output',
    options: { cell: 'elman', activation: 'gelu', outputActivation: 'gelu' },
    classes: ['RecurrentElman', 'RecurrentOutput'],
  },
];

describe('net.toLayersModel()', () => {
  const x = seededTensor([B, T, I], 3, 2);
  after(() => x.dispose());

  for (const c of CASES) {
    it(`${c.name}: ${c.classes.join(' + ')}, predictions equal net.predict, save/load exact`, async () => {
      const net = rt.network({ ...c.options, inputSize: I, units: U, outputSize: O, seed: 17 });
      // Non-zero biases, so that their layout is tested too.
      for (const [k, [symbol, p]] of Object.entries(net.params).entries()) {
        if (symbol.startsWith('b_')) p.assign(seededTensor(p.shape, 100 + k, 0.5));
      }
      const model = net.toLayersModel();
      expect(model.layers.map((l) => l.getClassName())).to.deep.equal(c.classes);
      const expected = net.predict(x);
      const actual = model.predict(x) as tf.Tensor;
      expect(actual.shape).to.deep.equal([B, T, O]);
      expect(maxAbsDiff(actual, expected)).to.be.at.most(TOL);
      // The model holds copies: training it leaves the network alone.
      expect(model.getWeights().every((w) => !Object.values(net.params).includes(w as tf.Variable))).to.equal(true);

      const loaded = await roundTrip(model);
      expect(loaded.classNames).to.deep.equal(c.classes);
      const again = loaded.model.predict(x) as tf.Tensor;
      expect(maxAbsDiff(again, actual)).to.equal(0);
      tf.dispose([expected, actual, again]);
      model.dispose();
      loaded.model.dispose();
      net.dispose();
    });
  }

  it('trains with model.fit (the loss goes down)', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: I, units: U, outputSize: 1, seed: 5 });
    const model = net.toLayersModel();
    const y = tf.cumsum(tf.sum(x, -1, true), 1).mul(0.2);
    model.compile({ optimizer: tf.train.adam(0.03), loss: 'meanSquaredError' });
    const history = await model.fit(x, y, { epochs: 25, verbose: 0 });
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).to.be.below(loss[0] * 0.5);
    y.dispose();
    model.dispose();
    net.dispose();
  });
});
