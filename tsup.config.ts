import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM + CommonJS with .d.ts. tfjs stays external (one engine per app).
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' } },
    sourcemap: true,
    clean: true,
    target: 'es2020',
    platform: 'neutral',
    external: [/^@tensorflow\//, /^node:/],
  },
  {
    // `tfjs-recurrent/plot`: charts as SVG (Observable Plot; jsdom in Node, loaded lazily). A separate
    // entry so that the library itself loads neither.
    entry: { plot: 'src/plot/index.ts' },
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' } },
    sourcemap: true,
    target: 'es2020',
    platform: 'neutral',
    external: ['@observablehq/plot', 'jsdom'],
  },
  {
    // The command line: Node only, loads what the reports need.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    external: [/^@tensorflow\//, 'jsdom', '@observablehq/plot', 'commander', 'cli-progress'],
  },
]);
