/**
 * `tfjs-recurrent parity`: our cells against two references, as a table of the largest
 * differences, exiting non-zero when one is beyond tolerance.
 *
 * - PyTorch (float64 fixtures, one JSON file per cell: `rnn-tanh`, `rnn-relu`, `lstm`, `gru`):
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
import type { State } from '../cells/cell.js';
import { createCell } from '../cells/create.js';
import { prng } from '../init.js';
import * as rt from '../index.js';
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

interface Fixture {
  cell: 'rnn' | 'lstm' | 'gru';
  activation: 'tanh' | 'relu' | null;
  shapes: { hidden: number };
  params: rt.interop.StateDict;
  x: number[][][];
  h0: number[][];
  c0?: number[][];
  R: number[][][];
  S: number[][];
  U?: number[][];
  outputs: number[][][];
  h_T: number[][];
  c_T?: number[][];
  grads: Record<string, number[] | number[][]>;
  grad_x: number[][][];
  grad_h0: number[][];
  grad_c0?: number[][];
}

export function registerParity(program: Command): void {
  program.addCommand(
    command(
      'parity',
      "Compare our cells with PyTorch (float64 fixtures) and with tfjs's own recurrent layers: outputs and " +
        'gradients; exits 1 when a difference is beyond tolerance',
    )
      .option('--fixtures <dir>', 'directory of the PyTorch fixtures (default: ../shared/fixtures beside the package)')
      .option('--backend <name>', 'TensorFlow.js backend', 'wasm')
      .option('--json', 'print {"rows":[...],"ok":bool} as the last line of stdout')
      .action((options: { fixtures?: string; backend: string; json?: boolean }) => parity(options)),
  );
}

async function parity(o: { fixtures?: string; backend: string; json?: boolean }): Promise<void> {
  const dir = resolve(o.fixtures ?? join(packageRoot(), '..', 'shared', 'fixtures'));
  const fixtures = await readFixtures(dir);
  await startBackend('parity', o.backend);
  const rows: ParityRow[] = [
    ...fixtures.map(([name, f]) => judge('pytorch', name, pytorchDiffs(f))),
    ...(['elman', 'lstm', 'gru'] as const).map((kind) => judge('tfjs-layers', kind, layersDiffs(kind))),
  ];
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

async function readFixtures(dir: string): Promise<[string, Fixture][]> {
  const files = await readdir(dir).catch(() => null);
  const missing = FIXTURES.filter((name) => !files?.includes(`${name}.json`));
  if (files === null || missing.length > 0) {
    throw new Error(
      `parity: ${displayPath(dir)} ${files === null ? 'is not a readable directory' : `lacks ${missing.map((m) => `${m}.json`).join(', ')}`}; ` +
        `give --fixtures DIR, the directory of the PyTorch reference files ${FIXTURES.map((m) => `${m}.json`).join(', ')}`,
    );
  }
  return Promise.all(
    FIXTURES.map(async (name): Promise<[string, Fixture]> => {
      const file = join(dir, `${name}.json`);
      try {
        return [name, JSON.parse(await readFile(file, 'utf8')) as Fixture];
      } catch (err) {
        throw new Error(`parity: cannot parse ${displayPath(file)}: ${(err as Error).message}`);
      }
    }),
  );
}

/** Our cell with the fixture's weights against PyTorch's outputs, states and gradients. */
function pytorchDiffs(f: Fixture): { outputs: number; gradients: number } {
  const kind = f.cell === 'rnn' ? (`rnn_${f.activation}` as 'rnn_tanh' | 'rnn_relu') : f.cell;
  const cell = rt.interop.fromPyTorch(kind, f.params);
  try {
    return tf.tidy(() => {
      const lossOf = (x: tf.Tensor, h0: tf.Tensor, c0?: tf.Tensor) => {
        const initialState: State = { h: h0 as tf.Tensor2D, ...(c0 ? { c: c0 as tf.Tensor2D } : {}) };
        const { outputs, state } = rt.unroll(cell, x, { initialState });
        let L = tf.add(tf.sum(tf.mul(outputs, tf.tensor(f.R))), tf.sum(tf.mul(state.h, tf.tensor(f.S))));
        if (f.U && state.c) L = tf.add(L, tf.sum(tf.mul(state.c, tf.tensor(f.U))));
        return { L: L as tf.Scalar, outputs, state };
      };
      const inputs = [tf.tensor(f.x), tf.tensor(f.h0), ...(f.c0 ? [tf.tensor(f.c0)] : [])];
      const { outputs, state } = lossOf(inputs[0], inputs[1], inputs[2]);
      const outputDiffs = [absDiff(outputs, f.outputs), absDiff(state.h, f.h_T)];
      if (f.c_T && state.c) outputDiffs.push(absDiff(state.c, f.c_T));

      const { grads } = tf.variableGrads(() => lossOf(inputs[0], inputs[1], inputs[2]).L);
      const torch = gradientsAs(cell, grads, rt.interop.toPyTorch);
      const gradDiffs = (['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0'] as const).map((k) =>
        relDiff(tf.tensor(torch[k]), f.grads[k]),
      );
      if (f.cell === 'gru') {
        // PyTorch's separate b_hn is our b_nh; its other recurrent biases are folded into b_z, b_r.
        const H = f.shapes.hidden;
        const ours = tf.tensor(torch.bias_hh_l0).slice(2 * H, H);
        gradDiffs.push(relDiff(ours, (f.grads.bias_hh_l0 as number[]).slice(2 * H)));
      }
      const wrt = tf.grads((...a: tf.Tensor[]) => lossOf(a[0], a[1], a[2]).L)(inputs);
      gradDiffs.push(relDiff(wrt[0], f.grad_x), relDiff(wrt[1], f.grad_h0));
      if (f.grad_c0) gradDiffs.push(relDiff(wrt[2], f.grad_c0));
      return { outputs: Math.max(...outputDiffs), gradients: Math.max(...gradDiffs) };
    });
  } finally {
    cell.dispose();
  }
}

