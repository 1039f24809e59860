/**
 * Pages in real headless Chromium, for the browser test suite and `tfjs-recurrent bench`: a script
 * bundled with esbuild from the package's public entry, served from 127.0.0.1 with `node:http`,
 * opened in Chromium driven by playwright-core. SwiftShader gives WebGL2 (and WebGPU) on the CPU.
 *
 * Node only: the package index does not load this file. esbuild and playwright-core are loaded
 * when first needed, with an error that says how to install them when they are missing.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import type { Browser, Page } from 'playwright-core';

/** Where Debian and Ubuntu put the Chromium binary (`/usr/bin/chromium` is a wrapper script). */
const CHROMIUM_PATHS = ['/usr/lib/chromium/chromium', '/usr/lib/chromium-browser/chromium-browser'];

/** How to get Chromium when {@link findChromium} finds none. */
export const INSTALL_CHROMIUM =
  'install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary';

/**
 * Launch flags that give WebGL2 and WebGPU on the CPU (SwiftShader). playwright-core adds
 * `--headless`, `--no-sandbox` and a fresh profile.
 */
const CHROMIUM_ARGS = [
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * The Chromium binary: `$CHROMIUM_PATH` when set, else Debian's or Ubuntu's; undefined when it
 * does not exist.
 */
export function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_PATHS;
  return candidates.find((p) => existsSync(p));
}

/** The root of the tfjs-recurrent package this file belongs to (holds package.json and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tfjs-recurrent'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('chromium: cannot find the tfjs-recurrent package root');
    dir = parent;
  }
}

/** The folder holding the `.wasm` files of `@tensorflow/tfjs-backend-wasm`. */
export function wasmDir(): string {
  const main = createRequire(join(packageRoot(), 'package.json')).resolve('@tensorflow/tfjs-backend-wasm');
  return dirname(main);
}

/**
 * Bundles an entry file, or inline module source, for the browser (ESM). `import 'tfjs-recurrent'`
 * resolves to the package's public entry (the built `dist/`), as it would in an app.
 */
export async function bundleForBrowser(options: {
  entry?: string;
  contents?: string;
  outfile: string;
  define?: Record<string, string>;
}): Promise<void> {
  const root = packageRoot();
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    throw new Error(`chromium: ${join(root, 'dist', 'index.js')} is missing; run \`npm run build\` first`);
  }
  const esbuild = await importDev<typeof import('esbuild')>('esbuild', 'to bundle the page');
  const build: BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: options.outfile,
    sourcemap: 'inline',
    logLevel: 'error',
    define: options.define,
  };
  if (options.entry) build.entryPoints = [options.entry];
  else build.stdin = { contents: options.contents ?? '', resolveDir: root, sourcefile: 'page.js', loader: 'js' };
  await esbuild.build(build);
}

/** A static site on 127.0.0.1: each URL prefix (e.g. `/wasm/`) maps to a folder. */
export async function serve(mounts: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const roots = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const mount = roots.find(([prefix]) => path.startsWith(prefix));
    const base = mount ? resolve(mount[1]) : '';
    const file = mount ? resolve(base, `.${sep}${path.slice(mount[0].length) || 'index.html'}`) : '';
    if (!mount || !file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Headless Chromium, or an error that says how to install it (and playwright-core). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`Chromium is not installed: ${INSTALL_CHROMIUM}`);
  const { chromium } = await importDev<typeof import('playwright-core')>('playwright-core', 'to drive Chromium');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/**
 * Opens `url` in a new page of `browser`, passing each console message and uncaught error of the
 * page to `log` (messages formatted from their arguments). `firstError` settles with the page's
 * first uncaught error, if any.
 */
export async function openPage(
  browser: Browser,
  url: string,
  log: (line: string) => void,
): Promise<{ page: Page; firstError: Promise<Error> }> {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    const args = msg.args();
    if (args.length === 0) return log(msg.text());
    void Promise.all(args.map((a) => a.jsonValue().catch(() => a.toString()))).then((values) =>
      log(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')),
    );
  });
  const firstError = new Promise<Error>((settle) => {
    page.on('pageerror', (err) => {
      log(`page error: ${err.stack ?? err.message}`);
      settle(err);
    });
  });
  await page.goto(url);
  return { page, firstError };
}

/** Imports a development tool that the package does not depend on, or says how to install it. */
async function importDev<T>(name: string, why: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ name)) as T;
  } catch (e) {
    throw new Error(
      `${name} is needed ${why}: install it with \`npm install --save-dev ${name}\` (${(e as Error).message})`,
    );
  }
}
