/**
 * `tfjs-recurrent parity`: our cells against two references, as a table of the largest
 * differences, exiting non-zero when one is beyond tolerance.
 *
 * - PyTorch (float64 fixtures, one JSON file per cell: `rnn-tanh`, `rnn-relu`, `lstm`, `gru`; by
 *   default the package's own `fixtures/pytorch`, written by `scripts/pytorch-fixtures.py`):
 *   the weights are loaded with `interop.fromPyTorch`; compared are the outputs at every step,
 *   the final states, and the gradients of the fixture's loss
 *   `L = Σ outputs ⊙ R + Σ h_T ⊙ S (+ Σ c_T ⊙ U)` for every weight, for x and for the initial state.
 * - tfjs's own layers (`simpleRNN`, `lstm`, `gru`, `dense`) from `net.toLayersModel()`: the
 *   predictions and the gradients of `Σ y ⊙ R` for every weight (ours mapped to Keras layout by
 *   `interop.toKeras`) and for x. tfjs's GRU is the `resetAfter: false` form, so that one is used.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { prng } from '../init.js';
import * as rt from '../index.js';
import { gradientsAs, maxAbsDifference, maxRelativeDifference, type PyTorchReference } from '../interop/reference.js';
import { command, displayPath, packageRoot, printJson, startBackend } from './command.js';
import { textTable } from './table.js';

/** Largest |ours - reference| allowed for outputs and states. */
export const OUTPUT_TOLERANCE = 1e-5;
/** Largest max|ours - reference| / max|reference| allowed for a gradient. */
export const GRADIENT_TOLERANCE = 1e-4;

const FIXTURES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as const;

/** One compared case. */
export interface ParityRow {
  reference: 'pytorch' | 'tfjs-layers';
  case: string;
  /** Largest absolute difference of outputs (and final states). */
  outputs: number;
  /** Largest relative difference over all gradients. */
  gradients: number;
  ok: boolean;
}

export function registerParity(program: Command): void {
  program.addCommand(
    command(
      'parity',
      "Compare our cells with PyTorch (float64 fixtures) and with tfjs's own recurrent layers: outputs and " +
        'gradients; exits 1 when a difference is beyond tolerance',
    )
      .option('--fixtures <dir>', "directory of the PyTorch fixtures (default: the package's own fixtures/pytorch)")
      .option('--backend <name>', 'TensorFlow.js backend', 'wasm')
      .option('--json', 'print {"rows":[...],"ok":bool} as the last line of stdout')
      .action((options: { fixtures?: string; backend: string; json?: boolean }) => parity(options)),
  );
}

async function parity(o: { fixtures?: string; backend: string; json?: boolean }): Promise<void> {
  const dir = resolve(o.fixtures ?? join(packageRoot(), 'fixtures', 'pytorch'));
  const fixtures = await readPyTorchReferences(dir);
  await startBackend('parity', o.backend);
  // One case after the other, each read with `await data()` (so that every backend works, webgpu too).
  const rows: ParityRow[] = [];
  for (const [name, f] of fixtures) rows.push(judge('pytorch', name, await pytorchDiffs(f)));
  for (const kind of ['elman', 'lstm', 'gru'] as const) rows.push(judge('tfjs-layers', kind, await layersDiffs(kind)));
  const ok = rows.every((r) => r.ok);
  if (o.json) printJson({ rows, ok });
  else {
    console.log(`fixtures: ${displayPath(dir)}; backend: ${tf.getBackend()}`);
    console.log(
      textTable(
        ['reference', 'case', 'outputs max |Δ|', 'gradients max rel Δ', 'ok'],
        rows.map((r) => [r.reference, r.case, r.outputs, r.gradients, r.ok ? 'yes' : 'NO']),
      ),
    );
    console.log(`tolerance: outputs ${OUTPUT_TOLERANCE}, gradients ${GRADIENT_TOLERANCE} (relative)`);
  }
  if (!ok) process.exitCode = 1;
}

