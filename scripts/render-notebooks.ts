/**
 * Builds Observable Notebook Kit notebooks offline and renders them in headless Chromium.
 *
 *   npx tsx scripts/render-notebooks.ts notebooks/a.html [notebooks/b.html ...]
 *
 * One Vite build (`notebooks build`) of all the given notebooks into out/notebooks/site, served
 * from 127.0.0.1. Each page passes when an element `#notebook-ready` appears (the notebook's last
 * cell displays it) with no page error, no console error, no cell showing an error, and no request
 * leaving 127.0.0.1 (the notebooks must work offline). A screenshot of each page goes to
 * out/notebooks/<name>.png; then every control of the page is moved once and the notebook must
 * recompute to `#notebook-ready` again, still without errors. Ends with `N passed, N failed`.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, normalize, relative, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'out', 'notebooks');
const SITE = join(OUT, 'site');
const CHROMIUM = '/usr/lib/chromium/chromium';
// WebGL2 (and WebGPU) on the CPU through SwiftShader; see RECIPES.md.
const CHROMIUM_ARGS = ['--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-quic'];
const PAGE_TIMEOUT_MS = 240_000;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

function build(notebooks: string[]): void {
  const args = ['notebooks', 'build', '--root', 'notebooks', '--out', relative(join(ROOT, 'notebooks'), SITE)];
  const run = spawnSync('npx', [...args, '--empty', '--', ...notebooks], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`notebooks build failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(dir) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** Opens one page; returns the problems seen (none: it passed). */
async function render(page: Page, url: string, screenshot: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.stack ?? e.message}`));
  page.on('console', async (msg) => {
    if (msg.type() !== 'error') return;
    // Format from the arguments (errors by their stack), not msg.text().
    const args = await Promise.all(
      msg
        .args()
        .map((a) =>
          a
            .evaluate((v) =>
              v instanceof Error ? (v.stack ?? String(v)) : typeof v === 'string' ? v : JSON.stringify(v),
            )
            .catch(() => String(a)),
        ),
    );
    problems.push(`console error: ${args.join(' ') || msg.text()}`);
  });
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || route.request().url().startsWith('data:')) return route.continue();
    problems.push(`request leaves the machine (notebooks must work offline): ${route.request().url()}`);
    return route.abort();
  });
  const t0 = Date.now();
  await page.goto(url);
  const outcome = await page
    .waitForSelector('#notebook-ready, .observablehq--error', { timeout: PAGE_TIMEOUT_MS })
    .then(async (el) => ((await el.getAttribute('id')) === 'notebook-ready' ? 'ready' : 'cell error'))
    .catch(() => `no #notebook-ready after ${PAGE_TIMEOUT_MS / 1000} s`);
  if (outcome !== 'ready') problems.push(outcome);
  // Let the last outputs paint, then look for cells showing errors.
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshot, fullPage: true });
  if (outcome === 'ready') problems.push(...(await interact(page)));
  for (const text of await page.locator('.observablehq--error').allInnerTexts()) problems.push(`cell error: ${text}`);
  console.log(`        ${basename(screenshot)} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return problems;
}

/**
 * Moves every control of an interactive notebook (each `<select>` to its last option, each range
 * input to its maximum) and waits for the notebook to recompute down to `#notebook-ready` again.
 */
async function interact(page: Page): Promise<string[]> {
  const problems: string[] = [];
  const controls = page.locator('select, input[type="range"]');
  for (let i = 0; i < (await controls.count()); i++) {
    const control = controls.nth(i);
    const what = `${await control.evaluate((el) => el.tagName.toLowerCase())} #${i}`;
    await page.locator('#notebook-ready').evaluate((el) => el.setAttribute('data-before', ''));
    await control.evaluate((el) => {
      if (el instanceof HTMLSelectElement) el.selectedIndex = el.options.length - 1;
      else if (el instanceof HTMLInputElement) el.value = el.max;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const redone = await page
      .waitForSelector('#notebook-ready:not([data-before]), .observablehq--error', { timeout: PAGE_TIMEOUT_MS })
      .then(async (el) => (await el.getAttribute('id')) === 'notebook-ready')
      .catch(() => false);
    if (!redone) {
      problems.push(`after moving ${what}, the notebook did not recompute to #notebook-ready`);
      break;
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const notebooks = process.argv.slice(2);
  if (notebooks.length === 0) throw new Error('usage: render-notebooks.ts notebooks/x.html ...');
  build(notebooks);
  const server = await serve(SITE);
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let passed = 0;
  let failed = 0;
  try {
    for (const notebook of notebooks) {
      const name = basename(notebook, '.html');
      const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      const t0 = Date.now();
      const problems = await render(page, `http://127.0.0.1:${port}/${name}.html`, join(OUT, `${name}.png`)).catch(
        (e: unknown) => [`render failed: ${e instanceof Error ? e.message : String(e)}`],
      );
      await page.close();
      const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
      if (problems.length === 0) {
        passed++;
        console.log(`ok      ${notebook} (${took})`);
      } else {
        failed++;
        console.log(`FAILED  ${notebook} (${took}):\n  ${problems.join('\n  ')}`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
