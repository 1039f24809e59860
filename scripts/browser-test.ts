/**
 * The browser suite's runner (`bash scripts/test-browser.sh`): bundles test/browser/page.ts with
 * esbuild (`tfjs-recurrent` resolves to the built dist/, as in an app), with the worker script of
 * examples/worker, serves it from 127.0.0.1
 * with the PyTorch fixtures and the tfjs WASM files, and runs the in-page mocha suite in headless
 * Chromium once per backend (webgpu: Chromium's SwiftShader adapter, `--enable-unsafe-webgpu`).
 * Prints each test, then a last line `N passed, N failed`; exits 1 on any failure.
 *
 * Usage: `tsx scripts/browser-test.ts [backend ...]` (default: webgl wasm cpu webgpu).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { bundleForBrowser, launchChromium, openPage, packageRoot, serve, wasmDir } from '../src/backends/chromium.js';
import { FIXTURE_NAMES, loadFixture } from '../test/helpers/fixtures.js';
import type { PageResults } from '../test/browser/page.js';

const BACKENDS = process.argv.slice(2).length ? process.argv.slice(2) : ['webgl', 'wasm', 'cpu', 'webgpu'];
/** Per backend: the first WebGL run compiles its shaders, software GL is slow. */
const PAGE_TIMEOUT_MS = 240_000;

async function main(): Promise<number> {
  const root = packageRoot();
  const site = await mkdtemp(join(tmpdir(), 'tfjs-recurrent-browser-'));
  try {
    await buildSite(root, site);
    const mochaDir = dirname(createRequire(join(root, 'package.json')).resolve('mocha/mocha.js'));
    const server = await serve({ '/': site, '/wasm/': wasmDir(), '/mocha/': mochaDir });
    try {
      const { passed, failed } = await runPages(server.url);
      console.log(`${passed} passed, ${failed} failed`);
      return failed === 0 && passed > 0 ? 0 : 1;
    } finally {
      await server.close();
    }
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}

/** The page bundle, the fixtures in one file, and the HTML that loads mocha and the bundle. */
async function buildSite(root: string, site: string): Promise<void> {
  const t0 = Date.now();
  await bundleForBrowser({ entry: join(root, 'test', 'browser', 'page.ts'), outfile: join(site, 'page.js') });
  // The worker of examples/worker, which test/browser/worker.browser.ts starts.
  const worker = join(root, 'examples', 'worker', 'train-worker.ts');
  await bundleForBrowser({ entry: worker, outfile: join(site, 'train-worker.js') });
  const fixtures = Object.fromEntries(FIXTURE_NAMES.map((n) => [n, loadFixture(n)]));
  await writeFile(join(site, 'fixtures.json'), JSON.stringify(fixtures));
  await writeFile(
    join(site, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>tfjs-recurrent browser suite</title>' +
      '<div id="mocha"></div><script src="/mocha/mocha.js"></script><script type="module" src="/page.js"></script>',
  );
  console.log(`bundled test/browser/page.ts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Opens the suite once per backend and prints each test; returns the totals. */
async function runPages(url: string): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  const browser = await launchChromium();
  try {
    for (const backend of BACKENDS) {
      const t0 = Date.now();
      const { page, firstError } = await openPage(browser, `${url}/?backend=${backend}`, (line) =>
        console.log(`  [${backend} console] ${line}`),
      );
      const failure = (title: string, e: Error): PageResults => ({
        backend,
        passed: [],
        failed: [{ title, error: e.message }],
      });
      const results = await Promise.race([
        page
          .waitForFunction(() => window.__results, undefined, { timeout: PAGE_TIMEOUT_MS, polling: 250 })
          .then((handle) => handle.jsonValue() as Promise<PageResults>)
          .catch((e: Error) => failure('the suite finished in time', e)),
        firstError.then((e) => failure('the page ran without an uncaught error', e)),
      ]);
      await page.close();
      for (const { title, ms } of results.passed) console.log(`  ok   [${backend}] ${title} (${Math.round(ms)} ms)`);
      for (const { title, error } of results.failed) console.log(`  FAIL [${backend}] ${title}\n${indent(error)}`);
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`${backend}: ${results.passed.length} passed, ${results.failed.length} failed (${seconds} s)`);
      passed += results.passed.length;
      failed += results.failed.length;
    }
  } finally {
    await browser.close();
  }
  return { passed, failed };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `       ${l}`)
    .join('\n');
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.message);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
