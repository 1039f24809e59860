/**
 * The threads of the cpu and wasm backends' whole-sequence kernels (Elman, LSTM, GRU), in Node:
 * the calling thread and helper worker threads on the kernels' shared memory. Each thread runs
 * every step of a block of the batch's rows (rows are independent over time), and the products
 * over all rows (the weight gradients) are split by columns; each
 * number is computed by one thread in the same order, so results are the same to the bit on any
 * number of threads. By default as many as the cores, at most 4; in a browser, one.
 */
import { sequenceModule } from '../fast/wasm/module.js';
import { kernelThreads as inUse, MAX_THREADS, setThreads } from '../fast/wasm/threads.js';

/**
 * Uses `n` threads (1 to 4; fewer where there are fewer cores or no worker threads; without `n`,
 * the default: the cores, at most 4) for the kernels from now on; resolves with the number in
 * use once the helpers run.
 */
export function setKernelThreads(n?: number): Promise<number> {
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)) {
    throw new Error(
      `rt.backends.setKernelThreads: expected a whole number of threads from 1 to ${MAX_THREADS}, got ${n}`,
    );
  }
  sequenceModule();
  return setThreads(null, n ?? null);
}

/** The threads the kernels use now (1 until the helpers run, and in a browser). */
export function kernelThreads(): number {
  return inUse();
}
