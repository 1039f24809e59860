/**
 * Memory over long sequences, through `rt.train`: with truncated BPTT the peak memory of an epoch
 * (tensors, and the arrays our WebAssembly kernels hold in their own memory) should not grow with the sequence length (full BPTT keeps every step of the sequence
 * and grows linearly), and `tf.memory().numTensors` should stay flat over many optimizer steps.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { profile } from './measure.js';
import { makeData, type Sizes } from './models.js';

export interface MemoryReport {
  backend: string;
  sizes: Omit<Sizes, 'time'>;
  truncate: number;
  /** Peak tensor MB of one epoch (one batch), by sequence length, truncated and full BPTT. */
  peakMB: { time: number; truncated: number; full: number }[];
  /** numTensors after each batch of a long run (one batch = `time / truncate` optimizer steps). */
  tensorsPerBatch: number[];
  steps: number;
  /** Last minus first entry of `tensorsPerBatch`: 0 when nothing leaks. */
  tensorGrowth: number;
}

const SIZES = { batch: 8, input: 4, units: 32, output: 1 };

/** Peak memory for each of `lengths`, and numTensors over `steps` optimizer steps. */
export async function memoryReport(lengths: number[], truncate: number, steps: number): Promise<MemoryReport> {
  const peakMB: MemoryReport['peakMB'] = [];
  for (const time of lengths) {
    const peak = async (bptt: 'full' | { truncate: number }) => {
      const net = rt.network({ cell: 'lstm', inputSize: SIZES.input, units: SIZES.units, outputSize: 1, seed: 3 });
      const data = makeData({ ...SIZES, time });
      const { peakBytes } = await profile(async () => {
        await rt.train(net, data, { loss: 'mse', epochs: 1, bptt, progress: false });
      });
      net.dispose();
      tf.dispose([data.x, data.y]);
      return peakBytes / 2 ** 20;
    };
    peakMB.push({ time, truncated: await peak({ truncate }), full: await peak('full') });
  }

  const time = 10 * truncate;
  const net = rt.network({ cell: 'lstm', inputSize: SIZES.input, units: SIZES.units, outputSize: 1, seed: 3 });
  const data = makeData({ ...SIZES, time });
  const tensorsPerBatch: number[] = [];
  await rt.train(net, data, {
    loss: 'mse',
    epochs: Math.ceil(steps / (time / truncate)),
    bptt: { truncate },
    progress: false,
    callbacks: { onBatchEnd: () => void tensorsPerBatch.push(tf.memory().numTensors) },
  });
  net.dispose();
  tf.dispose([data.x, data.y]);
  return {
    backend: tf.getBackend(),
    sizes: SIZES,
    truncate,
    peakMB,
    tensorsPerBatch,
    steps: tensorsPerBatch.length * (time / truncate),
    tensorGrowth: tensorsPerBatch[tensorsPerBatch.length - 1] - tensorsPerBatch[0],
  };
}
