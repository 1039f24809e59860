// Our cells + unroll against PyTorch float64 references (../shared/fixtures): per-step outputs,
// final states, and the gradients of the fixture's loss for every parameter, x, h0 (and c0).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { State } from '../src/cells/cell.js';
import { FIXTURE_NAMES, loadFixture, torchKind, type Fixture } from './helpers/fixtures.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';

/** PyTorch's gradient for one of our symbols, read from the fixture's PyTorch-layout gradients. */
function torchGrad(f: Fixture, symbol: string, units: number): number[] | number[][] {
  const order = f.cell === 'lstm' ? ['i', 'f', 'g', 'o'] : f.cell === 'gru' ? ['r', 'z', 'n'] : ['h'];
  const m = /^(W|b)_([a-z])(x|h)?$/.exec(symbol);
  if (symbol === 'b_nh') return (f.grads.bias_hh_l0 as number[]).slice(2 * units, 3 * units);
  if (!m) throw new Error(`unexpected symbol ${symbol}`);
  const [, kind, gate, side] = m;
  const k = order.indexOf(gate);
  const key = kind === 'b' ? 'bias_ih_l0' : side === 'x' ? 'weight_ih_l0' : 'weight_hh_l0';
  return (f.grads[key] as (number | number[])[]).slice(k * units, (k + 1) * units) as number[] | number[][];
}

describe('parity with PyTorch (float64 fixtures)', () => {
  for (const name of FIXTURE_NAMES) {
    describe(name, () => {
      const f = loadFixture(name);
      const H = f.shapes.hidden;

      it('matches outputs (1e-5) and final states', () => {
        const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
        tf.tidy(() => {
          const initialState: State = { h: tf.tensor2d(f.h0) };
          if (f.c0) initialState.c = tf.tensor2d(f.c0);
          const { outputs, state } = rt.unroll(cell, tf.tensor3d(f.x), { initialState });
          expect(outputs.shape).to.deep.equal([f.shapes.batch, f.shapes.time, H]);
          expectAbsClose(outputs, f.outputs, 1e-5, 'outputs');
          expectAbsClose(state.h, f.h_T, 1e-5, 'h_T');
          if (f.c_T) expectAbsClose(state.c!, f.c_T, 1e-5, 'c_T');
        });
        cell.dispose();
      });

      it('matches the loss and the gradients of every parameter, x, h0 and c0 (1e-4 relative)', () => {
        const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
        tf.tidy(() => {
          const x = tf.tensor3d(f.x);
          const h0 = tf.tensor2d(f.h0);
          const c0 = f.c0 ? tf.tensor2d(f.c0) : undefined;
          const loss = (x: tf.Tensor, h0: tf.Tensor, c0?: tf.Tensor) => {
            const initialState: State = { h: h0 as tf.Tensor2D };
            if (c0) initialState.c = c0 as tf.Tensor2D;
            const { outputs, state } = rt.unroll(cell, x, { initialState });
            let L = tf.add(tf.sum(tf.mul(outputs, tf.tensor3d(f.R))), tf.sum(tf.mul(state.h, tf.tensor2d(f.S))));
            if (f.U) L = tf.add(L, tf.sum(tf.mul(state.c!, tf.tensor2d(f.U))));
            return L as tf.Scalar;
          };
          const { value, grads } = tf.variableGrads(() => loss(x, h0, c0));
          expect(value.dataSync()[0]).to.be.closeTo(f.loss_value, 1e-4 * Math.max(1, Math.abs(f.loss_value)));
          for (const [symbol, v] of Object.entries(cell.params)) {
            expectRelClose(grads[v.name], torchGrad(f, symbol, H), 1e-4, `dL/d${symbol}`);
          }
          const inputs = c0 ? [x, h0, c0] : [x, h0];
          const g = tf.grads((...a: tf.Tensor[]) => loss(a[0], a[1], a[2]))(inputs);
          expectRelClose(g[0], f.grad_x, 1e-4, 'dL/dx');
          expectRelClose(g[1], f.grad_h0, 1e-4, 'dL/dh0');
          if (c0) expectRelClose(g[2], f.grad_c0!, 1e-4, 'dL/dc0');
        });
        cell.dispose();
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
