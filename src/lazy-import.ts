/**
 * `import(name)` with a non-literal specifier, so bundlers leave Node-only modules (node:fs,
 * cli-progress) out of browser builds; they are loaded only when a Node-only feature is used.
 */
export const lazyImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
