// The whole-sequence kernels and the fused scans on helper threads (assembly/pool.ts,
// src/fast/wasm/threads.ts): at sizes where the batch's rows and the products are split, every
// output, state and gradient is the same to the bit on one thread and on two, the helper did take
// its part, and both equal the plain graph; `rt.backends.setKernelThreads` refuses what is not a
// number of threads.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell, State } from '../src/cells/cell.js';
import { sequenceModule } from '../src/fast/wasm/module.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectRelClose } from './helpers/close.js';
import { spyOnScanKernel, spyOnSequenceKernel } from './helpers/kernel-spy.js';
import { outputsAndGradients } from './helpers/sequence-run.js';

// Large enough that each loop over time and the products over all rows split (a million
// multiply-adds and more), with batch sizes that are and are not multiples of 4; the fused scans
// (whose backward sums dL/dW per block of rows) over longer sequences.
const cases: { name: string; batch: number; time?: number; make: () => Cell }[] = [
  { name: 'elman', batch: 16, make: () => rt.cells.elman({ inputSize: 7, units: 64, seed: 1 }) },
  { name: 'lstm', batch: 13, make: () => rt.cells.lstm({ inputSize: 9, units: 40, seed: 2 }) },
  { name: 'gru', batch: 16, make: () => rt.cells.gru({ inputSize: 5, units: 48, seed: 3 }) },
  {
    name: 'gru resetAfter: false',
    batch: 10,
    make: () => rt.cells.gru({ inputSize: 6, units: 44, resetAfter: false, seed: 4 }),
  },
  { name: 'mingru', batch: 18, time: 60, make: () => rt.cells.mingru({ inputSize: 16, units: 64, seed: 5 }) },
  { name: 'minlstm', batch: 13, time: 50, make: () => rt.cells.minlstm({ inputSize: 10, units: 52, seed: 6 }) },
  { name: 'indrnn', batch: 16, time: 60, make: () => rt.cells.indrnn({ inputSize: 13, units: 96, seed: 7 }) },
];

describeOnBackends('whole-sequence kernels on threads', ['wasm', 'cpu'], (backend) => {
  before(async function () {
    this.timeout(30_000);
    if ((await rt.backends.setKernelThreads(2)) < 2) this.skip();
  });
  after(async () => {
    await rt.backends.setKernelThreads(2);
  });

  for (const c of cases) {
    it(`give the same bits on one thread and two (${c.name}, masked), and equal the plain graph`, () => {
      const wasm = sequenceModule()!;
      const cell = c.make();
      const spy = (cell.kind.startsWith('min') || cell.kind === 'indrnn' ? spyOnScanKernel : spyOnSequenceKernel)(
        backend,
      );
      const [batch, time] = [c.batch, c.time ?? 30];
      tf.tidy(() => {
        const x = tf.randomNormal([batch, time, cell.inputSize], 0, 1, 'float32', 5);
        const initial = Object.fromEntries(
          cell.stateNames.map((n, k) => [n, tf.randomNormal([batch, cell.units], 0, 0.5, 'float32', 6 + k)]),
        ) as unknown as State;
        const mask = tf.tensor2d(
          Array.from({ length: batch * time }, (_, k) => (k % 7 === 3 || k % 11 === 10 ? 0 : 1)),
          [batch, time],
        );
        const run = (parts: number) => {
          wasm.setParts(parts);
          const served = wasm.served();
          const out = outputsAndGradients(cell, x, initial, { mask }, 7).map((t) => t.dataSync());
          return { out, helped: wasm.served() - served };
        };
        const one = run(1);
        expect(one.helped, 'parts run by a helper on one thread').to.equal(0);
        // A helper that was asleep may wake after the caller has taken every block of a job: run
        // again (at most 5 times) until it has taken some, each run the same to the bit.
        let helped = 0;
        let two = one;
        for (let k = 0; k < 5 && helped === 0; k++) {
          two = run(2);
          two.out.forEach((values, i) => expect(values, `result ${i}`).to.deep.equal(one.out[i]));
          helped += two.helped;
        }
        expect(helped, 'parts run by a helper on two').to.be.greaterThan(0);
        const plain = outputsAndGradients(cell, x, initial, { mask, fast: false }, 7);
        plain.forEach((t, k) =>
          expectRelClose(Array.from(two.out[k]), t, k <= cell.stateNames.length ? 1e-5 : 1e-4, `${k}`),
        );
      });
      wasm.setParts(rt.backends.kernelThreads());
      expect(spy.runs(), 'the kernel ran').to.be.greaterThan(0);
      spy.restore();
      cell.dispose();
    });
  }
});

describe('kernel helper threads in a fresh process', () => {
  it('serve from the first kernel call on, with no setKernelThreads (a helper once took the word’s first value for a job)', function () {
    this.timeout(60_000);
    if (availableParallelism() < 2) this.skip();
    const script = [
      "import * as rt from './src/index.ts';",
      "import { sequenceModule } from './src/fast/wasm/module.ts';",
      "import * as tf from '@tensorflow/tfjs';",
      "await rt.backends.use('cpu');",
      'const cell = rt.cells.lstm({ inputSize: 8, units: 64, seed: 1 });',
      'const x = tf.randomNormal([32, 40, 8]);',
      'rt.unroll(cell, x);',
      'await new Promise((r) => setTimeout(r, 500));',
      'const before = sequenceModule().served();',
      'for (let i = 0; i < 5; i++) rt.unroll(cell, x);',
      'console.log(JSON.stringify({ threads: rt.backends.kernelThreads(), helped: sequenceModule().served() - before }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const { threads, helped } = JSON.parse(out.trim().split('\n').pop()!);
    expect(threads, 'threads in use').to.equal(2);
    expect(helped, 'parts the helper ran').to.be.greaterThan(0);
  });
});

describe('rt.backends.setKernelThreads', () => {
  it('refuses what is not a whole number of threads from 1 to 4, naming what came', () => {
    for (const n of [0, 1.5, 5, Number.NaN]) {
      expect(() => rt.backends.setKernelThreads(n)).to.throw(
        `rt.backends.setKernelThreads: expected a whole number of threads from 1 to 4, got ${n}`,
      );
    }
  });

  it('ends and starts helpers: one thread, then two again, then the default', async function () {
    this.timeout(30_000);
    expect(await rt.backends.setKernelThreads(1)).to.equal(1);
    expect(rt.backends.kernelThreads()).to.equal(1);
    const two = await rt.backends.setKernelThreads(2);
    expect(two).to.equal(Math.min(2, availableParallelism()));
    expect(rt.backends.kernelThreads()).to.equal(two);
    expect(await rt.backends.setKernelThreads(), 'the default: the cores, at most 4').to.equal(
      Math.min(availableParallelism(), 4),
    );
  });
});
