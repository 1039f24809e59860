/**
 * The WebGL page of the bench (bundled and driven by `./webgl.ts`): a bench run as in Node, in
 * Chromium on the WebGL backend. Reads which bench from `?bench=` (see {@link PageBenches}) and its
 * parameters from `?p=<json>`, and leaves the rows (or the error) on `window.__bench`.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { compareCell, type CompareRow } from './compare.js';
import { matMulPeak } from './flops.js';
import { modernRows, type ModernRow, type ModernSizes } from './modern-rows.js';
import type { Kind, Sizes } from './models.js';

/** The benches the page runs, by name: the parameters each takes and the rows it gives. */
export interface PageBenches {
  /** Ours against tfjs's layers (`./compare.ts`). */
  compare: { params: { cells: Kind[]; sizes: Sizes; rounds: number; plain: boolean }; rows: CompareRow[] };
  /** The modern cells at a long sequence (`./modern-rows.ts`). */
  modern: { params: { sizes: ModernSizes; rounds: number; loop: boolean }; rows: ModernRow[] };
}

export type PageResult = { rows: PageBenches[keyof PageBenches]['rows']; renderer: string } | { error: string };

declare global {
  interface Window {
    __bench?: PageResult;
  }
}

const BENCHES: { [B in keyof PageBenches]: (p: PageBenches[B]['params']) => Promise<PageBenches[B]['rows']> } = {
  async compare(p) {
    const peak = await matMulPeak();
    const rows: CompareRow[] = [];
    for (const cell of p.cells) {
      rows.push(await compareCell(cell, p.sizes, peak, { rounds: p.rounds, plain: p.plain, oneThread: false }));
      console.log(`webgl: ${cell} done (${tf.getBackend()})`);
    }
    return rows;
  },
  modern: (p) => modernRows(p.sizes, p.rounds, p.loop, (msg) => console.log(msg)),
};

async function main(): Promise<PageResult> {
  const query = new URLSearchParams(location.search);
  const bench = query.get('bench') as keyof PageBenches;
  if (!(bench in BENCHES)) throw new Error(`no bench ${bench} (expected ${Object.keys(BENCHES).join(', ')})`);
  const params = JSON.parse(query.get('p') ?? '{}') as PageBenches[typeof bench]['params'];
  await rt.backends.use('webgl');
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
  const run = BENCHES[bench] as (p: typeof params) => Promise<PageBenches[typeof bench]['rows']>;
  return { rows: await run(params), renderer };
}

main().then(
  (result) => (window.__bench = result),
  (e: Error) => (window.__bench = { error: e.stack ?? e.message }),
);
