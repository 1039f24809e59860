/**
 * `npm run bench [-- options]`: our recurrent path against tfjs's own layers (and brain.js on a
 * task), on the CPU and WASM backends. Writes `out/bench.json` and prints markdown tables (or the
 * JSON with `--json`); progress goes to stderr.
 *
 *     npm run bench                       # everything, a few minutes
 *     npm run bench -- --quick            # fewer rounds, shorter memory and brain.js runs
 *     npm run bench -- --backends wasm --cells lstm,gru --rounds 7 --plain --json
 *     npm run bench -- --webgl            # adds WebGL rows from headless Chromium (slow)
 *
 * Our whole-sequence kernels run their relaxed-SIMD build (fused multiply-add) where the runtime
 * has relaxed SIMD (Node 22; on Node 20: `node --experimental-wasm-relaxed-simd --import tsx
 * bench/run.ts`), else their SIMD build; the tables name the one that ran.
 *
 * Where `/usr/bin/python3` has torch (Debian's `python3-torch`), PyTorch on one thread runs the same
 * sizes beside us, its runs alternated with ours (`bench/torch.ts`; `--no-torch` leaves it out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { sequenceModuleBuild } from '../src/fast/wasm/module.js';
import { brainReport } from './brain.js';
import { compareCell, type CompareRow } from './compare.js';
import { matMulPeak } from './flops.js';
import { memoryReport, type MemoryReport } from './memory.js';
import { modernBench } from './modern.js';
import type { Kind, Sizes } from './models.js';
import { markdown, type BenchResults } from './report.js';
import { streamRow, type StreamRow } from './stream.js';
import { TorchProcess, torchVersion } from './torch.js';
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
    threads: { type: 'string' },
    webgl: { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'no-brain': { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    'no-stream': { type: 'boolean', default: false },
    'no-modern': { type: 'boolean', default: false },
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
      '  --rounds N              alternated timed rounds (default 5 on wasm, 3 on cpu; --quick 3 and 2;\n' +
        '                          the modern cells 5, --quick 2; their webgl rows 3 at most)',
      '  --plain                 also time our plain per-step graph (unroll fast: false)',
      '  --threads N             threads of our cpu/wasm kernels (default: the cores, at most 4); with more than 1,\n' +
        '                          ours on one thread is timed beside',
      '  --webgl                 also compare on WebGL in headless Chromium (SwiftShader; slow, minutes)',
      '  --no-memory             skip the truncated-BPTT memory runs',
      '  --no-brain              skip the brain.js task comparison',
      '  --no-torch              skip PyTorch (one thread; run where /usr/bin/python3 has torch)',
      '  --no-stream             skip the streaming rows (net.stepper, µs per step, batch 1)',
      '  --no-modern             skip the modern cells at T = 512 (bench/modern.ts; --plain adds their step loops, --webgl their webgl rows)',
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

const kernelThreads = await rt.backends.setKernelThreads(args.threads ? int('threads', args.threads) : undefined);
log(`our cpu/wasm kernels on ${kernelThreads} thread${kernelThreads > 1 ? 's' : ''}`);
const torchFound = args['no-torch'] ? null : torchVersion();
const torch = torchFound ? new TorchProcess() : undefined;
if (torchFound) log(`PyTorch ${torchFound} on one thread beside us`);
const compare: CompareRow[] = [];
const memory: MemoryReport[] = [];
const stream: StreamRow[] = [];
for (const backend of backends) {
  await rt.backends.use(backend);
  const peak = await matMulPeak();
  log(`${backend}: 512x512 matMul ${peak.toFixed(2)} GFLOP/s`);
  for (const cell of cells as Kind[]) {
    log(`${backend}: ${cell} ...`);
    const oneThread = kernelThreads > 1;
    const row = await compareCell(cell, sizes, peak, {
      rounds: roundsFor(backend),
      plain: args.plain,
      torch,
      oneThread,
    });
    log(
      `${backend}: ${cell} train ${row.trainMs.tfLayers.toFixed(0)} -> ${row.trainMs.ours.toFixed(0)} ms ` +
        `(${row.trainSpeedup.toFixed(2)}x, CPU time ${row.trainCpuSpeedup.toFixed(2)}x), forward ` +
        `${row.forwardSpeedup.toFixed(2)}x (CPU ${row.forwardCpuSpeedup.toFixed(2)}x), kernels/step ` +
        `${row.trainKernelsPerStep.tfLayers.toFixed(1)} -> ${row.trainKernelsPerStep.ours.toFixed(1)}, ` +
        `parts run by helper threads ${row.helperParts}`,
    );
    compare.push(row);
    if (!args['no-stream']) {
      const s = await streamRow(cell, sizes.units, roundsFor(backend), torch);
      log(
        `${backend}: ${cell} streaming ${Object.entries(s.us)
          .map(([k, v]) => `${k} ${v.toFixed(1)} µs`)
          .join(', ')}`,
      );
      stream.push(s);
    }
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
  const out = await webglRows('compare', { cells: cells as Kind[], sizes, rounds, plain: args.plain }, log);
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
torch?.close();

const results: BenchResults = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString().slice(0, 10),
  node: process.versions.node,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
  compare,
  torch: torchFound,
  wasmKernels: sequenceModuleBuild(),
  kernelThreads,
  stream,
  ...(renderer ? { webglRenderer: renderer } : {}),
  memory,
  brain,
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(results, null, 2));
log(`wrote ${args.out} (tfjs ${tf.version.tfjs})`);
process.stdout.write(args.json ? `${JSON.stringify(results, null, 2)}\n` : `${markdown(results)}\n`);
if (!args['no-modern']) {
  const rounds = args.rounds ? int('rounds', args.rounds) : args.quick ? 2 : 5;
  const modernBackends = args.webgl ? [...backends, 'webgl'] : backends;
  await modernBench(modernBackends, { rounds, loop: args.plain, json: args.json, out: 'out/bench-modern.json' }, log);
}
