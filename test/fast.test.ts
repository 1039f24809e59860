// The whole-sequence fast path of `unroll` (src/fast/sequence.ts with each cell's hand-derived
// backward): when it runs, that it matches the PyTorch fixtures and the plain per-step graph
// (outputs and the gradients of every parameter, x, h0 and c0) under masks, reverse and one-step
// sequences, on the cpu and wasm backends, and that it leaks no tensors.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell, State } from '../src/cells/cell.js';
import { fastPathFactory, fastPathFor, registerFastPath, registerSequenceKernel } from '../src/fast/index.js';
import { wasmSequenceKernel } from '../src/fast/wasm/kernel.js';
import { describeOnBackends } from './helpers/backends.js';
import { trainingLeak } from './helpers/leaks.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';
import { FIXTURE_NAMES, loadFixture, torchKind } from './helpers/fixtures.js';

/**
 * Counts the steps the hand-derived backward of the cell's kind takes (0 when the plain path ran),
 * by wrapping its registered fast path until `restore()`. The whole-sequence kernels of cpu and
 * wasm (tested in sequence-kernels.test.ts) are set aside meanwhile: this file tests the tf-ops path.
 */
function spyOnBackward(cell: Cell): { steps: () => number; restore: () => void } {
  const original = fastPathFactory(cell.kind)!;
  for (const backend of ['cpu', 'wasm']) registerSequenceKernel(cell.kind, backend, () => undefined);
  let count = 0;
  registerFastPath(cell.kind, (config) => {
    const path = original(config);
    const backward = path.backward!;
    return {
      ...path,
      backward: {
        ...backward,
        step: (g, f, W) => {
          count++;
          return backward.step(g, f, W);
        },
      },
    };
  });
  const restore = () => {
    registerFastPath(cell.kind, original);
    for (const backend of ['cpu', 'wasm']) registerSequenceKernel(cell.kind, backend, wasmSequenceKernel);
  };
  return { steps: () => count, restore };
}

interface Case {
  make: () => Cell;
  name: string;
}

const cases: Case[] = [
  { name: 'elman tanh', make: () => rt.cells.elman({ inputSize: 3, units: 4, seed: 1 }) },
  { name: 'elman relu', make: () => rt.cells.elman({ inputSize: 3, units: 4, activation: 'relu', seed: 2 }) },
  { name: 'elman sigmoid', make: () => rt.cells.elman({ inputSize: 3, units: 4, activation: 'sigmoid', seed: 3 }) },
  { name: 'elman linear', make: () => rt.cells.elman({ inputSize: 3, units: 4, activation: 'linear', seed: 4 }) },
  { name: 'lstm', make: () => rt.cells.lstm({ inputSize: 3, units: 4, seed: 5 }) },
  {
    name: 'lstm hardSigmoid gates',
    make: () => rt.cells.lstm({ inputSize: 3, units: 4, recurrentActivation: 'hardSigmoid', seed: 6 }),
  },
  { name: 'gru', make: () => rt.cells.gru({ inputSize: 3, units: 4, seed: 7 }) },
  { name: 'gru resetAfter: false', make: () => rt.cells.gru({ inputSize: 3, units: 4, resetAfter: false, seed: 8 }) },
];

/** A loss that weighs every output and the final state with fixed random weights. */
function lossOf(cell: Cell, x: tf.Tensor, options: rt.UnrollOptions, seed: number): tf.Scalar {
  const { outputs, state } = rt.unroll(cell, x, options);
  let L = tf.sum(tf.mul(outputs, tf.randomNormal(outputs.shape, 0, 1, 'float32', seed)));
  for (const s of Object.values(state))
    L = tf.add(L, tf.sum(tf.mul(s, tf.randomNormal(s.shape, 0, 1, 'float32', seed + 1))));
  return L as tf.Scalar;
}

/** Gradients of the loss for every parameter, x and each initial state entry. */
function gradients(cell: Cell, x: tf.Tensor, initial: State, options: rt.UnrollOptions, seed: number): tf.Tensor[] {
  const names = cell.stateNames;
  const f = (...args: tf.Tensor[]) => {
    const initialState = Object.fromEntries(names.map((n, i) => [n, args[i + 1]])) as unknown as State;
    return lossOf(cell, args[0], { ...options, initialState }, seed);
  };
  const inputs = [x, ...names.map((n) => initial[n]!)];
  const { grads } = tf.variableGrads(() => f(...inputs), Object.values(cell.params));
  return [...tf.grads(f)(inputs), ...Object.values(cell.params).map((v) => grads[v.name])];
}

