/**
 * A small training run with a checkpoint after every epoch, shared by the checkpoint tests and
 * run as a child process by them (`node --import tsx checkpoint-run.ts DIR EPOCHS`), so that a
 * test can kill it with SIGKILL at a random moment and resume it.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import { addingProblem } from '../../src/data/adding.js';

export const RUN = { cell: 'gru', units: 4, time: 6, rows: 48, batchSize: 16, seed: 7 } as const;

export function runNetwork(): rt.RecurrentNetwork {
  return rt.network({ cell: RUN.cell, inputSize: 2, units: RUN.units, outputSize: 1, seed: RUN.seed });
}

/** Trains a fresh network for `epochs` epochs (resuming from `dir` when it holds a checkpoint). */
export async function checkpointRun(
  dir: string | null,
  epochs: number,
  extra: Partial<rt.TrainOptions> = {},
): Promise<{ net: rt.RecurrentNetwork; history: rt.History }> {
  const data = addingProblem({ batch: RUN.rows, time: RUN.time, seed: RUN.seed });
  const net = runNetwork();
  try {
    const history = await rt.train(net, data, {
      loss: 'mse',
      optimizer: 'adam',
      learningRate: 1e-2,
      epochs,
      batchSize: RUN.batchSize,
      seed: RUN.seed,
      progress: false,
      ...(dir ? { checkpoint: { path: dir, every: 1 }, resume: true } : {}),
      ...extra,
    });
    return { net, history };
  } finally {
    tf.dispose([data.x, data.y]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, epochs] = process.argv.slice(2);
  await checkpointRun(dir, Number(epochs));
}
