/**
 * WebGPU in plain Node, through Dawn (the optional peer npm package `webgpu`).
 *
 * `@tensorflow/tfjs-backend-webgpu` registers its backend at import only when `navigator.gpu`
 * exists, and Node has no WebGPU of its own. {@link setUpDawn} loads Dawn's bindings, puts the
 * WebGPU globals (`GPUBufferUsage`, ...) and `navigator.gpu = create([])` on `globalThis`, then
 * imports the backend package, which registers `webgpu`. Dawn reaches the GPU through Vulkan on
 * Linux (`libvulkan.so.1` and a driver; software Vulkan such as SwiftShader or lavapipe counts),
 * Metal on macOS and D3D12 on Windows.
 */
import { lazyImport } from '../lazy-import.js';

/** The two packages WebGPU in Node needs, and the command that installs them. */
export const WEBGPU_NODE_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const;
export const WEBGPU_NODE_INSTALL = `npm install ${WEBGPU_NODE_PACKAGES.join(' ')}`;

interface DawnModule {
  create(flags: string[]): object;
  globals: Record<string, unknown>;
}

type WithGpu = { navigator?: { gpu?: GpuLike } };
interface GpuLike {
  requestAdapter(options?: object): Promise<object | null>;
}

/** `navigator.gpu` when this place has one (a browser with WebGPU, or Node after {@link setUpDawn}). */
export function navigatorGpu(): GpuLike | undefined {
  return (globalThis as WithGpu).navigator?.gpu;
}

/**
 * Makes `navigator.gpu` a Dawn GPU (unless it exists already) and imports
 * `@tensorflow/tfjs-backend-webgpu`, or throws an error that says what to install or do.
 * `isRegistered` tells whether tfjs now knows the `webgpu` backend.
 */
export async function setUpDawn(isRegistered: () => boolean): Promise<void> {
  if (!navigatorGpu()) {
    let dawn: DawnModule;
    try {
      dawn = await lazyImport<DawnModule>('webgpu');
    } catch (e) {
      throw new Error(
        `backends.use: the 'webgpu' backend in Node needs Dawn's bindings, the npm package webgpu, ` +
          `which could not be loaded (${firstLine(e)}); install both packages it takes with ` +
          `\`${WEBGPU_NODE_INSTALL}\``,
      );
    }
    for (const [name, value] of Object.entries(dawn.globals)) {
      if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
    }
    const gpu = dawn.create([]) as GpuLike;
    const g = globalThis as WithGpu;
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  try {
    await lazyImport(WEBGPU_NODE_PACKAGES[1]);
  } catch (e) {
    throw new Error(
      `backends.use: the 'webgpu' backend needs the package ${WEBGPU_NODE_PACKAGES[1]}, which could not be ` +
        `loaded (${firstLine(e)}); install it with \`${WEBGPU_NODE_INSTALL}\``,
    );
  }
  if (!isRegistered()) {
    throw new Error(
      `backends.use: ${WEBGPU_NODE_PACKAGES[1]} was imported before navigator.gpu existed, so it registered ` +
        `no 'webgpu' backend; call rt.backends.use('webgpu') before anything imports it (it imports the package itself)`,
    );
  }
}

/**
 * Why WebGPU has no adapter here, or '' when it has one. In Node, Dawn finds none without a
 * Vulkan loader and driver.
 */
export async function whyNoAdapter(inBrowser: boolean): Promise<string> {
  const gpu = navigatorGpu();
  if (!gpu) return 'this place has no navigator.gpu';
  let adapter: object | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    adapter = null;
    if (inBrowser) return `navigator.gpu.requestAdapter() failed: ${firstLine(e)}`;
  }
  if (adapter) return '';
  return inBrowser
    ? 'navigator.gpu.requestAdapter() gave no adapter (Chromium needs a GPU or --enable-unsafe-webgpu for its software one)'
    : 'Dawn found no GPU adapter: on Linux it needs the Vulkan loader (`apt-get install libvulkan1`) and a Vulkan ' +
        "driver; without a GPU, software Vulkan works: set VK_DRIVER_FILES to an ICD file, such as Chromium's " +
        "SwiftShader /usr/lib/chromium/vk_swiftshader_icd.json or Mesa's lavapipe (Mesa 24 or later)";
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
