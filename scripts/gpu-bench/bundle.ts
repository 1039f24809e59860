/**
 * One ES module file with everything `bench/gpu.ts` needs in Node (tfjs, the webgpu backend, our
 * `src`, the `webgpu` package's JavaScript), for a machine without node_modules:
 *
 *     npx tsx scripts/gpu-bench/bundle.ts gpu-carry/gpu-bench.mjs
 *
 * The `webgpu` package loads `dist/<platform>-<arch>/dawn.node` beside its own `index.js`; in the
 * bundle it loads `$DAWN_NODE`, or else `dawn.node` beside the bundle.
 */
import { readFile } from 'node:fs/promises';
import { build, type Plugin } from 'esbuild';

const out = process.argv[2] ?? 'gpu-carry/gpu-bench.mjs';

/** The path line of node_modules/webgpu/index.js (0.6.2), replaced below. */
const DAWN_PATH_LINE = "const dawnNodePath = join(__dirname, 'dist', `${process.platform}-${arch}`, 'dawn.node');";

const dawnBesideBundle: Plugin = {
  name: 'dawn-beside-bundle',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]webgpu[\\/]index\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes(DAWN_PATH_LINE)) {
        throw new Error(`${path}: the line that finds dawn.node has changed (webgpu is not 0.6.2?); update bundle.ts`);
      }
      return {
        contents: source.replace(
          DAWN_PATH_LINE,
          "const dawnNodePath = process.env.DAWN_NODE || join(__dirname, 'dawn.node');",
        ),
        loader: 'js',
      };
    });
  },
};

const result = await build({
  entryPoints: ['bench/gpu.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS inside an ES module bundle needs a real `require` for Node's built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // Optional or Node-only modules that tfjs and our src load at run time only when asked for.
  external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'node-fetch', 'jsdom', 'canvas'],
  plugins: [dawnBesideBundle],
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stderr.write(`bundle: ${out} ${(bytes / 2 ** 20).toFixed(1)} MiB\n`);
