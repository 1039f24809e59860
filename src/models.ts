/**
 * `rt.models`: the trained models that ship in the package's `models/` folder (each a folder with
 * `model.json`, its weights, a card `README.md` and `metrics.json`), found where the package is
 * installed (`node_modules/tfjs-recurrent/models/<name>`), not relative to the working directory.
 *
 * Node only: in a browser the files are not on a disk the page can read; serve the folder with the
 * app and load it by URL (`rt.loadNetwork('/models/names-lstm/model.json')`).
 */
import { isNode, nodeOnly } from './lazy-import.js';
import { show } from './check/index.js';
import { loadNetwork } from './network-io.js';
import type { RecurrentNetwork } from './network.js';

/** The models the package ships, by folder name. */
export const MODEL_NAMES = ['adding-lstm', 'names-lstm', 'co2-gru', 'shakespeare-gru', 'mnist-rows-lstm'] as const;

/** The name of a model the package ships. */
export type ModelName = (typeof MODEL_NAMES)[number];

declare const __dirname: string | undefined;

/** The folder this module is in: `dist/` when installed, `src/` in the repository. */
function moduleDir(where: string): string {
  if (!isNode()) {
    throw nodeOnly(
      where,
      'the shipped models folder',
      "serve node_modules/tfjs-recurrent/models/<name> with the app and load it by URL: rt.loadNetwork('/models/<name>/model.json')",
    );
  }
  // The CommonJS build has __dirname; the ESM build and the sources have import.meta.url.
  // (Not `new URL('.', import.meta.url)`: bundlers would take that for an asset to copy.)
  if (typeof __dirname === 'string') return __dirname;
  const file = decodeURIComponent(new URL(import.meta.url).pathname);
  const dir = file.slice(0, file.lastIndexOf('/'));
  return /^\/[A-Za-z]:/.test(dir) ? dir.slice(1) : dir;
}

/**
 * The absolute path of the shipped model `name`'s folder, e.g.
 * `/app/node_modules/tfjs-recurrent/models/names-lstm`. Node only.
 *
 * ```ts
 * const net = await rt.loadNetwork(`file://${rt.models.path('adding-lstm')}`);
 * ```
 */
export function path(name: ModelName): string {
  const where = 'models.path';
  if (!(MODEL_NAMES as readonly unknown[]).includes(name)) {
    throw new Error(`${where}: no model named ${show(name)}; the package ships ${MODEL_NAMES.join(', ')}`);
  }
  const dir = moduleDir(where).replace(/[\\/]+$/, '');
  const root = dir.replace(/[\\/][^\\/]+$/, '');
  return `${root}/models/${name}`;
}

/** Loads the shipped model `name` as a {@link RecurrentNetwork}. Node only. */
export function load(name: ModelName): Promise<RecurrentNetwork> {
  return loadNetwork(`file://${path(name)}`);
}
