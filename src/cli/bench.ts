/**
 * `tfjs-recurrent bench`: the same seeded network timed on several backends. Node backends run in
 * this process; browser backends (`webgl`, `webgpu`, and `wasm-browser`, `cpu-browser`) run in
 * headless Chromium, on a page bundled from the package's public entry. Each place compares its
 * backends with its own CPU backend, from the same weights and inputs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  bundleForBrowser,
  findChromium,
  INSTALL_CHROMIUM,
  launchChromium,
  openPage,
  serve,
  wasmDir,
} from '../backends/chromium.js';
import * as rt from '../index.js';
import { barChart } from '../plot/index.js';
import { checkWritable, command, displayPath, integer, positiveInt, printJson } from './command.js';
import { textTable } from './table.js';

type Where = 'node' | 'chromium';

/** One row of the report: a {@link rt.backends.CompareRow} and where it ran. */
export type BenchRow = rt.backends.CompareRow & { where: Where };

interface BenchCommandOptions {
  backends: string;
  cell: string;
  units: number;
  inputSize: number;
  time: number;
  batch: number;
  steps: number;
  seed: number;
  json?: boolean;
  chart?: string;
}

/** `--backends` names: where each runs and the TensorFlow.js backend it starts there. */
const TARGETS: Record<string, { where: Where; backend: string }> = {
  cpu: { where: 'node', backend: 'cpu' },
  wasm: { where: 'node', backend: 'wasm' },
  tensorflow: { where: 'node', backend: 'tensorflow' },
  webgl: { where: 'chromium', backend: 'webgl' },
  webgpu: { where: 'chromium', backend: 'webgpu' },
  'wasm-browser': { where: 'chromium', backend: 'wasm' },
  'cpu-browser': { where: 'chromium', backend: 'cpu' },
};

/** Adds `bench` to the command line. */
export function registerBench(program: Command): void {
  const d = rt.backends.BENCHMARK_DEFAULTS;
  program.addCommand(
    command(
      'bench',
      'Time one seeded network (forward pass, training step) on several backends and check that they agree with ' +
        'the CPU; browser backends run in headless Chromium',
    )
      .option(
        '--backends <list>',
        'comma-separated: cpu, wasm, tensorflow (Node); webgl, webgpu, wasm-browser, cpu-browser (headless Chromium)',
        'cpu,wasm,webgl',
      )
      .option('--cell <kind>', 'elman, lstm or gru', 'lstm')
      .option('--units <n>', 'hidden units', positiveInt, d.units)
      .option('--input-size <n>', 'input features per step', positiveInt, d.inputSize)
      .option('--time <n>', 'time steps per sequence', positiveInt, d.time)
      .option('--batch <n>', 'sequences per batch', positiveInt, d.batch)
      .option('--steps <n>', 'timed repetitions (the median is reported)', positiveInt, d.steps)
      .option('--seed <n>', 'seed of the weights and the data', integer, d.seed)
      .option('--chart <file.svg>', 'also draw the timings as a bar chart (SVG)')
      .option(
        '--json',
        'print {"rows":[{"backend","where","forwardMs","trainStepMs","maxAbsDiffVsCpu","kernelsPerStep","renderer"?}]} as the last line',
      )
      .action((options: BenchCommandOptions, cmd: Command) =>
        benchCommand(options, cmd.getOptionValueSource('backends') === 'default'),
      ),
  );
}

/**
 * What headless Chromium needs and is missing here (Chromium itself, esbuild, playwright-core),
 * each with how to install it.
 */
function missingBrowserTools(): string[] {
  const missing = findChromium() ? [] : [`Chromium (${INSTALL_CHROMIUM})`];
  for (const name of ['esbuild', 'playwright-core']) {
    try {
      import.meta.resolve(name);
    } catch {
      missing.push(`${name} (npm install --save-dev ${name})`);
    }
  }
  return missing;
}

/**
 * Runs the benchmark; `defaultBackends`: `--backends` was left out, so browser backends that
 * cannot run here are left out with a note (named ones are refused before anything runs).
 */
