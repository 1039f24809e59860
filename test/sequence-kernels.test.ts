// The whole-sequence kernels of the cpu and wasm backends (src/fast/wasm/, compiled from
// assembly/sequence.ts): the committed module is a fresh build; where they run (tanh/sigmoid
// activations, no recurrent dropout mask); that they match the PyTorch fixtures and the plain per-step graph
// (`fast: false`) in outputs, final state and every gradient, under masks, reverse, initial states,
// odd sizes, no biases and one-step sequences; and that they leak no tensors.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell, State } from '../src/cells/cell.js';
import { fastPathFor } from '../src/fast/index.js';
import { sequenceModule, sequenceModuleBuild } from '../src/fast/wasm/module.js';
import { SEQUENCE_WASM_RELAXED } from '../src/fast/wasm/sequence-wasm.js';
import { BUILDS, type BuildName, moduleText } from '../scripts/build-wasm.js';
import { describeOnBackends } from './helpers/backends.js';
import { spyOnSequenceKernel } from './helpers/kernel-spy.js';
import { trainingLeak } from './helpers/leaks.js';
import { outputsAndGradients as run } from './helpers/sequence-run.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';
import { FIXTURE_NAMES, loadFixture, torchKind } from './helpers/fixtures.js';

const cases: { name: string; make: () => Cell }[] = [
  { name: 'elman tanh', make: () => rt.cells.elman({ inputSize: 3, units: 5, seed: 1 }) },
  { name: 'elman sigmoid', make: () => rt.cells.elman({ inputSize: 1, units: 4, activation: 'sigmoid', seed: 2 }) },
  { name: 'lstm', make: () => rt.cells.lstm({ inputSize: 3, units: 6, seed: 3 }) },
  {
    name: 'lstm sigmoid, tanh gates',
    make: () => rt.cells.lstm({ inputSize: 5, units: 9, activation: 'sigmoid', recurrentActivation: 'tanh', seed: 4 }),
  },
  { name: 'lstm without biases', make: () => rt.cells.lstm({ inputSize: 2, units: 3, useBias: false, seed: 5 }) },
  { name: 'gru', make: () => rt.cells.gru({ inputSize: 3, units: 7, seed: 6 }) },
  { name: 'gru resetAfter: false', make: () => rt.cells.gru({ inputSize: 4, units: 8, resetAfter: false, seed: 7 }) },
  { name: 'gru without biases', make: () => rt.cells.gru({ inputSize: 3, units: 5, useBias: false, seed: 8 }) },
];

describe('whole-sequence kernels: the WebAssembly module', () => {
  for (const [name, { source, module }] of Object.entries(BUILDS)) {
    it(`${module} is a fresh build of ${source} (npm run build:wasm writes it)`, function () {
      this.timeout(60_000);
      expect(readFileSync(module, 'utf8')).to.equal(moduleText(name as BuildName));
    });
  }

  it('runs the relaxed-SIMD build (fused multiply-add) where the runtime validates it, else the SIMD build', () => {
    expect(sequenceModule()).to.not.equal(null);
    const relaxed = WebAssembly.validate(Buffer.from(SEQUENCE_WASM_RELAXED, 'base64'));
    expect(sequenceModuleBuild()).to.equal(relaxed ? 'relaxed SIMD' : 'SIMD');
  });
});

