// The fused scan of minGRU, minLSTM and IndRNN on cpu and wasm (src/fast/wasm/scan-kernel.ts,
// compiled from assembly/scan.ts): it is what `unroll` runs for them there; it equals the step
// loop (`fast: false`) and the scan in tf ops in outputs, final state and every gradient, under
// masks, reverse, initial states, odd sizes, each activation it computes and one-step
// sequences; dL/dx is computed where tfjs asks for it and refused where asked after the other
// gradients (tfjs asks in the inputs' order); and it leaks no tensors.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { wasmScanKernel } from '../src/fast/wasm/scan-kernel.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectAbsClose } from './helpers/close.js';
import { spyOnScanKernel } from './helpers/kernel-spy.js';

const CASES: { name: string; make: () => rt.Cell }[] = [
  { name: 'mingru', make: () => rt.cells.mingru({ inputSize: 3, units: 8, seed: 1 }) },
  {
    name: 'mingru f = tanh, odd sizes',
    make: () => rt.cells.mingru({ inputSize: 5, units: 7, activation: 'tanh', seed: 2 }),
  },
  {
    name: 'mingru f = sigmoid, σ = tanh',
    make: () =>
      rt.cells.mingru({ inputSize: 2, units: 4, activation: 'sigmoid', recurrentActivation: 'tanh', seed: 3 }),
  },
  { name: 'minlstm', make: () => rt.cells.minlstm({ inputSize: 4, units: 6, seed: 4 }) },
  { name: 'minlstm f = relu', make: () => rt.cells.minlstm({ inputSize: 3, units: 5, activation: 'relu', seed: 5 }) },
  { name: 'indrnn (relu)', make: () => rt.cells.indrnn({ inputSize: 3, units: 5, seed: 6 }) },
  { name: 'indrnn (linear)', make: () => rt.cells.indrnn({ inputSize: 4, units: 8, activation: 'linear', seed: 7 }) },
  { name: 'indrnn (tanh)', make: () => rt.cells.indrnn({ inputSize: 1, units: 3, activation: 'tanh', seed: 8 }) },
  { name: 'indrnn (sigmoid)', make: () => rt.cells.indrnn({ inputSize: 2, units: 4, activation: 'sigmoid', seed: 9 }) },
];

/**
 * Outputs, final state and the gradients of a weighted loss for x, h0 and every parameter (x and
 * h0 first, so that dL/dx is asked for: see `allButInputs` for the other case).
 */
function run(cell: rt.Cell, x: tf.Tensor, h0: tf.Tensor, options: rt.UnrollOptions): tf.Tensor[] {
  const loss = (x: tf.Tensor, h0: tf.Tensor) => {
    const { outputs, state } = rt.unroll(cell, x, { ...options, initialState: { h: h0 as tf.Tensor2D } });
    const r = tf.randomNormal(outputs.shape, 0, 1, 'float32', 11);
    const s = tf.randomNormal(state.h.shape, 0, 1, 'float32', 12);
    return tf.add(tf.sum(tf.mul(outputs, r)), tf.sum(tf.mul(state.h, s))) as tf.Scalar;
  };
  return tf.tidy(() => {
    const { outputs, state } = rt.unroll(cell, x, { ...options, initialState: { h: h0 as tf.Tensor2D } });
    const { grads } = tf.variableGrads(() => loss(x, h0), Object.values(cell.params));
    return [outputs, state.h, ...tf.grads(loss)([x, h0]), ...Object.values(cell.params).map((v) => grads[v.name])];
  });
}

const NAMES = ['outputs', 'h_T', 'dL/dx', 'dL/dh0'];

/** Every result of `a` within 1e-5 (outputs, state) or 1e-4 (gradients) of `b`'s. */
function expectSame(a: tf.Tensor[], b: tf.Tensor[], params: string[], what: string): void {
  const names = [...NAMES, ...params.map((p) => `dL/d${p}`)];
  a.forEach((t, i) => expectAbsClose(t, b[i], i < 2 ? 1e-5 : 1e-4, `${what}: ${names[i]}`));
}