async function benchCommand(o: BenchCommandOptions, defaultBackends: boolean): Promise<void> {
  const cell = rt.cells.CELL_KINDS.find((k) => k === o.cell);
  if (!cell) throw new Error(`bench: --cell must be one of ${rt.cells.CELL_KINDS.join(', ')}, got '${o.cell}'`);
  let names = o.backends.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !TARGETS[n]);
  if (unknown.length || names.length === 0) {
    throw new Error(
      `bench: unknown backend '${unknown[0] ?? ''}'; --backends takes ${Object.keys(TARGETS).join(', ')}`,
    );
  }
  let inBrowser = names.filter((n) => TARGETS[n].where === 'chromium');
  const missing = inBrowser.length ? missingBrowserTools() : [];
  let skipped = '';
  if (missing.length) {
    const why = `${inBrowser.join(', ')} run${inBrowser.length > 1 ? '' : 's'} in headless Chromium, which needs ${missing.join(', ')}`;
    if (!defaultBackends) throw new Error(`bench: ${why}; or leave ${inBrowser.join(', ')} out of --backends`);
    skipped = `left out ${inBrowser.join(', ')}: ${why}; add them with --backends ${o.backends} once installed`;
    names = names.filter((n) => !inBrowser.includes(n));
    inBrowser = [];
  }
  if (o.chart) await checkWritable('bench', '--chart', o.chart, { what: 'a chart', charts: true });
  const setup = {
    cell,
    units: o.units,
    inputSize: o.inputSize,
    time: o.time,
    batch: o.batch,
    steps: o.steps,
    seed: o.seed,
  };
  const say = (line: string) => o.json || console.error(line);
  say(`${cell}: ${o.units} units, input [${o.batch}, ${o.time}, ${o.inputSize}], median of ${o.steps} steps`);

  const byName = new Map<string, BenchRow>();
  const inNode = names.filter((n) => TARGETS[n].where === 'node');
  if (inNode.length) {
    say(`node: ${inNode.join(', ')}`);
    const rows = await rt.backends.benchmark({ ...setup, backends: inNode.map((n) => TARGETS[n].backend) });
    inNode.forEach((n, i) => byName.set(n, placed(rows[i], 'node')));
  }
  if (inBrowser.length) {
    const note = inBrowser.includes('webgl') ? ' (the first WebGL steps compile shaders)' : '';
    say(`headless Chromium: ${inBrowser.join(', ')}${note}`);
    const rows = await benchmarkInChromium({ ...setup, backends: inBrowser.map((n) => TARGETS[n].backend) });
    inBrowser.forEach((n, i) => byName.set(n, placed(rows[i], 'chromium')));
  }
  const rows = names.map((n) => byName.get(n)!);
  if (skipped) console.error(skipped);

  if (o.chart) {
    await writeFile(
      o.chart,
      await benchChart(rows, `${cell}, ${o.units} units, input [${o.batch}, ${o.time}, ${o.inputSize}]`),
    );
    say(`chart: ${displayPath(o.chart)}`);
  }
  if (o.json) {
    printJson({ rows });
    return;
  }
  console.log(
    textTable(
      ['backend', 'where', 'forward ms', 'train step ms', 'max |Δ| vs cpu', 'kernels/step', 'renderer'],
      rows.map((r) => [
        r.backend,
        r.where,
        r.forwardMs,
        r.trainStepMs,
        r.maxAbsDiffVsCpu,
        r.kernelsPerStep,
        r.renderer ?? '',
      ]),
    ),
  );
}

/** The row with `where` after `backend` (the order of the `--json` keys). */
function placed(row: rt.backends.CompareRow, where: Where): BenchRow {
  const { backend, ...measures } = row;
  return { backend, where, ...measures };
}

/**
 * Runs `rt.backends.benchmark` in a headless Chromium page bundled from the built package (the
 * WASM backend registered by the page, its `.wasm` files served beside it).
 */
async function benchmarkInChromium(options: rt.backends.BenchmarkOptions): Promise<rt.backends.CompareRow[]> {
  const site = await mkdtemp(join(tmpdir(), 'tfjs-recurrent-bench-'));
  try {
    await bundleForBrowser({
      contents: [
        "import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';",
        ...(options.backends.includes('webgpu') ? ["import '@tensorflow/tfjs-backend-webgpu';"] : []),
        "import * as rt from 'tfjs-recurrent';",
        "setWasmPaths('/wasm/');",
        'window.benchmark = (options) => rt.backends.benchmark(options);',
      ].join('\n'),
      outfile: join(site, 'bench.js'),
    });
    await writeFile(
      join(site, 'index.html'),
      '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>',
    );
    const server = await serve({ '/': site, '/wasm/': wasmDir() });
    const browser = await launchChromium();
    try {
      const { page, firstError } = await openPage(browser, `${server.url}/`, () => {});
      await page.waitForFunction(() => 'benchmark' in window);
      const run = page.evaluate(
        (o) => (window as unknown as { benchmark(o: unknown): Promise<rt.backends.CompareRow[]> }).benchmark(o),
        options,
      );
      return await Promise.race([run, firstError.then((e) => Promise.reject(e))]);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}

/** Forward and training-step times per backend, grouped bars on a log axis. */
function benchChart(rows: BenchRow[], title: string): Promise<string> {
  const label = (r: BenchRow) => (r.where === 'node' ? r.backend : `${r.backend} (chromium)`);
  return barChart({
    title: `Backends: ${title}`,
    yLabel: 'milliseconds (median)',
    logY: true,
    bars: rows.flatMap((r) => [
      { label: label(r), value: r.forwardMs, group: 'forward' },
      { label: label(r), value: r.trainStepMs, group: 'training step' },
    ]),
  });
}
