/**
 * The modern cells on the page's backend: the scan over the whole sequence (a kernel of ours on
 * cpu and wasm, the parallel scan in tf ops on webgl and webgpu) gives what the step loop
 * (`fast: false`) gives, outputs and gradients, with a mask and reversed; and the scan's number
 * of kernels does not grow with the sequence as the loop's does.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { maxAbsDiff, values } from './fixtures.js';

const CELLS = ['mingru', 'minlstm', 'lru'] as const;

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function modernSuite(): void {
  describe('modern cells: the scan equals the step loop', () => {
    for (const kind of CELLS) {
      it(`${kind}: outputs, final state and gradients (1e-4), masked and reversed`, async () => {
        const cell = rt.cells[kind]({ inputSize: 3, units: 4, seed: 2 });
        const x = tf.variable(tf.randomNormal([2, 9, 3], 0, 1, 'float32', 3));
        const mask = tf.tensor2d([
          [1, 1, 1, 1, 1, 1, 1, 0, 0],
          [1, 1, 1, 1, 1, 1, 1, 1, 1],
        ]);
        const run = (fast: boolean) => {
          const loss = () =>
            tf.tidy(() => {
              const { outputs, state } = rt.unroll(cell, x, { mask, reverse: true, fast });
              return tf.add(tf.sum(tf.mul(outputs, outputs)), tf.sum(state.h)) as tf.Scalar;
            });
          return tf.variableGrads(loss, [...Object.values(cell.params), x]);
        };
        const scan = run(true);
        const loop = run(false);
        expect(Math.abs((await scan.value.data())[0] - (await loop.value.data())[0])).to.be.below(1e-4);
        for (const [name, g] of Object.entries(loop.grads)) {
          const scale = Math.max(1, ...(await values(g)).map(Math.abs));
          expect(maxAbsDiff(await values(scan.grads[name]), await values(g)) / scale, name).to.be.below(1e-4);
        }
        tf.dispose([scan.value, loop.value, ...Object.values(scan.grads), ...Object.values(loop.grads), x, mask]);
        cell.dispose();
      });
    }

    it('minGRU: the scan runs in fewer kernels than the loop, and doubling T does not double them', async () => {
      const cell = rt.cells.mingru({ inputSize: 3, units: 4, seed: 4 });
      const kernels = async (time: number, fast: boolean) => {
        const x = tf.randomNormal([2, time, 3], 0, 1, 'float32', 5);
        const info = await tf.profile(() => tf.tidy(() => rt.unroll(cell, x, { fast }).outputs));
        tf.dispose([x, info.result as tf.Tensor]);
        return info.kernels.length;
      };
      const [scan32, scan64, loop32] = [await kernels(32, true), await kernels(64, true), await kernels(32, false)];
      expect(scan32).to.be.below(loop32);
      expect(scan64).to.be.below(1.5 * scan32);
      cell.dispose();
    });
  });
}
