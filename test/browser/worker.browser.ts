/**
 * Training in a Web Worker (examples/worker): the weights that come back equal those of the same
 * `rt.train` on the page, the page's timers keep firing meanwhile, and what needs Node (files,
 * a terminal) is refused in the browser with a clear message before anything runs; a worker whose
 * script does not load is an error.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { EXAMPLE, trainAddingInWorker } from '../../examples/worker/main.js';

/** The rejection message of `run`, or a failure when it resolves. */
async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a refusal, but it ran');
}

/** max |a - b|, leaving no tensor behind. */
async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [v] = await d.data();
  d.dispose();
  return v;
}

/** Defines this file's tests (called by page.ts). */
export function workerSuite(): void {
  describe('training in a Web Worker', () => {
    it('the trained weights equal the same training on the page, and the page stays responsive', async function () {
      // The worker runs on cpu; compare with the page only where the page runs on cpu too.
      if (tf.getBackend() !== 'cpu') this.skip();
      const worker = new Worker('/train-worker.js?backend=cpu', { type: 'module' });
      const lines: string[] = [];
      let ticks = 0;
      let longestGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks++;
      }, 20);
      const started = performance.now();
      const inWorker = await trainAddingInWorker(worker, (line) => lines.push(line)).finally(() => {
        clearInterval(timer);
        worker.terminate();
      });
      const seconds = (performance.now() - started) / 1000;
      expect(lines).to.have.length(EXAMPLE.options.epochs);
      expect(lines[0]).to.match(/^epoch 1: loss \d/);

      const onPage = rt.network(EXAMPLE.network);
      const before = tf.memory().numTensors;
      const history = await rt.train(onPage, inWorker.data, { ...EXAMPLE.options });
      expect(tf.memory().numTensors).to.equal(before);
      expect(inWorker.history.history.loss).to.deep.equal(history.history.loss);
      for (const [name, param] of Object.entries(onPage.params)) {
        expect(await maxDiff(param, inWorker.net.params[name]), name).to.equal(0);
      }
      // The page kept running: a timer of 20 ms fired about every 20 ms while the worker trained.
      expect(ticks, `ticks in ${seconds.toFixed(1)} s`).to.be.at.least(Math.floor((seconds * 1000) / 100));
      expect(longestGap, 'the longest pause of the page (ms)').to.be.below(500);
      tf.dispose([inWorker.data.x, inWorker.data.y]);
      inWorker.net.dispose();
      onPage.dispose();
    });

    it('Node-only options and files are refused before anything runs; a worker that fails is an error', async () => {
      const tensors = tf.memory().numTensors;
      const net = rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 1, seed: 1 });
      const data = rt.data.addingProblem({ batch: 4, time: 3, seed: 1 });
      const before = net.params.W_hx.clone();
      expect(await refusal(() => rt.train(net, data, { loss: 'mse', progress: true }))).to.match(
        /^train: progress: true .* needs Node, and this is a browser; leave it out/,
      );
      expect(await refusal(() => rt.train(net, data, { loss: 'mse', checkpoint: { path: 'ckpt' } }))).to.match(
        /^train: checkpoints write to the file system, which needs Node/,
      );
      expect(await refusal(() => rt.loadCheckpoint('ckpt'))).to.match(/needs Node, and this is a browser/);
      expect(await refusal(async () => rt.models.path('names-lstm'))).to.match(
        /^models\.path: the shipped models folder needs Node, .*rt\.loadNetwork\('\/models\/<name>\/model\.json'\)/,
      );
      const worker = new Worker('/train-worker.js?backend=cpu', { type: 'module' });
      try {
        const options = { loss: 'mse', checkpoint: { path: 'ckpt' } } as unknown as rt.worker.WorkerTrainOptions;
        expect(await refusal(() => rt.worker.train(worker, net, data, options))).to.match(
          /^worker\.train: checkpoint and resume \(files on disk\) needs Node/,
        );
        const loss = { loss: (a: tf.Tensor) => a.sum() } as unknown as rt.worker.WorkerTrainOptions;
        expect(await refusal(() => rt.worker.train(worker, net, data, loss))).to.match(/needs the loss by name/);
      } finally {
        worker.terminate();
      }
      // A worker whose script does not load: an error, not a promise that never settles.
      const missing = new Worker('/no-such-worker.js', { type: 'module' });
      try {
        expect(await refusal(() => rt.worker.train(missing, net, data, { loss: 'mse' }))).to.match(
          /^worker\.train: the worker failed \(.*\); its script must call rt\.worker\.serve\(\)/,
        );
      } finally {
        missing.terminate();
      }
      expect(await maxDiff(before, net.params.W_hx), 'the network is untouched').to.equal(0);
      tf.dispose([before, data.x, data.y]);
      net.dispose();
      expect(tf.memory().numTensors).to.equal(tensors);
    });
  });
}