describeOnBackends('the fused scan', ['cpu', 'wasm'], (backend) => {
  const [batch, time] = [3, 9];
  const mask = () =>
    tf.tensor2d(
      Array.from({ length: batch }, (_, b) =>
        Array.from({ length: time }, (_, t) => ((b === 1 ? t < 6 : b === 2 ? t % 4 !== 1 : true) ? 1 : 0)),
      ),
    );

  for (const { name, make } of CASES) {
    it(`${name}: equals the step loop (and the scan in tf ops) with masks, reversed, from a state`, () => {
      const cell = make();
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([batch, time, cell.inputSize], 0, 1, 'float32', 1);
      const h0 = tf.randomNormal([batch, cell.units], 0, 1, 'float32', 2);
      const m = mask();
      const linear = cell.kind !== 'indrnn' || cell.config.activation === 'linear';
      for (const options of [{}, { mask: m }, { mask: m, reverse: true }, { reverse: true }] as rt.UnrollOptions[]) {
        const what = `${backend} ${Object.keys(options).join(', ') || 'plain'}`;
        const spy = spyOnScanKernel(backend);
        const fused = run(cell, x, h0, options);
        spy.restore();
        expect(spy.runs(), `${what}: fused scans run`).to.be.above(0);
        const loop = run(cell, x, h0, { ...options, fast: false });
        expectSame(fused, loop, Object.keys(cell.params), `${what}, fused vs loop`);
        if (linear) {
          const off = spyOnScanKernel(backend, true);
          const ops = run(cell, x, h0, options);
          off.restore();
          expectSame(fused, ops, Object.keys(cell.params), `${what}, fused vs scan in tf ops`);
          tf.dispose(ops);
        }
        tf.dispose([...fused, ...loop]);
      }
      tf.dispose([x, h0, m]);
      expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
      cell.dispose();
    });
  }

  it('one step, one row: equals the step loop', () => {
    for (const { make } of CASES) {
      const cell = make();
      const x = tf.randomNormal([1, 1, cell.inputSize], 0, 1, 'float32', 3);
      const h0 = tf.randomNormal([1, cell.units], 0, 1, 'float32', 4);
      const [fused, loop] = [run(cell, x, h0, {}), run(cell, x, h0, { fast: false })];
      expectSame(fused, loop, Object.keys(cell.params), `${cell.kind} T = 1`);
      tf.dispose([x, h0, ...fused, ...loop]);
      cell.dispose();
    }
  });

  it('is the path unroll takes by default, once per sequence; not with fast: false; it refuses a recurrent dropout mask', () => {
    const cell = rt.cells.indrnn({ inputSize: 2, units: 4, seed: 1 });
    const x = tf.ones([2, 5, 2]);
    const spy = spyOnScanKernel(backend);
    const count = (f: () => tf.TensorContainer) => {
      const before = spy.runs();
      tf.dispose(f());
      return spy.runs() - before;
    };
    try {
      expect(count(() => rt.unroll(cell, x).outputs)).to.equal(1);
      const train = () => tf.variableGrads(() => tf.sum(rt.unroll(cell, x).outputs) as tf.Scalar).grads;
      expect(count(train), 'a forward and backward').to.equal(1);
      expect(count(() => rt.unroll(cell, x, { fast: false }).outputs)).to.equal(0);
      const recurrentMask = tf.ones([2, 4]);
      expect(() => rt.unroll(cell, x, { recurrentMask })).to.throw(/recurrent dropout .* indrnn cell has none/);
      expect(spy.runs()).to.equal(2);
      recurrentMask.dispose();
    } finally {
      spy.restore();
    }
    tf.dispose(x);
    cell.dispose();
  });

  it('leaves activations it does not compute, and sequences past its memory, to the other paths', () => {
    const config = (kind: 'mingru' | 'indrnn', activation: string) =>
      ({ kind, inputSize: 3, units: 4, activation, recurrentActivation: 'sigmoid' }) as const;
    expect(wasmScanKernel(config('mingru', 'elu'))).to.equal(undefined);
    expect(wasmScanKernel(config('indrnn', 'softsign'))).to.equal(undefined);
    const kernel = wasmScanKernel(config('mingru', 'linear'))!;
    expect(kernel.fits(512, 32, false)).to.equal(true);
    expect(kernel.fits(1_000_000, 64, false)).to.equal(false);
    const cell = rt.cells.mingru({ inputSize: 3, units: 4, activation: 'elu', seed: 2 });
    const x = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 5);
    const h0 = tf.zeros([2, 4]);
    const [ops, loop] = [run(cell, x, h0, {}), run(cell, x, h0, { fast: false })];
    expectSame(ops, loop, Object.keys(cell.params), 'mingru f = elu, scan in tf ops');
    tf.dispose([x, h0, ...ops, ...loop]);
    cell.dispose();
  });

  it("computes dL/dx where tfjs asks for it (first, in the inputs' order), and refuses it asked for later", () => {
    const cell = rt.cells.minlstm({ inputSize: 3, units: 5, seed: 3 });
    const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 6);
    const h0 = tf.randomNormal([2, 5], 0, 1, 'float32', 7);
    const loss = (x: tf.Tensor) =>
      tf.sum(tf.square(rt.unroll(cell, x, { initialState: { h: h0 as tf.Tensor2D } }).outputs)) as tf.Scalar;
    const reference = tf.tidy(() => tf.grad(loss)(x));
    // The registered gradient, its closures called with W's before X's: the backward ran without
    // dL/dX and its arrays are released, so X's is refused by name rather than made up.
    const gradient = tf.getGradient('TfjsRecurrentFusedScan')!;
    const original = gradient.gradFunc;
    gradient.gradFunc = (dy, saved, attrs) => {
      const closures = original(dy, saved, attrs);
      return { ...closures, X: () => (closures.W(), closures.X()) };
    };
    try {
      expect(() => tf.tidy(() => tf.grad(loss)(x))).to.throw(/fused scan was asked for dL\/dX after its backward/);
    } finally {
      gradient.gradFunc = original;
    }
    expectAbsClose(
      tf.tidy(() => tf.grad(loss)(x)),
      reference,
      0,
      "dL/dx in the inputs' order again",
    );
    tf.dispose([x, h0, reference]);
    cell.dispose();
  });

  it('leaves no tensors behind over training steps, with and without dL/dx', () => {
    const cell = rt.cells.mingru({ inputSize: 3, units: 4, seed: 4 });
    const x = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.01);
    const loss = (x: tf.Tensor) =>
      tf.sum(tf.square(rt.unroll(cell, x, { mask: tf.ones([2, 6]) }).outputs)) as tf.Scalar;
    optimizer.minimize(() => loss(x), false, Object.values(cell.params));
    const afterFirst = tf.memory().numTensors; // Adam's moments, made on the first step
    for (let i = 0; i < 3; i++) optimizer.minimize(() => loss(x), false, Object.values(cell.params));
    tf.dispose(tf.grads(loss)([x]));
    expect(tf.memory().numTensors, 'tensors left behind').to.equal(afterFirst);
    optimizer.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    tf.dispose(x);
    cell.dispose();
  });
});
