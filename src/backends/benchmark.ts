/**
 * A ready-made comparison: a seeded network and seeded data of a given size, run through
 * {@link compare}. The same options give the same weights and inputs in Node and in a browser,
 * so rows measured in both places describe the same computation.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellKind } from '../cells/cell.js';
import { CELL_KINDS } from '../cells/kinds.js';
import { checkKeys, checkOneOf, checkPositiveInt, checkSeed, show } from '../check/index.js';
import { network } from '../network.js';
import { compare, type CompareRow } from './compare.js';

export interface BenchmarkOptions {
  cell: CellKind;
  backends: string[];
  /** Hidden units (default 64). */
  units?: number;
  /** Input features (default 16). */
  inputSize?: number;
  /** Outputs per step (default 1). */
  outputSize?: number;
  /** Time steps (default 25). */
  time?: number;
  /** Sequences per batch (default 16). */
  batch?: number;
  /** Timed repetitions (default 5). */
  steps?: number;
  /** Seed of the weights, inputs and targets (default 1). */
  seed?: number;
}

/** The defaults of {@link BenchmarkOptions}. */
export const BENCHMARK_DEFAULTS = { units: 64, inputSize: 16, outputSize: 1, time: 25, batch: 16, steps: 5, seed: 1 };

/** Builds a seeded `rt.network` of the given size and compares it on `backends`. */
export async function benchmark(options: BenchmarkOptions): Promise<CompareRow[]> {
  const where = 'backends.benchmark';
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${where}: expected options { cell, backends, units?, time?, batch?, ... }, got ${show(options)}`,
    );
  }
  checkKeys(where, options, ['cell', 'backends', ...Object.keys(BENCHMARK_DEFAULTS)]);
  const o = { ...BENCHMARK_DEFAULTS, ...options };
  checkOneOf(where, 'cell', o.cell, CELL_KINDS);
  for (const key of ['units', 'inputSize', 'outputSize', 'time', 'batch', 'steps'] as const)
    checkPositiveInt(where, key, o[key]);
  checkSeed(where, o.seed);

  await tf.ready(); // a backend that starts asynchronously (wasm) must be up before tensors exist
  const model = network({
    cell: o.cell,
    inputSize: o.inputSize,
    units: o.units,
    outputSize: o.outputSize,
    seed: o.seed,
  });
  const x = tf.randomNormal([o.batch, o.time, o.inputSize], 0, 1, 'float32', o.seed);
  const y = tf.randomNormal([o.batch, o.time, o.outputSize], 0, 1, 'float32', o.seed + 1);
  try {
    return await compare({ model, x, y, backends: o.backends, steps: o.steps });
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
