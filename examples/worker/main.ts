/**
 * The page: an LSTM learns the adding problem in a Web Worker while the page stays responsive.
 * `trainAddingInWorker` is what the page runs (and what test/browser/worker.browser.ts checks);
 * index.html calls it from its button.
 */
import * as rt from 'tfjs-recurrent';

/** The training run of the example (small, so that it takes seconds). */
export const EXAMPLE = {
  network: { cell: 'lstm', inputSize: 2, units: 16, outputSize: 1, seed: 1 },
  data: { batch: 128, time: 10, seed: 1 },
  options: { loss: 'mse', epochs: 4, batchSize: 32, learningRate: 0.01, clipNorm: 1, seed: 1 },
} as const;

/** Trains the example's LSTM in `worker`; `log` receives one line per epoch. */
export async function trainAddingInWorker(worker: Worker, log: (line: string) => void) {
  const net = rt.network(EXAMPLE.network);
  const data = rt.data.addingProblem(EXAMPLE.data);
  const history = await rt.worker.train(worker, net, data, {
    ...EXAMPLE.options,
    onEpochEnd: (epoch, logs) => log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}`),
  });
  return { net, data, history };
}

const button = typeof document === 'undefined' ? null : document.querySelector<HTMLButtonElement>('#train');
button?.addEventListener('click', () => {
  const out = document.querySelector('#log')!;
  const worker = new Worker(new URL('./train-worker.js?backend=wasm', import.meta.url), { type: 'module' });
  button.disabled = true;
  void trainAddingInWorker(worker, (line) => out.append(`${line}\n`)).then(({ net, data, history }) => {
    out.append(`done: the page's network has the trained weights (loss ${history.history.loss.at(-1)})\n`);
    net.dispose();
    data.x.dispose();
    data.y.dispose();
    worker.terminate();
  });
});
