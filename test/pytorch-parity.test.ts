// Our cells + unroll against PyTorch float64 references (fixtures/pytorch): per-step outputs,
// final states, and the gradients of the fixture's loss for every parameter, x, h0 (and c0),
// measured by rt.interop.compareWithPyTorch (which `tfjs-recurrent parity` prints too).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { FIXTURE_NAMES, loadFixture, torchKind } from './helpers/fixtures.js';

describe('parity with PyTorch (float64 fixtures)', () => {
  for (const name of FIXTURE_NAMES) {
    describe(name, () => {
      const f = loadFixture(name);

      it('matches the loss, outputs and final states (1e-5), and every gradient (1e-4 relative)', () => {
        const before = tf.memory().numTensors;
        const d = rt.interop.compareWithPyTorch(f);
        expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
        expect(d.loss, 'loss').to.be.at.most(1e-4 * Math.max(1, Math.abs(f.loss_value)));
        for (const key of ['outputs', 'h_T', 'c_T'] as const) {
          if (key in d) expect(d[key], key).to.be.at.most(1e-5);
        }
        expect(d.c_T !== undefined, 'c_T compared').to.equal(f.c_T !== undefined);
        expect(Object.keys(d.grads).sort()).to.deep.equal(Object.keys(f.grads).sort());
        for (const [param, r] of Object.entries(d.grads)) expect(r, `dL/d${param}`).to.be.at.most(1e-4);
        for (const key of ['grad_x', 'grad_h0', 'grad_c0'] as const) {
          if (key in d) expect(d[key], key).to.be.at.most(1e-4);
        }
        expect(d.grad_c0 !== undefined, 'grad_c0 compared').to.equal(f.grad_c0 !== undefined);
      });

      it('the comparison notices a wrong reference', () => {
        const wrong = structuredClone(f);
        wrong.outputs[1][3][0] += 1e-3;
        (wrong.grads.weight_hh_l0 as number[][])[0][1] += 0.5;
        wrong.grad_h0[0][0] += 1;
        const d = rt.interop.compareWithPyTorch(wrong);
        expect(d.outputs).to.be.closeTo(1e-3, 1e-5);
        expect(d.grads.weight_hh_l0).to.be.above(1e-4);
        expect(d.grad_h0).to.be.above(1e-4);
      });

      it('round-trips through toPyTorch exactly', () => {
        const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
        const back = rt.interop.fromPyTorch(torchKind(f), rt.interop.toPyTorch(cell));
        for (const [symbol, v] of Object.entries(cell.params)) {
          expect(Array.from(back.params[symbol].dataSync()), symbol).to.deep.equal(Array.from(v.dataSync()));
        }
        cell.dispose();
        back.dispose();
      });
    });
  }
});
