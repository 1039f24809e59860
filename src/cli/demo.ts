/**
 * `tfjs-recurrent demo` (`npm start`): the document's story in one run. The tanh Elman RNN, an
 * LSTM and a GRU learn the adding problem (T = 50) with explicit BPTT; the LSTM and the GRU
 * solve it, the Elman RNN stays near the baseline, and the gradient that reaches the first step,
 * `||dL/dh_1||` against `||dL/dh_T||`, shows why. Prints a table and writes an HTML report with
 * the equations, the loss curves and the gradient per step.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { ADDING_BASELINE_MSE, addingBatches, addingProblem } from '../data/adding.js';
import * as rt from '../index.js';
import { lineChart, type Series } from '../plot/index.js';
import { Bars, type Tracker } from '../progress.js';
import {
  BIN,
  checkWritable,
  command,
  displayPath,
  integer,
  positiveInt,
  positiveNumber,
  printJson,
  startBackend,
} from './command.js';
import { reportHtml } from './report.js';
import { textTable } from './table.js';

const CELLS = ['elman', 'lstm', 'gru'] as const;

/** The settings that meet the goal (LSTM and GRU test MSE < 0.05, Elman >= 5x worse) in time. */
export const DEMO_DEFAULTS = {
  steps: 800,
  time: 50,
  units: 32,
  batch: 32,
  lr: 0.01,
  clipNorm: 1,
  testSize: 1000,
  backend: 'wasm',
  seed: 1,
  out: 'out',
};

interface DemoOptions {
  steps: number;
  time: number;
  units: number;
  batch: number;
  lr: number;
  testSize: number;
  backend: string;
  seed: number;
  out: string;
  json?: boolean;
}

/** One trained model: its numbers, per-batch losses, gradient per step and equations. */
interface Run {
  result: DemoResult;
  losses: number[];
  perStep: number[];
  equations: string;
}

/** One trained model's numbers. */
export interface DemoResult {
  cell: string;
  testMse: number;
  seconds: number;
  gradientRatio: number;
}

export function registerDemo(program: Command): void {
  const d = DEMO_DEFAULTS;
  program.addCommand(
    command(
      'demo',
      'Train the tanh Elman RNN, an LSTM and a GRU on the adding problem with explicit BPTT; print a table ' +
        '(test MSE, seconds, ||dL/dh_1|| / ||dL/dh_T||) and write an HTML report (npm start runs this)',
    )
      .option('--steps <n>', 'training steps (batches) per model', positiveInt, d.steps)
      .option('--time <T>', 'steps per sequence of the adding problem', positiveInt, d.time)
      .option('--units <n>', 'hidden units of every cell', positiveInt, d.units)
      .option('--batch <n>', 'sequences per training batch', positiveInt, d.batch)
      .option('--lr <rate>', 'learning rate of Adam', positiveNumber, d.lr)
      .option('--test-size <n>', 'sequences in the test set', positiveInt, d.testSize)
      .option('--backend <name>', 'TensorFlow.js backend', d.backend)
      .option('--seed <n>', 'seed of the data and the initial weights', integer, d.seed)
      .option('--out <dir>', 'directory for report.html (relative to the working directory)', d.out)
      .option('--json', 'print the results as one JSON line (last line of stdout)')
      .action((options: DemoOptions) => demo(options)),
  );
}

async function demo(o: DemoOptions): Promise<void> {
  if (o.time < 2) throw new Error(`demo: --time must be at least 2 (two marked steps), got ${o.time}`);
  const report = resolve(o.out, 'report.html');
  await checkWritable('demo', '--out', report, { what: 'the report', charts: true, makeDir: true });
  await startBackend('demo', o.backend);
  // Held-out sequences, from seeds the training stream does not draw.
  const test = addingProblem({ batch: o.testSize, time: o.time, seed: o.seed + 1_000_003 });
  const probe = addingProblem({ batch: Math.min(256, o.testSize), time: o.time, seed: o.seed + 2_000_003 });
  if (!o.json) {
    console.log(
      `The adding problem, T = ${o.time}: the tanh Elman RNN, an LSTM and a GRU (${o.units} units each), ` +
        `${o.steps} steps of ${o.batch} sequences, on the ${tf.getBackend()} backend`,
    );
  }
  const bars = await Bars.create();
  const trackers = CELLS.map((cell) => bars.add(cell, o.steps));
  const runs: Run[] = [];
  try {
    for (const [k, cell] of CELLS.entries()) runs.push(await trainOne(cell, o, test, probe, trackers[k]));
  } finally {
    bars.stop();
    tf.dispose([test.x, test.y, probe.x, probe.y]);
  }
  const results = runs.map((r) => r.result);
  await rt.io.atomicWrite(report, await demoReport(o, runs));
  if (o.json) {
    printJson({ results, report: displayPath(report) });
    return;
  }
  console.log(
    textTable(
      ['cell', 'test MSE', 'seconds', '||dL/dh_1|| / ||dL/dh_T||'],
      results.map((r) => [r.cell, r.testMse, r.seconds, r.gradientRatio]),
    ),
  );
  console.log(`baseline (always predict 1): test MSE ${ADDING_BASELINE_MSE.toFixed(4)}`);
  console.log(`report: ${displayPath(report)}`);
}

