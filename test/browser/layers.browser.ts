/**
 * The tf.layers face on the page's backend: the package's layers in `tf.sequential` give the same
 * numbers as the network built from the same cell, train with `model.fit`, and save and load
 * through tfjs's own serialization.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { maxAbsDiff, SIZES, values } from './fixtures.js';

const { batch, time, inputSize, units, outputSize } = SIZES;

const LAYERS = { elman: rt.layers.elman, lstm: rt.layers.lstm, gru: rt.layers.gru };

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function layersSuite(): void {
  describe('tf.layers', () => {
    for (const kind of ['elman', 'lstm', 'gru'] as const) {
      it(`${kind}: fit lowers the loss; save/load keeps the predictions`, async () => {
        const model = tf.sequential({
          layers: [
            LAYERS[kind]({ units, returnSequences: true, inputShape: [null, inputSize], seed: 4 }),
            rt.layers.output({ units: outputSize }),
          ],
        });
        model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
        const x = tf.randomNormal([batch, time, inputSize], 0, 1, 'float32', 2);
        const y = tf.randomNormal([batch, time, outputSize], 0, 0.5, 'float32', 3);
        const history = await model.fit(x, y, { epochs: 4, batchSize: batch, verbose: 0 });
        const losses = history.history.loss as number[];
        expect(losses[losses.length - 1]).to.be.below(losses[0]);

        let saved: tf.io.ModelArtifacts | undefined;
        await model.save(
          tf.io.withSaveHandler(async (artifacts) => {
            saved = artifacts;
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          }),
        );
        expect(JSON.stringify(saved?.modelTopology)).to.contain(
          `"Recurrent${kind === 'elman' ? 'Elman' : kind.toUpperCase()}"`,
        );
        const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
        const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
        expect(a.shape).to.deep.equal([batch, time, outputSize]);
        expect(maxAbsDiff(await values(a), await values(b))).to.equal(0);
        tf.dispose([a, b, x, y]);
        model.dispose();
        loaded.dispose();
      });
    }
  });
}
