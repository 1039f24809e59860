/**
 * The layering of src/, checked by `npm run lint` (`npx depcruise src --config .dependency-cruiser.cjs`).
 * Type-only imports count as much as value imports.
 *
 * From the bottom up:
 *   check/, activations, init, lazy-import, progress,  helpers (check/values.ts loads no TensorFlow.js,
 *   sum, read                                          progress loads cli-progress only to draw a bar;
 *                                                      sum adds many tensors at most 7 per op, read
 *                                                      reads tensors back, synchronously only off the GPU)
 *   cells/, fast/                            the equations and their fast path
 *   unroll, output                           the loop over time; the output function
 *   io/, layers/, interop/                   files and formats; tf.layers; weights in and out
 *   network                                  a cell plus the output function
 *   network-io, objective/                   loading into a network (the `rt.io` namespace); loss and
 *                                            trainable model
 *   train/, diagnostics/, backends/, data/   the faces; none leans on another
 *   index                                    the package
 *   plot/, cli/                              the `plot` entry and the command line (the bin entry)
 */
/** `^src/(a|b)/` or `^src/(a|b)\.ts$`: folders and top-level modules of src by name. */
const folders = (...names) => `^src/(${names.join('|')})/`;
const modules = (...names) => `^src/(${names.join('|')})\\.ts$`;
const either = (...patterns) => patterns.join('|');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules of src import each other (value or type imports): move the shared part below both.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'This import names a module that does not exist.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'cells-below-everything',
      comment:
        'cells/ holds the equations: it may use check/, activations, init and itself, not the fast path, ' +
        'the loop, the network or the faces above them.',
      severity: 'error',
      from: { path: '^src/cells/' },
      to: {
        path: either(
          folders('fast', 'layers', 'train', 'diagnostics', 'interop', 'io', 'cli', 'plot', 'backends', 'objective'),
          modules('unroll', 'network', 'network-io', 'output', 'progress', 'index'),
        ),
      },
    },
    {
      name: 'unroll-below-the-network',
      comment: 'unroll.ts is the loop over time, below the network and every face that uses it.',
      severity: 'error',
      from: { path: modules('unroll') },
      to: {
        path: either(
          folders('layers', 'train', 'diagnostics', 'interop', 'io', 'cli', 'plot', 'backends', 'objective'),
          modules('network', 'network-io', 'progress', 'index'),
        ),
      },
    },
    {
      name: 'io-below-the-network',
      comment:
        'io/ reads and writes a network as { config, params }; building the RecurrentNetwork happens above it ' +
        '(network.ts, network-io.ts).',
      severity: 'error',
      from: { path: '^src/io/' },
      to: {
        path: either(
          folders('layers', 'train', 'diagnostics', 'interop', 'cli', 'plot', 'backends', 'objective'),
          modules('network', 'network-io', 'progress', 'index'),
        ),
      },
    },
    {
      name: 'interop-below-the-network',
      comment:
        'interop/ converts weights and files below the network (network.ts builds its tfjs model with ' +
        'interop/layers-model.ts); only the entries that hand back a RecurrentNetwork sit above it: ' +
        'interop/index.ts, interop/files.ts (rt.interop.load) and interop/onnx/network.ts.',
      severity: 'error',
      from: { path: '^src/interop/', pathNot: '^src/interop/(index|files)\\.ts$|^src/interop/onnx/network\\.ts$' },
      to: {
        path: either(
          folders('train', 'diagnostics', 'cli', 'plot', 'backends', 'objective'),
          modules('network', 'network-io', 'index'),
        ),
      },
    },
    {
      name: 'objective-below-train-and-diagnostics',
      comment: 'objective/ (loss, trainable model) serves train/ and diagnostics/, so it imports neither.',
      severity: 'error',
      from: { path: '^src/objective/' },
      to: { path: folders('train', 'diagnostics', 'cli', 'plot') },
    },
    {
      name: 'faces-do-not-lean-on-each-other',
      comment: 'train/, diagnostics/ and backends/ share what they need through the modules below them.',
      severity: 'error',
      from: { path: '^src/(train|diagnostics|backends)/' },
      to: { path: '^src/(train|diagnostics|backends)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-cli-imports-cli',
      comment: 'cli/ is the command line, loaded by the bin entry (bin/tfjs-recurrent.js -> dist/cli.js) only.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'only-cli-imports-plot',
      comment: 'plot/ is the separate `tfjs-recurrent/plot` entry (src/plot/index.ts); only cli/ uses it within src.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|plot)/' },
      to: { path: '^src/plot/' },
    },
    {
      name: 'plot-without-tfjs',
      comment:
        'The plot entry bundles everything it imports except Observable Plot and jsdom: it must not load ' +
        'TensorFlow.js (checks come from check/values.ts, not check/index.ts).',
      severity: 'error',
      from: { path: '^src/plot/' },
      to: { path: either('^src/check/(index|tensors)\\.ts$', '@tensorflow/'), reachable: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/.*\\.d\\.ts$' },
  },
};
