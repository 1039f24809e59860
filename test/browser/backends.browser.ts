/**
 * Backends in the page: the suite really runs on the backend it asked for, and `compare` gives
 * agreeing rows for the page's backend and the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { SIZES } from './fixtures.js';
import { requestedBackend } from './requested.js';

const { batch, time, inputSize, units, outputSize } = SIZES;

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function backendsSuite(): void {
  describe('backends', () => {
    it('tf.getBackend() is the backend asked for, and available() lists it', () => {
      expect(tf.getBackend()).to.equal(requestedBackend());
      expect(rt.backends.available()).to.include(requestedBackend());
    });

    it('compare: same weights on cpu and here agree within 1e-4; the previous backend is restored', async () => {
      const here = requestedBackend();
      const model = rt.network({ cell: 'lstm', inputSize, units, outputSize, seed: 9 });
      const x = tf.randomNormal([batch, time, inputSize], 0, 1, 'float32', 9);
      const rows = await rt.backends.compare({ model, x, backends: ['cpu', here], steps: 1 });
      expect(rows.map((r) => r.backend)).to.deep.equal(['cpu', here]);
      expect(rows[0].maxAbsDiffVsCpu).to.equal(0);
      expect(rows[1].maxAbsDiffVsCpu).to.be.below(1e-4);
      for (const r of rows) {
        expect(r.forwardMs).to.be.above(0);
        expect(r.trainStepMs).to.be.above(0);
        expect(r.kernelsPerStep).to.be.above(1);
      }
      if (here === 'webgl' || here === 'webgpu') expect(rows[1].renderer).to.be.a('string').and.not.equal('');
      else expect(rows[1].renderer).to.equal(undefined);
      expect(tf.getBackend()).to.equal(here);
      tf.dispose(x);
      model.dispose();
    });

    it('use() of a backend this page does not have throws and names the available ones', async () => {
      let error: Error | undefined;
      await rt.backends.use('tensorflow').catch((e: Error) => (error = e));
      expect(error?.message).to.match(/tensorflow.*Node.*available here: .*cpu/);
      expect(tf.getBackend()).to.equal(requestedBackend());
    });
  });
}
