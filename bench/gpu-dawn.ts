/**
 * WebGPU for TensorFlow.js in plain Node, through Dawn (the npm package `webgpu`), for the GPU
 * bench. This does what `../shared/RECIPES.md` ("WebGPU in plain Node") says, on its own, so the
 * bench does not depend on `rt.backends.use('webgpu')`:
 *
 * 1. Dawn's WebGPU classes become globals and `navigator.gpu = create(flags)`;
 * 2. only then is `@tensorflow/tfjs-backend-webgpu` imported (it registers `webgpu` at import
 *    time, and only when `navigator.gpu` exists);
 * 3. `tf.setBackend('webgpu')`, checked, with Dawn's uncaptured errors (an invalid pipeline drops
 *    the whole command buffer without a throw) collected rather than lost.
 *
 * Compute-pass dispatches and queue submits are counted by wrapping Dawn's prototypes: a kernel
 * that tfjs runs is not always a dispatch (reshapes are free, some kernels take several passes).
 */
import * as tf from '@tensorflow/tfjs';
import { create, globals } from 'webgpu';

/** What the adapter says it is (`adapter.info`). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface DawnSetup {
  adapter: AdapterInfo;
  /** A few adapter limits that matter for tfjs (storage buffers per stage, binding size). */
  limits: Record<string, number>;
  /** Adapter features (`timestamp-query`, `subgroups`, ...). */
  features: string[];
  /** The flags handed to Dawn's `create`. */
  dawnFlags: string[];
  /** Validation and out-of-memory errors Dawn reported since the backend started. */
  errors: string[];
}

/** Dispatches and submits since the process started (see {@link countGpuWork}). */
export const gpuWork = { dispatches: 0, submits: 0 };

type AnyFn = (...args: unknown[]) => unknown;

/** Wraps `proto[name]` so that each call adds one to `gpuWork[counter]`. */
function countCalls(proto: Record<string, unknown> | undefined, name: string, counter: keyof typeof gpuWork): void {
  const original = proto?.[name] as AnyFn | undefined;
  if (!proto || typeof original !== 'function') return;
  proto[name] = function (this: unknown, ...args: unknown[]) {
    gpuWork[counter]++;
    return original.apply(this, args);
  };
}

/** Runs `task` once and returns the compute dispatches and queue submits it caused. */
export async function countGpuWork(task: () => Promise<unknown>): Promise<{ dispatches: number; submits: number }> {
  const [d0, s0] = [gpuWork.dispatches, gpuWork.submits];
  await task();
  return { dispatches: gpuWork.dispatches - d0, submits: gpuWork.submits - s0 };
}

type GpuNavigator = { gpu?: GPU };

/**
 * Sets up Dawn and starts tfjs's `webgpu` backend on it; throws with what to check when no
 * adapter is found or the backend does not start.
 */
export async function startWebGpu(dawnFlags: string[] = []): Promise<DawnSetup> {
  const g = globals as Record<string, { prototype?: Record<string, unknown> } | undefined>;
  Object.assign(globalThis, globals);
  countCalls(g.GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', 'dispatches');
  countCalls(g.GPUComputePassEncoder?.prototype, 'dispatchWorkgroupsIndirect', 'dispatches');
  countCalls(g.GPUQueue?.prototype, 'submit', 'submits');

  const gpu = create(dawnFlags);
  // Node 20 has no `navigator`; Node 21+ has one without `gpu`.
  const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });

  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'WebGPU: Dawn found no adapter. Check that libvulkan.so.1 loads and that VK_DRIVER_FILES names a Vulkan ' +
        `ICD (now ${process.env.VK_DRIVER_FILES ?? 'unset'}; NVIDIA: /usr/local/nvidia/share/vulkan/icd.d/` +
        'nvidia_icd.json, software: /usr/lib/chromium/vk_swiftshader_icd.json).',
    );
  }
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of [
    'maxStorageBuffersPerShaderStage',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    limits[name] = Number((adapter.limits as unknown as Record<string, number>)[name]);
  }
  const setup: DawnSetup = {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    limits,
    features: [...adapter.features].map(String).sort(),
    dawnFlags,
    errors: [],
  };

  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') {
    throw new Error(`WebGPU: tfjs did not start the webgpu backend (it is on '${tf.getBackend()}')`);
  }
  await tf.ready();
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (device) {
    device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      const message = event.error?.message ?? String(event);
      if (setup.errors.length < 50) setup.errors.push(message);
      process.stderr.write(`WebGPU error: ${message}\n`);
    };
  }
  return setup;
}

/** The adapter as one line, e.g. `nvidia / hopper / NVIDIA H100 80GB HBM3 (driver ...)`. */
export function adapterName(a: AdapterInfo): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** Lets Node exit: it stays alive while `navigator.gpu` is referenced. */
export function releaseDawn(): void {
  const nav = (globalThis as { navigator?: GpuNavigator }).navigator;
  if (nav) delete nav.gpu;
}
