/**
 * Choosing a TensorFlow.js backend and making sure it is really the one running.
 *
 * `tf.setBackend(name)` falls back silently to another backend when `name` fails to start
 * (no WebGL context, `.wasm` files not found, ...). {@link use} starts the backend, waits for it
 * and checks `tf.getBackend()`, or throws an error that says why and what is available.
 *
 * Backend packages are loaded only when asked for:
 *
 * | name | where | comes from |
 * |------|-------|------------|
 * | `cpu` | everywhere | `@tensorflow/tfjs` |
 * | `webgl` | browsers | `@tensorflow/tfjs` |
 * | `wasm` | everywhere | `@tensorflow/tfjs-backend-wasm` (optional peer) |
 * | `webgpu` | browsers that offer `navigator.gpu`; Node with Dawn | `@tensorflow/tfjs-backend-webgpu` (optional peer), in Node also `webgpu` (optional peer: Dawn) |
 * | `tensorflow` | Node | `@tensorflow/tfjs-node`, when the user has installed it |
 *
 * In Node the optional packages are imported on the first `use`; for `webgpu` that first sets up
 * Dawn (`navigator.gpu`, see `dawn.ts`). A browser app imports the package itself (a bundler needs
 * a static import) and may call its `setWasmPaths(dir)` before `use('wasm')`.
 */
import * as tf from '@tensorflow/tfjs';
import { lazyImport } from '../lazy-import.js';
import { setUpDawn, whyNoAdapter, WEBGPU_NODE_PACKAGES } from './dawn.js';
import { show } from '../check/index.js';

/** The optional packages behind the backends that `@tensorflow/tfjs` does not register itself. */
const PACKAGES: Readonly<Record<string, string>> = {
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Backends that run only in one kind of place. */
const ONLY_IN: Readonly<Record<string, 'browser' | 'node'>> = {
  webgl: 'browser',
  tensorflow: 'node',
};

/** In Node: why `webgpu` failed to start, once it has; `available()` then leaves it out. */
let webgpuFailedInNode: string | undefined;

/** Whether this is a browser (or a worker) rather than Node. */
function inBrowser(): boolean {
  return tf.env().getBool('IS_BROWSER');
}

/**
 * Sets the TensorFlow.js backend to `name`, waits until it is ready and checks that it really
 * runs; otherwise restores the previous backend and throws an error that says why and lists
 * {@link available} backends.
 *
 * `webgl` is started with `SOFTWARE_WEBGL_ENABLED` so that software GL (SwiftShader) counts.
 */
export async function use(name: string): Promise<void> {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`backends.use: expected a backend name (one of ${available().join(', ')}), got ${show(name)}`);
  }
  await register(name);
  const running = tf.getBackend();
  const previous = running && tf.engine().registry[running] ? running : undefined;
  if (name === 'webgl') tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
  // Without an adapter tfjs's factory fails with a TypeError and a logged stack: say why instead.
  const noAdapter = name === 'webgpu' && !tf.engine().registry.webgpu ? await whyNoAdapter(inBrowser()) : '';
  if (noAdapter) {
    if (!inBrowser()) webgpuFailedInNode = noAdapter;
    throw new Error(
      `backends.use: the 'webgpu' backend cannot start (${noAdapter}); ` +
        `${previous ? `TensorFlow.js stays on '${previous}'` : 'no backend was set'}. Available here: ${available().join(', ')}`,
    );
  }
  const started = await tf.setBackend(name);
  await tf.ready();
  if (started && tf.getBackend() === name) {
    if (name === 'webgpu') webgpuFailedInNode = undefined;
    return;
  }

  // tfjs has fallen back to another backend by now; go back to the one that ran before.
  const reason = await whyNot(name);
  if (name === 'webgpu' && !inBrowser()) webgpuFailedInNode = reason || 'it did not start';
  if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  throw new Error(
    `backends.use: the '${name}' backend did not start${reason ? ` (${reason})` : ''}; ` +
      `TensorFlow.js is on '${tf.getBackend()}'. Available here: ${available().join(', ')}`,
  );
}

