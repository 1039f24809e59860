import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// dist/ is emptied once, before the three builds start: tsup's own `clean` belongs to one build and
// can run after another build has written its files (a loaded CI machine lost dist/plot.d.ts so).
rmSync('dist', { recursive: true, force: true });

export default defineConfig([
  {
    // The library: ESM + CommonJS with .d.ts. tfjs stays external (one engine per app).
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' } },
    sourcemap: true,
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