describeOnBackends('whole-sequence kernels', ['cpu', 'wasm'], (backend) => {
  const kernel = (cell: Cell) => {
    const k = fastPathFor(cell.config)?.sequenceKernel;
    cell.dispose();
    return k;
  };

  it('are registered for tanh/sigmoid activations of the Elman cell, LSTM and GRU, and no other', () => {
    for (const c of cases) expect(kernel(c.make()), c.name).to.not.equal(undefined);
    expect(kernel(rt.cells.elman({ inputSize: 1, units: 1, activation: 'relu' }))).to.equal(undefined);
    expect(kernel(rt.cells.lstm({ inputSize: 1, units: 1, recurrentActivation: 'hardSigmoid' }))).to.equal(undefined);
    expect(kernel(rt.cells.gru({ inputSize: 1, units: 1, activation: 'gelu' }))).to.equal(undefined);
  });

  it('take sequences up to 512 MiB of their memory, and leave larger ones to the fast path', () => {
    // LSTM 128 units, 16 inputs: about 8.3 kB a row (step and batch entry) in the backward.
    const k = kernel(rt.cells.lstm({ inputSize: 16, units: 128 }))!;
    expect(k.fits(50, 32, false)).to.equal(true);
    expect(k.fits(1000, 32, false)).to.equal(true);
    expect(k.fits(1000, 128, false)).to.equal(false);
  });

  for (const name of FIXTURE_NAMES) {
    const runs = name !== 'rnn-relu';
    it(`${runs ? 'match' : 'leave to the fast path'} the PyTorch fixture ${name}: outputs 1e-5, gradients 1e-4`, () => {
      const f = loadFixture(name);
      const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
      const spy = spyOnSequenceKernel(backend);
      tf.tidy(() => {
        const x = tf.tensor3d(f.x);
        const h0 = tf.tensor2d(f.h0);
        const c0 = f.c0 ? tf.tensor2d(f.c0) : undefined;
        const loss = (x: tf.Tensor, h: tf.Tensor, c?: tf.Tensor) => {
          const initialState = (c ? { h, c } : { h }) as State;
          const { outputs, state } = rt.unroll(cell, x, { initialState });
          let L = tf.add(tf.sum(tf.mul(outputs, tf.tensor3d(f.R))), tf.sum(tf.mul(state.h, tf.tensor2d(f.S))));
          if (f.U) L = tf.add(L, tf.sum(tf.mul(state.c!, tf.tensor2d(f.U))));
          return L as tf.Scalar;
        };
        const { outputs } = rt.unroll(cell, x, { initialState: (c0 ? { h: h0, c: c0 } : { h: h0 }) as State });
        expectAbsClose(outputs, f.outputs, 1e-5, 'outputs');
        const g = tf.grads((...a: tf.Tensor[]) => loss(a[0], a[1], a[2]))(c0 ? [x, h0, c0] : [x, h0]);
        expectRelClose(g[0], f.grad_x, 1e-4, 'dL/dx');
        expectRelClose(g[1], f.grad_h0, 1e-4, 'dL/dh0');
        if (f.grad_c0) expectRelClose(g[2], f.grad_c0, 1e-4, 'dL/dc0');
        const { grads } = tf.variableGrads(() => loss(x, h0, c0));
        // Our symbols' gradients in PyTorch's layout, through toPyTorch of a cell holding them.
        const torch = rt.interop.fromPyTorch(torchKind(f), f.params);
        for (const [symbol, v] of Object.entries(cell.params)) torch.params[symbol].assign(grads[v.name]);
        const dict = rt.interop.toPyTorch(torch) as Record<string, number[]>;
        torch.dispose();
        for (const key of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0'] as const) {
          expectRelClose(dict[key], f.grads[key] as number[], 1e-4, `dL/d${key}`);
        }
        if (f.cell === 'gru') {
          const n = (v: number[]) => v.slice(-f.shapes.hidden);
          expectRelClose(n(dict.bias_hh_l0), n(f.grads.bias_hh_l0 as number[]), 1e-4, 'dL/db_nh');
        }
      });
      if (runs) expect(spy.runs(), 'the kernel ran').to.be.greaterThan(0);
      else expect(spy.runs(), 'relu has no kernel').to.equal(0);
      spy.restore();
      cell.dispose();
    });
  }

  for (const c of cases) {
    it(`equal the plain graph (${c.name}): outputs, state and gradients over shapes, masks, reverse, one step`, () => {
      const cell = c.make();
      const spy = spyOnSequenceKernel(backend);
      const shapes: [number, number, boolean, boolean][] = [
        [3, 6, false, false],
        [1, 9, true, false],
        [5, 1, false, false],
        [4, 4, true, false],
        [3, 7, false, true],
        [4, 5, true, true],
      ];
      for (const [i, [batch, time, reverse, masked]] of shapes.entries()) {
        tf.tidy(() => {
          const x = tf.randomNormal([batch, time, cell.inputSize], 0, 1, 'float32', 10 + i);
          const initial = Object.fromEntries(
            cell.stateNames.map((n, k) => [n, tf.randomNormal([batch, cell.units], 0, 0.5, 'float32', 20 + i + k)]),
          ) as unknown as State;
          // Padding at the first and last steps of some rows, in the middle of others.
          const pattern = (k: number) => (k % 3 === 0 || k % 5 === 4 ? 0 : 1);
          const mask = masked
            ? tf.tensor2d(
                Array.from({ length: batch * time }, (_, k) => pattern(k)),
                [batch, time],
              )
            : undefined;
          const ours = run(cell, x, initial, { reverse, mask }, 30 + i);
          const plain = run(cell, x, initial, { reverse, mask, fast: false }, 30 + i);
          ours.forEach((t, k) => expectRelClose(t, plain[k], k <= cell.stateNames.length ? 1e-5 : 1e-4, `${k}`));
        });
      }
      expect(spy.runs(), 'the kernel ran').to.be.greaterThan(0);
      spy.restore();
      cell.dispose();
    });
  }

  it('leave a sequence with a recurrent dropout mask to the fast path (which equals the plain graph there)', () => {
    const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 9 });
    const spy = spyOnSequenceKernel(backend);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 2], 0, 1, 'float32', 1);
      const recurrentMask = tf.tensor2d([2, 0, 2, 2, 2, 0], [2, 3]);
      const initial = { h: tf.zeros([2, 3]), c: tf.zeros([2, 3]) } as State;
      const ours = run(cell, x, initial, { recurrentMask }, 2);
      const plain = run(cell, x, initial, { recurrentMask, fast: false }, 2);
      ours.forEach((t, k) => expectRelClose(t, plain[k], 1e-4, `${k}`));
    });
    expect(spy.runs(), 'no kernel run under a recurrent mask').to.equal(0);
    spy.restore();
    cell.dispose();
  });

  it('leak no tensors over repeated training steps and forward passes', () => {
    expect(trainingLeak('lstm', 5)).to.equal(0);
  });
});