/**
 * The backends that can be used here: those registered now that suit this place (`webgl` only
 * with a WebGL context, `webgpu` in a browser only with `navigator.gpu`), plus, in Node, the
 * optional backend packages that are installed (`webgpu`: both `webgpu` and
 * `@tensorflow/tfjs-backend-webgpu`, and left out once `use('webgpu')` has found no GPU adapter).
 */
export function available(): string[] {
  const names = new Set(Object.keys(tf.engine().registryFactory).filter(suitsHere));
  if (!inBrowser()) {
    for (const [name, pkg] of Object.entries(PACKAGES)) {
      const pkgs = name === 'webgpu' ? WEBGPU_NODE_PACKAGES : [pkg];
      if (suitsHere(name) && pkgs.every(resolvableInNode)) names.add(name);
    }
  }
  return [...names].sort();
}

/** Registers `name` with tfjs by importing its package, or throws an error that says what to do. */
async function register(name: string): Promise<void> {
  if (tf.engine().registryFactory[name]) return;
  const pkg = PACKAGES[name];
  const place = inBrowser() ? 'browser' : 'node';
  if (!pkg || (ONLY_IN[name] && ONLY_IN[name] !== place)) {
    const where = ONLY_IN[name] ? ` (it runs only in ${ONLY_IN[name] === 'node' ? 'Node' : 'a browser'})` : '';
    throw new Error(`backends.use: no backend '${name}' here${where}; available here: ${available().join(', ')}`);
  }
  if (name === 'webgpu' && place === 'node') {
    await setUpDawn(() => Boolean(tf.engine().registryFactory.webgpu));
    return;
  }
  try {
    await lazyImport(pkg);
  } catch (e) {
    const how = inBrowser()
      ? `import '${pkg}' in your app (bundlers need a static import)`
      : `install it with \`npm install ${pkg}\``;
    throw new Error(
      `backends.use: the '${name}' backend needs the package ${pkg}, which could not be loaded ` +
        `(${(e as Error).message.split('\n')[0]}); ${how}. Available here: ${available().join(', ')}`,
    );
  }
  if (!tf.engine().registryFactory[name]) {
    throw new Error(
      `backends.use: ${pkg} loaded but registered no '${name}' backend here (does this place support it?)`,
    );
  }
}

/** The error the backend's factory gives when called directly (tfjs only logs it). */
async function whyNot(name: string): Promise<string> {
  if (name === 'webgpu') {
    const noAdapter = await whyNoAdapter(inBrowser());
    if (noAdapter) return noAdapter;
  }
  try {
    const backend = await tf.findBackendFactory(name)();
    backend.dispose();
    return '';
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

function suitsHere(name: string): boolean {
  const place = inBrowser() ? 'browser' : 'node';
  if (ONLY_IN[name] && ONLY_IN[name] !== place) return false;
  if (name === 'webgl') return tf.env().getNumber('WEBGL_VERSION') > 0;
  if (name === 'webgpu') {
    if (place === 'node') return webgpuFailedInNode === undefined;
    return typeof navigator !== 'undefined' && 'gpu' in navigator;
  }
  return true;
}

/** Whether Node can find `pkg` from the working directory or from the running script. */
function resolvableInNode(pkg: string): boolean {
  type NodeProcess = {
    cwd(): string;
    argv: string[];
    getBuiltinModule?: (id: string) => { createRequire(path: string): { resolve(id: string, o?: object): string } };
  };
  const proc = (globalThis as { process?: NodeProcess }).process;
  const nodeModule = proc?.getBuiltinModule?.('node:module');
  if (!proc || !nodeModule) return false;
  const from = [proc.cwd(), ...(proc.argv[1] ? [proc.argv[1].replace(/[\\/][^\\/]*$/, '')] : [])];
  try {
    nodeModule.createRequire(`${proc.cwd()}/`).resolve(pkg, { paths: from });
    return true;
  } catch {
    return false;
  }
}
