/**
 * The cells against PyTorch (float64 references) on the page's backend, on the fast path and on the
 * plain path (`fast: false`, `cell.step` in the loop): outputs and final states within 1e-5, the
 * loss's gradients (every parameter, x, h0, c0) within 1e-4 of the reference's scale, all through
 * the package's public entry.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { fixtures, maxAbsDiff, relativeError, torchGrad, torchKind, values, type Fixture } from './fixtures.js';
import { requestedBackend } from './requested.js';

const NAMES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'];

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function cellParitySuite(): void {
  describe('cells match PyTorch', () => {
    for (const [name, fast] of NAMES.flatMap((n) => [[n, true] as const, [n, false] as const])) {
      describe(`${name} (${fast ? 'fast path' : 'plain path'})`, () => {
        let f: Fixture;
        let cell: rt.cells.Cell;
        before(async () => {
          f = (await fixtures())[name];
          cell = rt.interop.fromPyTorch(torchKind(f), f.params);
        });
        after(() => cell.dispose());

        it('outputs and final state within 1e-5', async () => {
          const x = tf.tensor3d(f.x);
          const initialState = { h: tf.tensor2d(f.h0), ...(f.c0 ? { c: tf.tensor2d(f.c0) } : {}) };
          const { outputs, state } = rt.unroll(cell, x, { initialState, fast });
          expect(maxAbsDiff(await values(outputs), f.outputs.flat(2))).to.be.below(1e-5);
          expect(maxAbsDiff(await values(state.h), f.h_T.flat())).to.be.below(1e-5);
          if (f.c_T) expect(maxAbsDiff(await values(state.c!), f.c_T.flat())).to.be.below(1e-5);
          tf.dispose([x, initialState.h, initialState.c, outputs, state.h, state.c]);
        });

        it('runs the backend’s own kernel exactly where it has one (webgl: a step, webgpu: the sequence; tanh and σ)', async () => {
          const x = tf.tensor3d(f.x);
          const info = await tf.profile(() => tf.tidy(() => rt.unroll(cell, x, { fast }).outputs));
          const backend = requestedBackend();
          const own = fast && ['webgl', 'webgpu'].includes(backend) && name !== 'rnn-relu';
          expect(info.kernelNames.includes('TfjsRecurrentStep'), 'step kernel').to.equal(own && backend === 'webgl');
          expect(info.kernelNames.includes('TfjsRecurrentSequence'), 'sequence kernel').to.equal(
            own && backend === 'webgpu',
          );
          tf.dispose([x, info.result as tf.Tensor]);
        });

        it('gradients of the loss (tf.variableGrads) within 1e-4 relative', async () => {
          const x = tf.variable(tf.tensor3d(f.x));
          const h0 = tf.variable(tf.tensor2d(f.h0));
          const c0 = f.c0 ? tf.variable(tf.tensor2d(f.c0)) : undefined;
          const [R, S, U] = [tf.tensor3d(f.R), tf.tensor2d(f.S), f.U ? tf.tensor2d(f.U) : undefined];
          // L = sum(outputs * R) + sum(h_T * S) + sum(c_T * U), as the fixture states
          const loss = () =>
            tf.tidy(() => {
              const { outputs, state } = rt.unroll(cell, x, {
                initialState: { h: h0, ...(c0 ? { c: c0 } : {}) },
                fast,
              });
              let L = tf.add(tf.sum(tf.mul(outputs, R)), tf.sum(tf.mul(state.h, S)));
              if (U && state.c) L = tf.add(L, tf.sum(tf.mul(state.c, U)));
              return L as tf.Scalar;
            });
          const { value, grads } = tf.variableGrads(loss, [...Object.values(cell.params), x, h0, ...(c0 ? [c0] : [])]);
          expect(Math.abs((await value.data())[0] - f.loss_value) / Math.abs(f.loss_value)).to.be.below(1e-4);
          for (const [symbol, p] of Object.entries(cell.params)) {
            const err = relativeError(await values(grads[p.name]), torchGrad(f, symbol));
            expect(err, `dL/d${symbol}`).to.be.below(1e-4);
          }
          expect(relativeError(await values(grads[x.name]), f.grad_x.flat(2)), 'dL/dx').to.be.below(1e-4);
          expect(relativeError(await values(grads[h0.name]), f.grad_h0.flat()), 'dL/dh0').to.be.below(1e-4);
          if (c0) expect(relativeError(await values(grads[c0.name]), f.grad_c0!.flat()), 'dL/dc0').to.be.below(1e-4);
          tf.dispose([x, h0, c0, R, S, U, value, ...Object.values(grads)]);
        });
      });
    }

    // The fixtures' batch of 3 runs the GPU kernels entry by entry; an even batch and even units
    // run them on whole texels (WebGL), checked here against the plain path (tested above). GELU
    // has no hand-derived backward: tfjs differentiates the fast path's steps and their stacking
    // (on WebGL a program of ours for an even batch, src/fast/concat.ts).
    const variants = [['elman'], ['lstm'], ['gru'], ['elman', 'gelu']] as const;
    for (const [kind, activation] of variants) {
      const name = `${kind}${activation ? ` (${activation})` : ''}`;
      it(`${name}, batch 4 and 6 units: the fast path gives the plain path's outputs and gradients`, async () => {
        const cell = rt.cells[kind]({ inputSize: 3, units: 6, seed: 21, ...(activation && { activation }) });
        const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 22);
        const R = tf.randomNormal([4, 5, 6], 0, 1, 'float32', 23);
        const run = (fast: boolean) => {
          const loss = () => tf.sum(tf.mul(rt.unroll(cell, x, { fast }).outputs, R)) as tf.Scalar;
          const { value, grads } = tf.variableGrads(loss, Object.values(cell.params));
          const outputs = rt.unroll(cell, x, { fast }).outputs;
          return { value, grads, outputs };
        };
        const [fast, plain] = [run(true), run(false)];
        expect(maxAbsDiff(await values(fast.outputs), await values(plain.outputs)), 'outputs').to.be.below(1e-5);
        for (const [symbol, p] of Object.entries(cell.params)) {
          const err = relativeError(await values(fast.grads[p.name]), await values(plain.grads[p.name]));
          expect(err, `dL/d${symbol}`).to.be.below(1e-5);
        }
        tf.dispose([x, R, ...[fast, plain].flatMap((r) => [r.value, r.outputs, ...Object.values(r.grads)])]);
        cell.dispose();
      });
    }
  });
}
