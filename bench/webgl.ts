/**
 * The WebGL rows of the bench: `./webgl-page.ts` bundled with esbuild and run in headless Chromium
 * (SwiftShader, the CPU-only WebGL2 of this machine) with the browser suite's helpers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForBrowser, launchChromium, openPage, serve } from '../src/backends/chromium.js';
import type { PageBenches, PageResult } from './webgl-page.js';

/** Runs `bench` (see {@link PageBenches}) on WebGL in Chromium; resolves to its rows and the GL renderer. */
export async function webglRows<B extends keyof PageBenches>(
  bench: B,
  params: PageBenches[B]['params'],
  log: (line: string) => void,
  timeoutMs = 1_200_000,
): Promise<{ rows: PageBenches[B]['rows']; renderer: string }> {
  const site = await mkdtemp(join(tmpdir(), 'tfjs-recurrent-bench-'));
  try {
    await bundleForBrowser({ entry: join(import.meta.dirname, 'webgl-page.ts'), outfile: join(site, 'page.js') });
    await writeFile(
      join(site, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/page.js"></script>',
    );
    const server = await serve({ '/': site });
    const browser = await launchChromium();
    try {
      const url = `${server.url}/?bench=${bench}&p=${encodeURIComponent(JSON.stringify(params))}`;
      const { page, firstError } = await openPage(browser, url, (line) => log(`  [page] ${line}`));
      const result = await Promise.race([
        page
          .waitForFunction(() => window.__bench, undefined, { timeout: timeoutMs, polling: 500 })
          .then((handle) => handle.jsonValue() as Promise<PageResult>),
        firstError.then((e): PageResult => ({ error: e.message })),
      ]);
      if ('error' in result) throw new Error(`bench: the WebGL page failed: ${result.error}`);
      return result as { rows: PageBenches[B]['rows']; renderer: string };
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}
