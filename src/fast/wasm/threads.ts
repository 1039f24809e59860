/**
 * The helper threads of the whole-sequence kernels' threaded build (`assembly/pool.ts`): in Node,
 * worker threads that instantiate the same module on the same shared memory and wait in its
 * `serve` loop for their part of each large job (blocks of a batch's rows through every step,
 * blocks of a product's columns). Until they are running, and where
 * they cannot run (a browser, one core, no `SharedArrayBuffer`), the kernels run on the calling
 * thread alone; the results are the same to the bit either way.
 */
import { isNode, lazyImport } from '../../lazy-import.js';

type WorkerThreads = typeof import('node:worker_threads');
type Os = typeof import('node:os');
type Helper = InstanceType<WorkerThreads['Worker']>;

/** The most threads a job is split over (`MAX_PARTS` in `assembly/pool.ts`). */
export const MAX_THREADS = 4;

/** What a threaded instance offers the helpers: its module, memory, and how to set the split. */
export interface Threaded {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  setParts(n: number): void;
}

/** A helper: instantiates the module on the shared memory, says so, and serves part `p` for good. */
const HELPER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, p } = workerData;
const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports;
parentPort.postMessage('ready');
wasm.serve(p);
`;

let target: Threaded | null = null;
let running: Helper[] = [];
/** The threads asked for ({@link setThreads}); null: as many as the cores. */
let wanted: number | null = null;
let change: Promise<number> = Promise.resolve(1);

/** Threads the kernels use now: the calling thread and the helpers running. */
export function kernelThreads(): number {
  return running.length + 1;
}

/**
 * Sets the threads of `instance` to `n` (null: the default, the cores, at most {@link MAX_THREADS};
 * left out: as asked before), starting or ending helpers; resolves with the number in use once
 * they run.
 */
export function setThreads(instance: Threaded | null, n?: number | null): Promise<number> {
  if (instance) target = instance;
  if (n !== undefined) wanted = n;
  change = change.then(apply);
  return change;
}

/** Starts or ends helpers for {@link wanted}; on any failure none run and the kernels use one thread. */
async function apply(): Promise<number> {
  try {
    return await restart();
  } catch {
    target?.setParts(1);
    await stop();
    return kernelThreads();
  }
}

async function stop(): Promise<void> {
  const ending = running;
  running = [];
  await Promise.all(ending.map((w) => w.terminate()));
}

async function restart(): Promise<number> {
  if (!target || !isNode() || typeof SharedArrayBuffer === 'undefined') return kernelThreads();
  const [{ Worker }, os] = await Promise.all([
    lazyImport<WorkerThreads>('node:worker_threads'),
    lazyImport<Os>('node:os'),
  ]);
  const n = Math.max(1, Math.min(wanted ?? os.availableParallelism(), MAX_THREADS, os.availableParallelism()));
  if (running.length === n - 1) {
    target.setParts(n);
    return kernelThreads();
  }
  target.setParts(1);
  await stop();
  const { module, memory } = target;
  const helpers = Array.from({ length: n - 1 }, (_, i) => {
    // No flags of this process (`--input-type=module` would make the helper's CommonJS a module).
    const worker = new Worker(HELPER, { eval: true, execArgv: [], workerData: { module, memory, p: i + 1 } });
    worker.unref();
    // A helper that ends on its own (not by `stop`): the kernels go back to one thread, and say so.
    let failure: unknown = null;
    worker.once('exit', (code) => {
      if (!running.includes(worker)) return;
      target?.setParts(1);
      void stop();
      const why = failure instanceof Error ? failure.message : `exit code ${code}`;
      console.warn(`tfjs-recurrent: a kernel helper thread ended (${why}); the kernels run on one thread`);
    });
    return new Promise<Helper>((resolve, reject) => {
      worker.once('message', () => resolve(worker));
      worker.on('error', (error) => {
        failure = error;
        reject(error);
      });
    });
  });
  const started = await Promise.allSettled(helpers);
  running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (running.length < helpers.length) throw new Error('a helper thread did not start');
  target.setParts(running.length + 1);
  return kernelThreads();
}
