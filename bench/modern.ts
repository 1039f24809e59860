/**
 * The modern cells' training speed at a long sequence (T = 512 by default), on each backend: the
 * rows of `./modern-rows.ts` (minGRU, minLSTM, the LRU and IndRNN beside our LSTM, one training
 * step each). webgl runs in headless Chromium (`./webgl.ts`; SwiftShader on a machine without a
 * GPU), timed in wall-clock time: there its LSTM step alone takes 7 to 15 s at T = 512, the whole
 * webgl run with 3 rounds (after a warm-up) about 2.5 minutes, 3 with `--loop` (2 shared cores):
 * webgl keeps the size of the other backends, and runs 3 rounds at most.
 *
 *     npx tsx bench/modern.ts [--backends wasm,cpu,webgl] [--time 512] [--units 128] [--rounds 3] [--loop] [--json]
 *
 * writes `out/bench-modern.json`. `npm run bench` runs it too, after its own tables (`--no-modern`
 * leaves it out; `--plain` adds the step loops, `--webgl` the webgl rows).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as rt from '../src/index.js';
import { modernMarkdown, modernRows, type ModernRow } from './modern-rows.js';
import { webglRows } from './webgl.js';

/**
 * Every backend in turn, written to `out` and printed (markdown, or JSON with `json`). `loop` also
 * times the step loop (`fast: false`) of the modern cells, slow at this length.
 */
export async function modernBench(
  backends: readonly string[],
  options: { time?: number; units?: number; rounds: number; loop: boolean; json: boolean; out: string },
  log: (msg: string) => void,
): Promise<ModernRow[]> {
  const rows: ModernRow[] = [];
  const sizes = { batch: 32, time: options.time ?? 512, input: 16, units: options.units ?? 128 };
  let renderer: string | undefined;
  // Every kernel on one thread (the fused scans and the LSTM's alike): on more, the CPU time
  // compared would count the helpers' waiting for their next part.
  const threads = rt.backends.kernelThreads();
  await rt.backends.setKernelThreads(1);
  for (const backend of backends) {
    if (backend === 'webgl') {
      log('webgl: the modern cells in headless Chromium ...');
      const rounds = Math.min(options.rounds, 3);
      const out = await webglRows('modern', { sizes, rounds, loop: options.loop }, log);
      renderer = out.renderer;
      rows.push(...out.rows);
    } else {
      await rt.backends.use(backend);
      rows.push(...(await modernRows(sizes, options.rounds, options.loop, log)));
    }
  }
  await rt.backends.setKernelThreads(threads);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(rows, null, 2));
  log(`wrote ${options.out}`);
  process.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${modernMarkdown(rows, renderer)}\n`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'wasm,cpu' },
      time: { type: 'string', default: '512' },
      units: { type: 'string', default: '128' },
      rounds: { type: 'string', default: '3' },
      loop: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'out/bench-modern.json' },
    },
  });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const [time, units, rounds] = [values.time, values.units, values.rounds].map(Number);
  await modernBench(values.backends.split(','), { ...values, time, units, rounds }, log);
}