function judge(reference: ParityRow['reference'], name: string, d: { outputs: number; gradients: number }): ParityRow {
  const ok = d.outputs <= OUTPUT_TOLERANCE && d.gradients <= GRADIENT_TOLERANCE;
  return { reference, case: name, outputs: d.outputs, gradients: d.gradients, ok };
}

async function readPyTorchReferences(dir: string): Promise<[string, PyTorchReference][]> {
  const files = await readdir(dir).catch(() => null);
  const missing = FIXTURES.filter((name) => !files?.includes(`${name}.json`));
  if (files === null || missing.length > 0) {
    throw new Error(
      `parity: ${displayPath(dir)} ${files === null ? 'is not a readable directory' : `lacks ${missing.map((m) => `${m}.json`).join(', ')}`}; ` +
        `give --fixtures DIR, the directory of the PyTorch reference files ${FIXTURES.map((m) => `${m}.json`).join(', ')}`,
    );
  }
  return Promise.all(
    FIXTURES.map(async (name): Promise<[string, PyTorchReference]> => {
      const file = join(dir, `${name}.json`);
      try {
        return [name, JSON.parse(await readFile(file, 'utf8')) as PyTorchReference];
      } catch (err) {
        throw new Error(`parity: cannot parse ${displayPath(file)}: ${(err as Error).message}`);
      }
    }),
  );
}

/** Our cell with the fixture's weights against PyTorch's outputs, states and gradients. */
async function pytorchDiffs(f: PyTorchReference): Promise<{ outputs: number; gradients: number }> {
  const d = await rt.interop.compareWithPyTorchAsync(f);
  return {
    outputs: Math.max(d.outputs, d.h_T, d.c_T ?? 0),
    gradients: Math.max(...Object.values(d.grads), d.grad_x, d.grad_h0, d.grad_c0 ?? 0),
  };
}

/** Our network against the same weights in tfjs's own layers (`net.toLayersModel()`). */
async function layersDiffs(kind: 'elman' | 'lstm' | 'gru'): Promise<{ outputs: number; gradients: number }> {
  const [batch, time, inputSize, units, outputSize] = [3, 7, 5, 4, 3];
  const net = rt.network({
    cell: kind,
    inputSize,
    units,
    outputSize,
    seed: 7,
    ...(kind === 'gru' ? { resetAfter: false } : {}),
  });
  const model = net.toLayersModel();
  let pairs: [tf.Tensor, tf.Tensor][] = [];
  try {
    // Ours and theirs as tensors first: [outputs, then every weight's gradient, then x's].
    pairs = tf.tidy(() => {
      const rand = prng(11);
      const uniform = (shape: number[]) =>
        tf.tensor(
          Array.from({ length: shape.reduce((a, b) => a * b) }, () => 2 * rand() - 1),
          shape,
        );
      const x = uniform([batch, time, inputSize]);
      const R = uniform([batch, time, outputSize]);
      const theirs = (x: tf.Tensor) => model.apply(x, { training: false }) as tf.Tensor;
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, R)) as tf.Scalar;
      const ours = tf.variableGrads(() => loss(net.predict(x))).grads;
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const reference = tf.variableGrads(() => loss(theirs(x)), weights).grads;
      const W_yh = ours[net.outputParams.W_yh.name];
      const oursKeras = [
        ...gradientsAs(net.cell, ours, rt.interop.toKeras),
        W_yh.transpose(),
        ours[net.outputParams.b_y.name],
      ];
      const gx = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((x: tf.Tensor) => loss(f(x)))(x);
      return [
        [net.predict(x), theirs(x)],
        ...weights.map((w, i): [tf.Tensor, tf.Tensor] => [oursKeras[i], reference[w.name]]),
        [gx((x) => net.predict(x)), gx(theirs)],
      ];
    });
    const read = await Promise.all(pairs.map(([a, b]) => Promise.all([a.data(), b.data()])));
    const outputs = maxAbsDifference(read[0][0], read[0][1]);
    const gradDiffs = read.slice(1).map(([a, b]) => maxRelativeDifference(a, b));
    return { outputs, gradients: Math.max(...gradDiffs) };
  } finally {
    tf.dispose(pairs.flat());
    model.dispose();
    net.dispose();
  }
}
