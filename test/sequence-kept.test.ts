// The arrays a whole-sequence forward (or a fused scan's) keeps for its backward in the module's
// memory (Arena.keep in src/fast/wasm/module.ts): with sequences whose backward runs in another
// order than their forward (cells side by side, stacked), copied out when they hold too much,
// released after each training step so that the module's memory is used from its heap base
// again, and freed once collected where the gradient never runs (the mean square's kept
// differences with them).
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { State } from '../src/cells/cell.js';
import { Arena, sequenceModule, setKeepMax } from '../src/fast/wasm/module.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectRelClose } from './helpers/close.js';
import { spyOnScanKernel, spyOnSequenceKernel } from './helpers/kernel-spy.js';

/** Where a new arena of the kernels' module starts (its heap base when nothing is kept). */
const arenaStart = () => new Arena(sequenceModule()!).alloc(1);
const heapStart = () => Math.ceil(sequenceModule()!.heapBase() / 16) * 16;

describeOnBackends('arrays kept for the backward', ['wasm', 'cpu'], (backend) => {
  const lstm = rt.cells.lstm({ inputSize: 3, units: 6, seed: 1 });
  const gru = rt.cells.gru({ inputSize: 6, units: 5, seed: 2 });
  const mingru = rt.cells.mingru({ inputSize: 6, units: 4, seed: 4 });
  const x = tf.randomNormal([4, 9, 3], 0, 1, 'float32', 3);
  after(() => [lstm, gru, mingru, x].forEach((t) => t.dispose()));

  /** Gradients of every parameter and x, over two cells side by side and stacked, by path. */
  const gradients = (fast: boolean) =>
    tf.tidy(() => {
      const params = [lstm, gru, mingru].flatMap((cell) => Object.values(cell.params));
      const loss = (x: tf.Tensor) => {
        const first = rt.unroll(lstm, x, { fast }).outputs;
        const beside = rt.unroll(gru, tf.concat([x, x], 2), { fast }).outputs;
        const stacked = rt.unroll(gru, first, { fast, initialState: { h: tf.ones([4, 5]) } as State }).outputs;
        const scanned = rt.unroll(mingru, tf.sin(first), { fast }).outputs;
        const sum = tf.add(tf.sum(tf.square(beside)), tf.sum(tf.square(scanned)));
        return tf.add(sum, tf.sum(tf.mul(stacked, tf.sin(first.slice([0, 0, 0], [4, 9, 5])))));
      };
      const dx = tf.grad((x: tf.Tensor) => loss(x) as tf.Scalar)(x);
      const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, params);
      return [dx, ...params.map((p) => grads[p.name])].map((t) => Array.from(t.dataSync()));
    });

  it('give the plain graph’s gradients when backwards run in another order than forwards, and free the memory', () => {
    const [spy, scans] = [spyOnSequenceKernel(backend), spyOnScanKernel(backend)];
    const ours = gradients(true);
    const plain = gradients(false);
    ours.forEach((g, k) => expectRelClose(g, plain[k], 1e-4, `${k}`));
    expect(spy.runs(), 'the kernel ran').to.be.greaterThan(0);
    expect(scans.runs(), 'the fused scan ran').to.be.greaterThan(0);
    [spy, scans].forEach((s) => s.restore());
    expect(arenaStart(), 'where the next arena starts').to.equal(heapStart());
  });

  it('are copied out when they hold too much, and the backward reads the copies: the same bits', () => {
    const inPlace = gradients(true);
    const previous = setKeepMax(0);
    try {
      gradients(true).forEach((g, k) => expect(g, `${k}`).to.deep.equal(inPlace[k]));
    } finally {
      setKeepMax(previous);
    }
    expect(arenaStart(), 'where the next arena starts').to.equal(heapStart());
  });

  it('leave the module’s memory free after every training step of rt.train', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 3, units: 6, outputSize: 2, seed: 4 });
    const y = tf.randomNormal([4, 9, 2], 0, 1, 'float32', 5);
    const starts: number[] = [];
    const batchEnd = () => void starts.push(arenaStart());
    await rt.train(net, { x, y }, { epochs: 2, batchSize: 2, loss: 'mse', callbacks: [{ onBatchEnd: batchEnd }] });
    expect(starts).to.have.length(4);
    expect(new Set(starts)).to.deep.equal(new Set([heapStart()]));
    y.dispose();
    net.dispose();
  });
});

describe('what a forward keeps for a gradient that never runs', () => {
  it('is freed once collected: the fused scan’s arrays in the module, the mean square’s differences in tfjs-wasm', function () {
    this.timeout(60_000);
    // In a fresh process with a collector to call: a loss and a scan recorded on a tape whose
    // gradient does not reach them.
    const script = [
      "import * as tf from '@tensorflow/tfjs';",
      "import * as rt from './src/index.ts';",
      "import { Arena, sequenceModule } from './src/fast/wasm/module.ts';",
      "import { lossFunction } from './src/objective/loss.ts';",
      "await rt.backends.use('wasm');",
      'const cell = rt.cells.mingru({ inputSize: 3, units: 4, seed: 1 });',
      'const [x, y] = [tf.randomNormal([2, 5, 3]), tf.randomNormal([2, 5, 4])];',
      "const mse = lossFunction('mse', 'test');",
      'const W = cell.params.W_zx;',
      'const step = () => {',
      '  const { value, grads } = tf.variableGrads(() => (mse(y, rt.unroll(cell, x).outputs), tf.sum(W)), [W]);',
      '  tf.dispose([value, grads]);',
      '};',
      'const collect = async () => {',
      '  for (let i = 0; i < 3; i++) (globalThis.gc(), await new Promise((r) => setTimeout(r, 10)));',
      '};',
      'const state = () => [new Arena(sequenceModule()).alloc(1), tf.backend().numDataIds()];',
      'step();',
      'await collect();',
      'const before = state();',
      'step();',
      'const kept = state().map((v, i) => v - before[i]);',
      'await collect();',
      'console.log(JSON.stringify({ kept, after: state().map((v, i) => v - before[i]) }));',
    ].join('\n');
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    const { kept, after } = JSON.parse(out.trim().split('\n').pop()!);
    expect(kept[0], 'bytes kept in the module before collection').to.be.greaterThan(0);
    expect(kept[1], 'data kept in tfjs-wasm before collection').to.equal(1);
    expect(after, 'kept after collection (module bytes, tfjs-wasm data)').to.deep.equal([0, 0]);
  });
});