/** Our network against the same weights in tfjs's own layers (`net.toLayersModel()`). */
function layersDiffs(kind: 'elman' | 'lstm' | 'gru'): { outputs: number; gradients: number } {
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
  try {
    return tf.tidy(() => {
      const rand = prng(11);
      const uniform = (shape: number[]) =>
        tf.tensor(
          Array.from({ length: shape.reduce((a, b) => a * b) }, () => 2 * rand() - 1),
          shape,
        );
      const x = uniform([batch, time, inputSize]);
      const R = uniform([batch, time, outputSize]);
      const theirs = (x: tf.Tensor) => model.apply(x, { training: false }) as tf.Tensor;
      const outputs = absDiff(net.predict(x), theirs(x));

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
      const gradDiffs = weights.map((w, i) => relDiff(oursKeras[i], reference[w.name]));
      const gx = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((x: tf.Tensor) => loss(f(x)))(x);
      gradDiffs.push(
        relDiff(
          gx((x) => net.predict(x)),
          gx(theirs),
        ),
      );
      return { outputs, gradients: Math.max(...gradDiffs) };
    });
  } finally {
    model.dispose();
    net.dispose();
  }
}

/**
 * The gradients of `cell`'s parameters in another layout: `convert` gets a cell of the same
 * configuration whose parameters are the gradients (so `toPyTorch`/`toKeras` do the mapping).
 */
function gradientsAs<T>(cell: rt.cells.Cell, grads: tf.NamedTensorMap, convert: (c: rt.cells.Cell) => T): T {
  const params = Object.fromEntries(
    Object.entries(cell.params).map(([symbol, v]) => [symbol, tf.variable(grads[v.name], false)]),
  );
  const gradCell = createCell(cell.config, { params });
  try {
    return convert(gradCell);
  } finally {
    gradCell.dispose();
  }
}

type Values = tf.Tensor | number[] | number[][] | number[][][];

function flat(v: Values): Float64Array {
  return Float64Array.from(v instanceof tf.Tensor ? v.dataSync() : (v.flat(2) as number[]));
}

/** max |a - b| over all entries. */
function absDiff(a: Values, b: Values): number {
  const [x, y] = [flat(a), flat(b)];
  if (x.length !== y.length) throw new Error(`parity: ${x.length} values compared with ${y.length}`);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

/** max |a - b| / max |b|. */
function relDiff(a: Values, b: Values): number {
  const scale = flat(b).reduce((m, v) => Math.max(m, Math.abs(v)), Number.MIN_VALUE);
  return absDiff(a, b) / scale;
}
