/**
 * The network on the page's backend: `predict` is the output function applied to the unrolled
 * cell, and a network saved with `tf.io.withSaveHandler` loads back (`tf.io.fromMemory`) with the
 * same predictions.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { maxAbsDiff, SIZES, values } from './fixtures.js';

const { batch, time, inputSize, units, outputSize } = SIZES;

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function networkSuite(): void {
  describe('network', () => {
    for (const cell of ['elman', 'lstm', 'gru'] as const) {
      describe(cell, () => {
        let net: rt.RecurrentNetwork;
        let x: tf.Tensor3D;
        before(() => {
          net = rt.network({ cell, inputSize, units, outputSize, outputActivation: 'sigmoid', seed: 11 });
          x = tf.randomNormal([batch, time, inputSize], 0, 1, 'float32', 5);
        });
        after(() => {
          net.dispose();
          x.dispose();
        });

        it('predict gives y_t = g(W_yh h_t + b_y) at every step', async () => {
          const y = net.predict(x);
          expect(y.shape).to.deep.equal([batch, time, outputSize]);
          const expected = tf.tidy(() => {
            const h = rt.unroll(net.cell, x).outputs;
            const { W_yh, b_y } = net.outputParams;
            return tf
              .sigmoid(tf.add(tf.matMul(h.reshape([-1, units]), W_yh, false, true), b_y))
              .reshape([batch, time, outputSize]);
          });
          expect(maxAbsDiff(await values(y), await values(expected))).to.be.below(1e-6);
          tf.dispose([y, expected]);
        });

        it('saves (withSaveHandler) and loads (fromMemory) with the same predictions', async () => {
          let saved: tf.io.ModelArtifacts | undefined;
          await net.save(
            tf.io.withSaveHandler(async (artifacts) => {
              saved = artifacts;
              return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
            }),
          );
          expect(saved?.weightData, 'saved weights').to.not.equal(undefined);
          const loaded = await rt.loadNetwork(tf.io.fromMemory(saved!));
          expect(Object.keys(loaded.params).sort()).to.deep.equal(Object.keys(net.params).sort());
          const [a, b] = [net.predict(x), loaded.predict(x)];
          expect(maxAbsDiff(await values(a), await values(b))).to.equal(0);
          tf.dispose([a, b]);
          loaded.dispose();
        });
      });
    }
  });
}
