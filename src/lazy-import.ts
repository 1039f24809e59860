/**
 * `import(name)` with a non-literal specifier, so bundlers leave Node-only and optional modules
 * (node:fs, jsdom, cli-progress, backend packages) out of browser builds; each is loaded only when
 * a feature that needs it is used.
 */
export const lazyImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** Node's `fs/promises` and `path`, loaded on first use. */
export async function nodeFs(): Promise<{ fs: Fs; path: Path }> {
  const [fs, path] = await Promise.all([lazyImport<Fs>('node:fs/promises'), lazyImport<Path>('node:path')]);
  return { fs, path };
}
