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
    // The command line: Node only, loads what the reports need.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    external: [/^@tensorflow\//, 'jsdom', '@observablehq/plot', 'commander', 'cli-progress'],
  },
]);
