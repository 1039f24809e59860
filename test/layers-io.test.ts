// model.save and tf.loadLayersModel with our layers: in memory (tf.io.withSaveHandler /
// tf.io.fromMemory) and through file://. Predictions after loading are exactly equal.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rt from '../src/index.js';
import { seededTensor } from './helpers/property.js';

const [B, T, I, U] = [2, 5, 3, 4];

async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts as tf.io.ModelArtifacts;
}

/** Every output of `a` and `b` bit for bit equal. */
function expectSamePredictions(a: tf.LayersModel, b: tf.LayersModel, x: tf.Tensor): void {
  const ya = [a.predict(x)].flat() as tf.Tensor[];
  const yb = [b.predict(x)].flat() as tf.Tensor[];
  expect(yb.length).to.equal(ya.length);
  ya.forEach((t, i) => expect(Array.from(yb[i].dataSync())).to.deep.equal(Array.from(t.dataSync())));
  tf.dispose([...ya, ...yb]);
}

const MODELS: Record<string, () => tf.LayersModel> = {
  'elman (relu, goBackwards) + softmax output': () =>
    tf.sequential({
      layers: [
        rt.layers.elman({ units: U, activation: 'relu', goBackwards: true, returnSequences: true, inputShape: [T, I] }),
        rt.layers.output({ units: 3, activation: 'softmax' }),
      ],
    }),
  'lstm (hardSigmoid) + gru (resetAfter false) + output on the last step': () =>
    tf.sequential({
      layers: [
        rt.layers.lstm({ units: U, recurrentActivation: 'hardSigmoid', returnSequences: true, inputShape: [T, I] }),
        rt.layers.gru({ units: U, resetAfter: false }),
        rt.layers.output({ units: 2 }),
      ],
    }),
  'functional lstm with returnState': () => {
    const input = tf.input({ shape: [T, I] });
    const outputs = rt.layers.lstm({ units: U, returnSequences: true, returnState: true }).apply(input);
    return tf.model({ inputs: input, outputs: outputs as tf.SymbolicTensor[] });
  },
  'masking + bidirectional gru': () =>
    tf.sequential({
      layers: [
        tf.layers.masking({ inputShape: [T, I] }),
        tf.layers.bidirectional({ layer: rt.layers.gru({ units: U, returnSequences: true }) as unknown as tf.RNN }),
        rt.layers.output({ units: 2 }),
      ],
    }),
  'stateful elman': () =>
    tf.sequential({ layers: [rt.layers.elman({ units: U, stateful: true, batchInputShape: [B, T, I] })] }),
};

describe('layers: save and load', () => {
  const x = seededTensor([B, T, I], 1);
  after(() => x.dispose());

  for (const [name, build] of Object.entries(MODELS)) {
    it(`${name}: round-trips through memory, predictions exactly equal`, async () => {
      const model = build();
      const artifacts = await saveToMemory(model);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      expect(loaded.layers.map((l) => l.getClassName())).to.deep.equal(model.layers.map((l) => l.getClassName()));
      expect(loaded.layers.map((l) => l.getConfig())).to.deep.equal(model.layers.map((l) => l.getConfig()));
      expectSamePredictions(model, loaded, x);
      model.dispose();
      loaded.dispose();
    });
  }

  it('a trained model round-trips exactly, and saves the weights under their symbols', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.gru({ units: U, returnSequences: true, inputShape: [null, I] }),
        rt.layers.output({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const y = tf.cumsum(tf.sum(x, -1, true), 1);
    await model.fit(x, y, { epochs: 3, verbose: 0 });
    const artifacts = await saveToMemory(model);
    const names = (artifacts.weightSpecs ?? []).map((w) => w.name.split('/').pop());
    expect(names).to.deep.equal([
      'W_zx',
      'W_zh',
      'b_z',
      'W_rx',
      'W_rh',
      'b_r',
      'W_nx',
      'W_nh',
      'b_n',
      'b_nh',
      'W_yh',
      'b_y',
    ]);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expectSamePredictions(model, loaded, x);
    y.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('saves to file:// and loads back with tf.loadLayersModel (no tfjs-node)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rt-layers-'));
    try {
      const model = MODELS['masking + bidirectional gru']();
      await model.save(`file://${dir}`);
      const loaded = await tf.loadLayersModel(`file://${dir}`);
      expectSamePredictions(model, loaded, x);
      model.dispose();
      loaded.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