/** Trains one cell; its test MSE, time, per-batch losses and gradient per step. */
async function trainOne(
  cell: (typeof CELLS)[number],
  o: DemoOptions,
  test: { x: tf.Tensor3D; y: tf.Tensor2D },
  probe: { x: tf.Tensor3D; y: tf.Tensor2D },
  tracker: Tracker,
): Promise<Run> {
  const net = rt.network({ cell, inputSize: 2, units: o.units, outputSize: 1, seed: o.seed });
  try {
    const losses: number[] = [];
    const data = addingBatches({ batch: o.batch, time: o.time, seed: o.seed, batches: o.steps });
    const start = performance.now();
    await rt.train(net, data, {
      loss: 'mse',
      target: 'lastStep',
      optimizer: 'adam',
      learningRate: o.lr,
      clipNorm: DEMO_DEFAULTS.clipNorm,
      epochs: 1,
      seed: o.seed,
      progress: false,
      callbacks: {
        onBatchEnd: (_, { loss }) => {
          losses.push(loss);
          tracker.update(losses.length, loss, (performance.now() - start) / 1000);
        },
      },
    });
    const seconds = (performance.now() - start) / 1000;
    const testMse = tf.tidy(() => {
      const y = net.predict(test.x);
      const last = y.slice([0, o.time - 1, 0], [o.testSize, 1, 1]).reshape([o.testSize, 1]);
      return tf.losses.meanSquaredError(test.y, last);
    });
    const mse = (await testMse.data())[0];
    testMse.dispose();
    const { perStep } = await rt.diagnostics.gradientNormsAsync(net, probe.x, probe.y, {
      loss: 'mse',
      target: 'lastStep',
    });
    const gradientRatio = perStep[0] / perStep[perStep.length - 1];
    tracker.done(`test MSE ${mse.toPrecision(3)}`);
    return { result: { cell, testMse: mse, seconds, gradientRatio }, losses, perStep, equations: net.cell.equations };
  } finally {
    net.dispose();
  }
}

/** The report: results, equations, loss curves and the gradient reaching each step. */
async function demoReport(o: DemoOptions, runs: Run[]): Promise<string> {
  const steps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const window = Math.max(1, Math.round(o.steps / 30));
  const lossSeries: Series[] = runs.map((r) => ({
    name: r.result.cell,
    x: steps(r.losses.length),
    y: smooth(r.losses, window),
  }));
  lossSeries.push({ name: 'baseline', x: [1, o.steps], y: [ADDING_BASELINE_MSE, ADDING_BASELINE_MSE] });
  // ||dL/dh_t|| can underflow to 0 far from the loss; a log axis shows only the positive values.
  const gradSeries: Series[] = runs.map((r) => {
    const points = r.perStep.map((g, t) => [t + 1, g]).filter(([, g]) => g > 0);
    return { name: r.result.cell, x: points.map((p) => p[0]), y: points.map((p) => p[1]) };
  });
  const names: Record<string, string> = { elman: 'Elman RNN (f = tanh)', lstm: 'LSTM', gru: 'GRU' };
  const equations = runs.map((r) => ({ name: names[r.result.cell], latex: r.equations }));
  return reportHtml({
    title: 'tfjs-recurrent: the adding problem',
    intro:
      `Each sequence has ${o.time} steps of a value in [0, 1] and a marker; two steps are marked and the target is ` +
      `the sum of their values. Always answering 1 gives a mean squared error of 1/6 ≈ 0.167; doing better ` +
      `needs a memory of about ${Math.floor(o.time / 2)} steps. Three networks with ${o.units} units each, ` +
      `trained with backpropagation through time on the same batches:`,
    table: {
      header: ['cell', 'test MSE', 'training seconds', '||dL/dh_1|| / ||dL/dh_T||'],
      rows: runs.map(({ result: r }) => [r.cell, r.testMse, r.seconds, r.gradientRatio]),
    },
    sections: [
      {
        title: 'The cells',
        text: 'Each network is a cell unrolled over time plus the output y_t = W_yh h_t + b_y, read at the last step.',
        equations,
      },
      {
        title: 'Training loss',
        text: `Mean squared error of each training batch (moving average over ${window} steps), log scale.`,
        svg: await lineChart({ title: 'Training loss', series: lossSeries, xLabel: 'step', yLabel: 'MSE', logY: true }),
      },
      {
        title: 'The gradient that reaches each step',
        text:
          'After training: the norm of the gradient of the loss (taken at the last step) with respect to each hidden ' +
          'state h_t, on held-out sequences. In the Elman RNN it vanishes on the way back from step T; the gates of ' +
          'the LSTM and the GRU keep it alive.',
        svg: await lineChart({
          title: '||dL/dh_t||',
          series: gradSeries,
          xLabel: 'time step t',
          yLabel: '||dL/dh_t||',
          logY: true,
        }),
      },
    ],
    settings: {
      command: `${BIN} demo --steps ${o.steps} --time ${o.time} --units ${o.units} --batch ${o.batch} --lr ${o.lr} --seed ${o.seed} --backend ${o.backend}`,
      backend: tf.getBackend(),
      optimizer: `Adam, learning rate ${o.lr}, global gradient norm clipped to ${DEMO_DEFAULTS.clipNorm}`,
      'training batches': `${o.steps} of ${o.batch} sequences (fresh data every batch)`,
      'test sequences': o.testSize,
    },
  });
}

/** A trailing moving average over `window` values. */
function smooth(values: readonly number[], window: number): number[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v - (i >= window ? values[i - window] : 0);
    return sum / Math.min(i + 1, window);
  });
}