describeOnBackends('fast path of unroll', ['cpu', 'wasm'], () => {
  it('runs only while gradients are recorded, and not with fast: false or a probe', () => {
    const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 1 });
    const spy = spyOnBackward(cell);
    const x = tf.randomNormal([2, 5, 2], 0, 1, 'float32', 1);
    tf.tidy(() => rt.unroll(cell, x));
    expect(spy.steps(), 'inference').to.equal(0);
    tf.tidy(() => tf.variableGrads(() => tf.sum(rt.unroll(cell, x).outputs) as tf.Scalar));
    expect(spy.steps(), 'training').to.equal(5);
    tf.tidy(() => tf.variableGrads(() => tf.sum(rt.unroll(cell, x, { fast: false }).outputs) as tf.Scalar));
    tf.tidy(() => tf.variableGrads(() => tf.sum(rt.unroll(cell, x, { probe: (_t, h) => h }).outputs) as tf.Scalar));
    expect(spy.steps(), 'fast: false and probe').to.equal(5);
    spy.restore();
    x.dispose();
    cell.dispose();
  });

  it('has a hand-derived backward for every kind and form, none where an activation has no derivative', () => {
    const backward = (cell: Cell) => fastPathFor(cell.config)!.backward;
    expect(backward(rt.cells.elman({ inputSize: 1, units: 1, activation: 'gelu' }))).to.equal(undefined);
    expect(backward(rt.cells.lstm({ inputSize: 1, units: 1, activation: 'selu' }))).to.equal(undefined);
    expect(backward(rt.cells.gru({ inputSize: 1, units: 1, resetAfter: false }))).to.not.equal(undefined);
    expect(backward(rt.cells.gru({ inputSize: 1, units: 1 }))).to.not.equal(undefined);
  });

  for (const [name, fast] of FIXTURE_NAMES.flatMap((n) => [[n, true] as const, [n, false] as const])) {
    const path = fast ? 'fast path' : 'plain path (cell.step)';
    it(`${path} matches the PyTorch fixture ${name}: outputs 1e-5, gradients of parameters, x, h0, c0 1e-4`, () => {
      const f = loadFixture(name);
      const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
      const spy = spyOnBackward(cell);
      tf.tidy(() => {
        const x = tf.tensor3d(f.x);
        const initial: State = f.c0 ? { h: tf.tensor2d(f.h0), c: tf.tensor2d(f.c0) } : { h: tf.tensor2d(f.h0) };
        const loss = (x: tf.Tensor, h0: tf.Tensor, c0?: tf.Tensor) => {
          const { outputs, state } = rt.unroll(cell, x, {
            initialState: c0 ? { h: h0 as tf.Tensor2D, c: c0 as tf.Tensor2D } : { h: h0 as tf.Tensor2D },
            fast,
          });
          let L = tf.add(tf.sum(tf.mul(outputs, tf.tensor3d(f.R))), tf.sum(tf.mul(state.h, tf.tensor2d(f.S))));
          if (f.U) L = tf.add(L, tf.sum(tf.mul(state.c!, tf.tensor2d(f.U))));
          return L as tf.Scalar;
        };
        expectRelClose(loss(x, initial.h, initial.c), [f.loss_value], 1e-4, 'L');
        const { outputs } = rt.unroll(cell, x, { initialState: initial, fast });
        expectAbsClose(outputs, f.outputs, 1e-5, 'outputs');
        const inputs = initial.c ? [x, initial.h, initial.c] : [x, initial.h];
        const g = tf.grads((...a: tf.Tensor[]) => loss(a[0], a[1], a[2]))(inputs);
        expectRelClose(g[0], f.grad_x, 1e-4, 'dL/dx');
        expectRelClose(g[1], f.grad_h0, 1e-4, 'dL/dh0');
        if (f.grad_c0) expectRelClose(g[2], f.grad_c0, 1e-4, 'dL/dc0');
        const { grads } = tf.variableGrads(() => loss(x, initial.h, initial.c));
        const torch = rt.interop.fromPyTorch(torchKind(f), f.params);
        // Our symbols' gradients, mapped back to PyTorch's layout by toPyTorch on a cell holding them.
        for (const [symbol, v] of Object.entries(cell.params)) torch.params[symbol].assign(grads[v.name]);
        const dict = rt.interop.toPyTorch(torch) as Record<string, unknown>;
        torch.dispose();
        // Weights map one to one; our folded biases get PyTorch's bias_ih gradient (bias_hh's is the
        // same for folded gates); the GRU's b_nh is bias_hh's n block.
        for (const key of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0']) {
          expectRelClose(dict[key] as number[], f.grads[key as keyof typeof f.grads] as number[], 1e-4, `dL/d${key}`);
        }
        if (f.cell === 'gru') {
          const n = (v: unknown) => (v as number[]).slice(-f.shapes.hidden);
          expectRelClose(n(dict.bias_hh_l0), n(f.grads.bias_hh_l0), 1e-4, 'dL/db_nh');
        }
      });
      if (fast) expect(spy.steps(), 'the fast path ran').to.be.greaterThan(0);
      else expect(spy.steps(), 'the plain path ran').to.equal(0);
      spy.restore();
      cell.dispose();
    });
  }

  for (const c of cases) {
    it(`agrees with the plain graph (${c.name}): random shapes, masks, reverse, one step`, () => {
      const cell = c.make();
      const spy = spyOnBackward(cell);
      const shapes: [number, number, boolean, boolean][] = [
        [3, 6, false, false],
        [2, 5, true, false],
        [4, 7, true, true],
        [2, 1, false, true],
      ];
      for (const [i, [batch, time, reverse, masked]] of shapes.entries()) {
        tf.tidy(() => {
          const x = tf.randomNormal([batch, time, 3], 0, 1, 'float32', 10 + i);
          const initial = Object.fromEntries(
            cell.stateNames.map((n, k) => [n, tf.randomNormal([batch, 4], 0, 0.5, 'float32', 20 + i + k)]),
          ) as unknown as State;
          const mask = masked
            ? tf.tensor2d(
                Array.from({ length: batch * time }, (_, k) => (k % 3 === 1 ? 0 : 1)),
                [batch, time],
              )
            : undefined;
          const options = { reverse, mask };
          const fast = rt.unroll(cell, x, { ...options, initialState: initial });
          const plain = rt.unroll(cell, x, { ...options, initialState: initial, fast: false });
          expectRelClose(fast.outputs, plain.outputs, 1e-5, 'outputs');
          const gFast = gradients(cell, x, initial, options, 30 + i);
          const gPlain = gradients(cell, x, initial, { ...options, fast: false }, 30 + i);
          gFast.forEach((g, k) => expectRelClose(g, gPlain[k], 1e-4, `gradient ${k} at shape ${[batch, time]}`));
        });
      }
      expect(spy.steps(), 'the fast path ran').to.be.greaterThan(0);
      spy.restore();
      cell.dispose();
    });
  }

  it('takes dL/dx only where it is asked for: one product more with x among the variables', async () => {
    const cell = rt.cells.lstm({ inputSize: 3, units: 4, seed: 9 });
    const spy = spyOnBackward(cell);
    const x = tf.variable(tf.randomNormal([2, 5, 3], 0, 1, 'float32', 2));
    const params = Object.values(cell.params);
    const products = async (vars: tf.Variable[]) => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(cell, x, {}, 3), vars);
        expect(Object.keys(grads)).to.have.length(vars.length);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.kernels.filter((k) => ['BatchMatMul', '_FusedMatMul', 'TfjsRecurrentMatMul'].includes(k.name)).length;
    };
    const [weights, withX] = [await products(params), await products([...params, x])];
    expect(spy.steps(), 'the fast path ran').to.equal(10);
    expect(withX - weights).to.equal(1);
    spy.restore();
    x.dispose();
    cell.dispose();
  });

  it('leaks no tensors over repeated training steps and forward passes', () => {
    expect(trainingLeak('gru', 20)).to.equal(0);
  });
});
