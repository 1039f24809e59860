import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { Command } from 'commander';
import { registerBench } from '../src/cli/bench.js';
import * as rt from '../src/index.js';

/** The error `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('backends (Node)', () => {
  let initial: string;
  before(async () => {
    await tf.ready();
    initial = tf.getBackend();
  });
  afterEach(async () => {
    await tf.setBackend(initial);
  });

  describe('use', () => {
    it('starts wasm (imported on demand) and cpu, and tf.getBackend() follows', async () => {
      await rt.backends.use('wasm');
      expect(tf.getBackend()).to.equal('wasm');
      const y = tf.add(tf.tensor1d([1, 2]), 1);
      expect(Array.from(await y.data())).to.deep.equal([2, 3]);
      y.dispose();
      await rt.backends.use('cpu');
      expect(tf.getBackend()).to.equal('cpu');
    });

    it('refuses the browser-only webgl, naming where it runs and what is available', async () => {
      const e = await rejection(rt.backends.use('webgl'));
      expect(e.message).to.contain(`no backend 'webgl' here (it runs only in a browser)`);
      expect(e.message).to.match(/available here: cpu, wasm/);
      expect(tf.getBackend()).to.equal(initial);
    });

    it('says how to install @tensorflow/tfjs-node when it is missing', async function () {
      if (rt.backends.available().includes('tensorflow')) this.skip(); // installed by the user
      const e = await rejection(rt.backends.use('tensorflow'));
      expect(e.message).to.contain('npm install @tensorflow/tfjs-node');
    });

    it('refuses unknown names and non-strings', async () => {
      expect((await rejection(rt.backends.use('nope'))).message).to.match(/no backend 'nope' here; available here: /);
      expect((await rejection(rt.backends.use(3 as unknown as string))).message).to.match(
        /expected a backend name .* got 3/,
      );
    });

    it('detects a backend that fails to start, restores the previous one and gives the reason', async () => {
      tf.registerBackend(
        'broken',
        () => {
          throw new Error('no device');
        },
        -1,
      );
      const prod = tf.env().getBool('PROD');
      tf.env().set('PROD', true); // tfjs logs the failed start; keep the test output clean
      try {
        await rt.backends.use('cpu');
        const e = await rejection(rt.backends.use('broken'));
        expect(e.message).to.contain("the 'broken' backend did not start (no device)");
        expect(tf.getBackend()).to.equal('cpu');
      } finally {
        tf.env().set('PROD', prod);
        tf.removeBackend('broken');
      }
    });
  });

  it('available lists cpu and wasm here, webgpu too (webgpu and tfjs-backend-webgpu are installed), and not webgl', () => {
    const names = rt.backends.available();
    expect(names).to.include.members(['cpu', 'wasm', 'webgpu']);
    expect(names).to.not.include('webgl');
  });

  describe('compare', () => {
    it('gives one row per backend: wasm agrees with cpu within 1e-4, counts kernels, leaks nothing', async () => {
      const model = rt.network({ cell: 'gru', inputSize: 3, units: 6, outputSize: 2, seed: 5 });
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 5);
      const tensors = tf.memory().numTensors;
      const rows = await rt.backends.compare({ model, x, backends: ['wasm', 'cpu'], steps: 1 });
      expect(tf.memory().numTensors).to.equal(tensors);
      expect(tf.getBackend()).to.equal(initial);
      expect(rows.map((r) => r.backend)).to.deep.equal(['wasm', 'cpu']);
      expect(rows[1].maxAbsDiffVsCpu).to.equal(0);
      expect(rows[0].maxAbsDiffVsCpu).to.be.below(1e-4);
      for (const r of rows) {
        expect(r.forwardMs).to.be.above(0);
        expect(r.trainStepMs).to.be.above(0);
        expect(r.renderer).to.equal(undefined);
      }
      // every row counts the kernels of its step (the fast path picks per-backend kernels, so counts may differ)
      for (const r of rows) expect(r.kernelsPerStep).to.be.above(1);
      x.dispose();
      model.dispose();
    });

    it('accepts a cell (y: h_t at every step) and leaves the model weights as they were', async () => {
      const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 1 });
      const x = tf.randomNormal([1, 3, 2], 0, 1, 'float32', 2);
      const y = tf.zeros([1, 3, 3]);
      const W = cell.params.W_ix.arraySync();
      const rows = await rt.backends.compare({ model: cell, x, y, backends: ['cpu'], steps: 1 });
      expect(rows).to.have.length(1);
      expect(cell.params.W_ix.arraySync()).to.deep.equal(W);
      tf.dispose([x, y]);
      cell.dispose();
    });

    it('validates its options before any work', async () => {
      const model = rt.network({ cell: 'elman', inputSize: 3, units: 2, outputSize: 1, seed: 1 });
      const [wrongX, x, wrongY] = [tf.zeros([2, 5, 7]), tf.zeros([2, 5, 3]), tf.zeros([2, 5, 2])];
      const cases: [object, RegExp][] = [
        [{ model, x: wrongX, backends: ['cpu'] }, /expected x of shape \[batch, time, 3\], got \[2, 5, 7\]/],
        [{ model: {}, x, backends: ['cpu'] }, /expected model to be a RecurrentNetwork or a Cell/],
        [{ model, x, backends: [] }, /expected backends to be a non-empty array/],
        [{ model, x, y: wrongY, backends: ['cpu'] }, /expected y of shape \[2, 5, 1\]/],
        [{ model, x, backends: ['cpu'], steps: 0 }, /expected steps to be a positive integer/],
        [{ model, x, backends: ['cpu'], step: 3 }, /unknown option 'step'/],
      ];
      for (const [options, message] of cases) {
        const e = await rejection(rt.backends.compare(options as rt.backends.CompareOptions));
        expect(e.message).to.match(message);
      }
      tf.dispose([wrongX, x, wrongY]);
      model.dispose();
    });
  });

  describe('benchmark', () => {
    it('builds a seeded network of the asked size and compares it', async () => {
      const rows = await rt.backends.benchmark({
        cell: 'lstm',
        backends: ['cpu'],
        units: 4,
        time: 3,
        batch: 2,
        steps: 1,
      });
      expect(rows).to.have.length(1);
      expect(rows[0].backend).to.equal('cpu');
      expect(rows[0].kernelsPerStep).to.be.above(1);
    });

    it('validates its options', async () => {
      const bad: [object, RegExp][] = [
        [{ cell: 'rnn', backends: ['cpu'] }, /expected cell to be one of 'elman', 'lstm', 'gru', .*got "rnn"/],
        [{ cell: 'lstm', backends: ['cpu'], units: 0 }, /expected units to be a positive integer, got 0/],
        [{ cell: 'lstm', backends: ['cpu'], hidden: 3 }, /unknown option 'hidden'/],
      ];
      for (const [options, message] of bad) {
        const e = await rejection(rt.backends.benchmark(options as rt.backends.BenchmarkOptions));
        expect(e.message).to.match(message);
      }
    });
  });

  describe('tfjs-recurrent bench', () => {
    /** Runs `bench ...args` in-process; returns what it wrote to stdout. */
    async function bench(args: string[]): Promise<string> {
      const program = new Command('tfjs-recurrent').exitOverride();
      registerBench(program);
      const write = process.stdout.write;
      let out = '';
      process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
      try {
        await program.parseAsync(['node', 'tfjs-recurrent', 'bench', ...args]);
      } finally {
        process.stdout.write = write;
      }
      return out;
    }
    const tiny = ['--units', '3', '--time', '2', '--batch', '2', '--input-size', '2', '--steps', '1'];

    it('--json: the last line holds one row per Node backend, in the order asked', async () => {
      const out = await bench(['--backends', 'wasm,cpu', '--cell', 'gru', ...tiny, '--json']);
      const { rows } = JSON.parse(out.trim().split('\n').pop()!) as {
        rows: (rt.backends.CompareRow & { where: string })[];
      };
      expect(rows.map((r) => [r.backend, r.where])).to.deep.equal([
        ['wasm', 'node'],
        ['cpu', 'node'],
      ]);
      expect(Object.keys(rows[0]).slice(0, 2)).to.deep.equal(['backend', 'where']);
      expect(rows[0].maxAbsDiffVsCpu).to.be.below(1e-4);
      expect(rows[1].trainStepMs).to.be.above(0);
    });

    it('says how to install Chromium when a browser backend is asked for and there is none', async () => {
      const saved = process.env.CHROMIUM_PATH;
      process.env.CHROMIUM_PATH = '/nonexistent/chromium';
      try {
        const e = await rejection(bench(['--backends', 'cpu,webgl', ...tiny]));
        expect(e.message).to.contain('webgl runs in headless Chromium, which needs Chromium');
        expect(e.message).to.contain('apt-get install -y chromium');
      } finally {
        if (saved === undefined) delete process.env.CHROMIUM_PATH;
        else process.env.CHROMIUM_PATH = saved;
      }
    });

    it('refuses an unknown backend or cell, naming the choices', async () => {
      const e1 = await rejection(bench(['--backends', 'cpu,gpu', ...tiny]));
      expect(e1.message).to.match(/unknown backend 'gpu'; --backends takes cpu, wasm, tensorflow, webgl/);
      const e2 = await rejection(bench(['--backends', 'cpu', '--cell', 'rnn', ...tiny]));
      expect(e2.message).to.match(/--cell must be one of elman, lstm, gru\b.*, got 'rnn'/);
    });
  });
});
