// Streaming (src/stepper.ts, `net.stepper()`): step by step it gives what `net.apply` gives over the
// whole sequence, for every cell kind it runs on the kernels and one it runs on tensors, stacked
// layers too; `reset` starts over; no tensor is created per step; misuse is refused by name.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { RecurrentNetwork } from '../src/network.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectAbsClose } from './helpers/close.js';

const nets: { name: string; engine: string; make: () => RecurrentNetwork }[] = [
  {
    name: 'lstm',
    engine: 'kernels',
    make: () => rt.network({ cell: 'lstm', inputSize: 3, units: 6, outputSize: 2, seed: 1 }),
  },
  {
    name: 'gru',
    engine: 'kernels',
    make: () => rt.network({ cell: 'gru', inputSize: 2, units: 5, outputSize: 1, seed: 2 }),
  },
  {
    name: 'gru resetAfter: false, softmax output',
    engine: 'kernels',
    make: () =>
      rt.network({
        cell: 'gru',
        inputSize: 4,
        units: 8,
        outputSize: 3,
        resetAfter: false,
        outputActivation: 'softmax',
        seed: 3,
      }),
  },
  {
    name: 'elman, tanh output',
    engine: 'kernels',
    make: () => rt.network({ cell: 'elman', inputSize: 1, units: 7, outputSize: 1, outputActivation: 'tanh', seed: 4 }),
  },
  {
    name: 'two stacked lstm layers',
    engine: 'kernels',
    make: () => rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, layers: 2, seed: 5 }),
  },
  {
    name: 'elman relu (tensors), elu output',
    engine: 'tensors',
    make: () =>
      rt.network({
        cell: 'elman',
        inputSize: 2,
        units: 3,
        outputSize: 2,
        activation: 'relu',
        outputActivation: 'elu',
        seed: 6,
      }),
  },
];

/** `y` of the plain per-step graph (`cell.step` in a loop, `fast: false`), layer by layer. */
function reference(net: RecurrentNetwork, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let h = x;
    for (const [cell] of net.cells) h = rt.unroll(cell, h, { fast: false }).outputs;
    return net.output(h);
  });
}

/** Every step's `y_t` from the stepper, `[time * outputSize]`. */
function streamed(net: RecurrentNetwork, x: number[][]): number[] {
  const s = net.stepper();
  const ys = x.flatMap((xt) => Array.from(s.step(xt)));
  s.dispose();
  return ys;
}

describeOnBackends('net.stepper', ['cpu', 'wasm'], () => {
  for (const c of nets) {
    it(`equals the plain graph and net.apply step by step (${c.name}, on ${c.engine}); reset starts over`, async () => {
      const net = c.make();
      const T = 12;
      const x = tf.randomNormal([1, T, net.inputSize], 0, 1, 'float32', 7);
      const xs = ((await x.array()) as number[][][])[0];
      const y = reference(net, x);
      const s = net.stepper();
      expect(s.engine).to.equal(c.engine);
      const first = xs.flatMap((xt) => Array.from(s.step(xt)));
      expectAbsClose(first, y, 1e-5, 'y_t step by step');
      const applied = net.predict(x);
      expectAbsClose(first, applied, 1e-5, 'net.apply');
      applied.dispose();
      s.reset();
      expectAbsClose(Array.from(s.step(xs[0])), y.slice([0, 0, 0], [1, 1, -1]), 1e-5, 'y_1 after reset');
      s.dispose();
      tf.dispose([x, y]);
      net.dispose();
    });
  }

  it('creates no tensors over 1,000 steps (kernels and tensors)', () => {
    for (const activation of ['tanh', 'relu']) {
      const net = rt.network({ cell: 'elman', inputSize: 2, units: 16, outputSize: 1, activation, seed: 8 });
      const s = net.stepper();
      s.step([0, 0]);
      const before = tf.memory().numTensors;
      for (let t = 0; t < 1000; t++) s.step([Math.sin(t / 10), Math.cos(t / 10)]);
      expect(tf.memory().numTensors, activation).to.equal(before);
      s.dispose();
      net.dispose();
    }
  });

  it('equals the plain graph over 40 steps of a sine', () => {
    const net = rt.network({ cell: 'lstm', inputSize: 1, units: 8, outputSize: 1, seed: 9 });
    const xs = Array.from({ length: 40 }, (_, t) => [Math.sin(t / 3)]);
    const y = tf.tidy(() => reference(net, tf.tensor3d([xs])));
    expectAbsClose(streamed(net, xs), y, 1e-5, 'y over 40 steps');
    y.dispose();
    net.dispose();
  });

  it('refuses a bidirectional network, a wrong x_t and a step after dispose, by name', () => {
    const bi = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 1, bidirectional: true, seed: 10 });
    expect(() => bi.stepper()).to.throw(/net\.stepper: a bidirectional network/);
    bi.dispose();
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 1, seed: 11 });
    const s = net.stepper();
    expect(() => s.step([1])).to.throw(/net\.stepper: step expected x_t to hold inputSize = 2 numbers, got/);
    s.dispose();
    expect(() => s.step([1, 2])).to.throw(/net\.stepper: step\(\) after dispose\(\)/);
    net.dispose();
    expect(() => net.stepper()).to.throw(/net\.stepper/);
  });
});
