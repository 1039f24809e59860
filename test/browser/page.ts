/**
 * The in-page suite's entry (mocha itself comes from mocha's browser build, loaded by a script
 * tag). The runner (scripts/browser-test.ts) bundles it with esbuild, with
 * `tfjs-recurrent` resolved to the built package, and opens it once per backend. It starts the
 * backend with `rt.backends.use` (the WASM files are served from `/wasm/`), runs mocha and
 * leaves the results on `window.__results` for the runner.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Registers `webgpu` where the page has navigator.gpu (Chromium with --enable-unsafe-webgpu).
import '@tensorflow/tfjs-backend-webgpu';
import * as rt from 'tfjs-recurrent';
import { requestedBackend } from './requested.js';
import { backendsSuite } from './backends.browser.js';
import { cellParitySuite } from './cells.browser.js';
import { layersSuite } from './layers.browser.js';
import { modernSuite } from './modern.browser.js';
import { networkSuite } from './network.browser.js';
import { readsSuite } from './reads.browser.js';
import { trainingSuite } from './train.browser.js';
import { workerSuite } from './worker.browser.js';

export interface PageResults {
  backend: string;
  passed: { title: string; ms: number }[];
  failed: { title: string; error: string }[];
}

declare global {
  interface Window {
    __results?: PageResults;
  }
}

async function main(): Promise<void> {
  const backend = requestedBackend();
  const results: PageResults = { backend, passed: [], failed: [] };
  try {
    setWasmPaths('/wasm/');
    await rt.backends.use(backend);
  } catch (e) {
    results.failed.push({ title: `start the ${backend} backend`, error: (e as Error).message });
    window.__results = results;
    return;
  }
  mocha.setup({ ui: 'bdd', timeout: 120_000 });
  const suites = [
    cellParitySuite,
    networkSuite,
    trainingSuite,
    readsSuite,
    layersSuite,
    modernSuite,
    backendsSuite,
    workerSuite,
  ];
  for (const suite of suites) suite();
  // Every test must run on the backend asked for: tfjs falls back silently otherwise.
  afterEach(function () {
    if (tf.getBackend() !== backend) {
      throw new Error(
        `the backend changed to ${tf.getBackend()} during "${this.currentTest?.title}" (asked for ${backend})`,
      );
    }
  });
  const runner = mocha.run();
  runner.on('pass', (test) => results.passed.push({ title: test.fullTitle(), ms: test.duration ?? 0 }));
  runner.on('fail', (test, err: Error) =>
    results.failed.push({ title: test.fullTitle(), error: err.stack ?? err.message }),
  );
  runner.on('end', () => (window.__results = results));
}

void main();
