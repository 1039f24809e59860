/**
 * `npm run bench [-- options]`: our recurrent path against tfjs's own layers (and brain.js on a
 * task), on the CPU and WASM backends. Writes `out/bench.json` and prints markdown tables (or the
 * JSON with `--json`); progress goes to stderr.
 *
 *     npm run bench                       # everything, a few minutes
 *     npm run bench -- --quick            # fewer rounds, shorter memory and brain.js runs
 *     npm run bench -- --backends wasm --cells lstm,gru --rounds 7 --plain --json
 *     npm run bench -- --webgl            # adds WebGL rows from headless Chromium (slow)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { brainReport } from './brain.js';
import { compareCell, type CompareRow } from './compare.js';
import { matMulPeak } from './flops.js';
import { memoryReport, type MemoryReport } from './memory.js';
import type { Kind, Sizes } from './models.js';
import { markdown, type BenchResults } from './report.js';
import { webglRows } from './webgl.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'wasm,cpu' },
    cells: { type: 'string', default: 'elman,lstm,gru' },
    rounds: { type: 'string' },
    batch: { type: 'string', default: '32' },
    time: { type: 'string', default: '50' },
    input: { type: 'string', default: '16' },
    units: { type: 'string', default: '128' },
    plain: { type: 'boolean', default: false },
    webgl: { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'no-brain': { type: 'boolean', default: false },
    out: { type: 'string', default: 'out/bench.json' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    [
      'npm run bench -- [options]',
      '  --backends wasm,cpu     backends to run (default both)',
      '  --cells elman,lstm,gru  cells to compare (default all)',
      '  --batch 32 --time 50 --input 16 --units 128   sizes',
      '  --rounds N              alternated timed rounds (default 5 on wasm, 3 on cpu; --quick 3 and 2)',
      '  --plain                 also time our plain per-step graph (unroll fast: false)',
      '  --webgl                 also compare on WebGL in headless Chromium (SwiftShader; slow, minutes)',
      '  --no-memory             skip the truncated-BPTT memory runs',
      '  --no-brain              skip the brain.js task comparison',
      '  --quick                 fewer rounds, shorter memory and brain.js runs',
      '  --json                  print the JSON instead of markdown',
      '  --out out/bench.json    where to write the JSON',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`bench: expected --${name} to be a positive integer, got ${v}`);
  return n;
};
const list = <T extends string>(name: string, v: string, allowed: readonly T[]) => {
  const items = v.split(',').filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length) throw new RangeError(`bench: unknown --${name} ${bad.join(', ')} (expected ${allowed.join(', ')})`);
  return items as T[];
};

const sizes: Sizes = {
  batch: int('batch', args.batch),
  time: int('time', args.time),
  input: int('input', args.input),
  units: int('units', args.units),
  output: 1,
};
const backends = list('backends', args.backends, ['wasm', 'cpu'] as const);
const cells = list('cells', args.cells, ['elman', 'lstm', 'gru'] as const);
const roundsFor = (backend: string) =>
  args.rounds ? int('rounds', args.rounds) : backend === 'cpu' ? (args.quick ? 2 : 3) : args.quick ? 3 : 5;

const compare: CompareRow[] = [];
const memory: MemoryReport[] = [];
for (const backend of backends) {
  await rt.backends.use(backend);
  const peak = await matMulPeak();
  log(`${backend}: 512x512 matMul ${peak.toFixed(2)} GFLOP/s`);
  for (const cell of cells as Kind[]) {
    log(`${backend}: ${cell} ...`);
    const row = await compareCell(cell, sizes, peak, { rounds: roundsFor(backend), plain: args.plain });
    log(
      `${backend}: ${cell} train ${row.trainMs.tfLayers.toFixed(0)} -> ${row.trainMs.ours.toFixed(0)} ms ` +
        `(${row.trainSpeedup.toFixed(2)}x, CPU time ${row.trainCpuSpeedup.toFixed(2)}x), forward ` +
        `${row.forwardSpeedup.toFixed(2)}x (CPU ${row.forwardCpuSpeedup.toFixed(2)}x), kernels/step ` +
        `${row.trainKernelsPerStep.tfLayers.toFixed(1)} -> ${row.trainKernelsPerStep.ours.toFixed(1)}`,
    );
    compare.push(row);
  }
  if (!args['no-memory'] && backend === backends[0]) {
    log(`${backend}: truncated BPTT memory ...`);
    memory.push(await memoryReport([100, 1000], 20, args.quick ? 200 : 1000));
  }
}
let renderer: string | undefined;
if (args.webgl) {
  log('webgl: in headless Chromium ...');
  const rounds = args.rounds ? int('rounds', args.rounds) : args.quick ? 2 : 3;
  const out = await webglRows({ cells: cells as Kind[], sizes, rounds, plain: args.plain }, log);
  renderer = out.renderer;
  for (const row of out.rows) {
    log(`webgl: ${row.cell} train ${row.trainSpeedup.toFixed(2)}x, forward ${row.forwardSpeedup.toFixed(2)}x`);
    compare.push(row);
  }
}
let brain = null;
if (!args['no-brain']) {
  log('brain.js task ...');
  brain = await brainReport(backends, { budgetS: args.quick ? 15 : 30 });
}

const results: BenchResults = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString().slice(0, 10),
  node: process.versions.node,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
  compare,
  ...(renderer ? { webglRenderer: renderer } : {}),
  memory,
  brain,
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(results, null, 2));
log(`wrote ${args.out} (tfjs ${tf.version.tfjs})`);
process.stdout.write(args.json ? `${JSON.stringify(results, null, 2)}\n` : `${markdown(results)}\n`);
