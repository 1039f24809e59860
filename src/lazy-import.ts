/**
 * `import(name)` with a non-literal specifier, so bundlers leave Node-only and optional modules
 * (node:fs, jsdom, cli-progress, backend packages) out of browser builds; each is loaded only when
 * a feature that needs it is used.
 */
export const lazyImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** Whether this is Node (not a browser page or worker). */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * The error for a feature that needs Node, thrown before anything runs, e.g.
 * `train: checkpoint needs Node (files on disk); in a browser leave it out`.
 */
export function nodeOnly(where: string, feature: string, instead: string): Error {
  return new Error(`${where}: ${feature} needs Node, and this is a browser; ${instead}`);
}

/** Node's `fs/promises` and `path`, loaded on first use; a clear error in a browser. */
export async function nodeFs(): Promise<{ fs: Fs; path: Path }> {
  if (!isNode()) {
    throw nodeOnly(
      'tfjs-recurrent',
      'reading and writing files (file:// paths, checkpoint, resume, loadCheckpoint)',
      "save with a tf.io handler instead ('indexeddb://name', 'downloads://name') and train without checkpoint",
    );
  }
  const [fs, path] = await Promise.all([lazyImport<Fs>('node:fs/promises'), lazyImport<Path>('node:path')]);
  return { fs, path };
}

/**
 * The optional peer dependencies: packages that only the command line, the charts and the
 * progress bars need, so that installing the library does not install them.
 */
export type OptionalPeer = 'commander' | 'cli-progress' | '@observablehq/plot' | 'jsdom';

/**
 * The message for an optional peer that is not installed, e.g. `the optional package jsdom is not
 * installed (it is needed for charts in Node): npm install jsdom`.
 */
export function missingPeer(name: OptionalPeer, use: string): string {
  return `the optional package ${name} is not installed (it is needed for ${use}): npm install ${name}`;
}

/** Whether `err` says that the package `name` itself could not be found (not one of its imports failing). */
export function isMissingPackage(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND')) return false;
  return String(e.message).includes(`'${name}'`);
}

/**
 * Loads the optional peer `name` (its default export when it has one, as CommonJS packages do),
 * needed for `use`, or throws {@link missingPeer}'s message when it is not installed.
 */
export async function optionalPeer<T>(name: OptionalPeer, use: string): Promise<T> {
  try {
    const module = await lazyImport<T & { default?: T }>(name);
    return module.default ?? module;
  } catch (err) {
    if (isMissingPackage(err, name)) throw new Error(missingPeer(name, use), { cause: err });
    throw err;
  }
}
