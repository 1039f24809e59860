/**
 * The WebGL page of the bench (bundled and driven by `./webgl.ts`): the same comparison as in
 * Node, in Chromium on the WebGL backend. Reads its sizes from `?p=<json>` and leaves the rows
 * (or the error) on `window.__bench`.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { compareCell, type CompareRow } from './compare.js';
import { matMulPeak } from './flops.js';
import type { Kind, Sizes } from './models.js';

export interface PageParams {
  cells: Kind[];
  sizes: Sizes;
  rounds: number;
  plain: boolean;
}

export type PageResult = { rows: CompareRow[]; renderer: string } | { error: string };

declare global {
  interface Window {
    __bench?: PageResult;
  }
}

async function main(): Promise<PageResult> {
  const p = JSON.parse(new URLSearchParams(location.search).get('p') ?? '{}') as PageParams;
  await rt.backends.use('webgl');
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
  const peak = await matMulPeak();
  const rows: CompareRow[] = [];
  for (const cell of p.cells) {
    rows.push(await compareCell(cell, p.sizes, peak, { rounds: p.rounds, plain: p.plain }));
    console.log(`webgl: ${cell} done (${tf.getBackend()})`);
  }
  return { rows, renderer };
}

main().then(
  (result) => (window.__bench = result),
  (e: Error) => (window.__bench = { error: e.stack ?? e.message }),
);
