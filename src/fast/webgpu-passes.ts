/**
 * Many dispatches of one WGSL program of ours recorded into tfjs's own compute pass, for the
 * whole-sequence kernels of the webgpu backend (`./webgpu-sequence.ts`) and rt's Adam
 * (`src/train/adam-programs.ts`).
 *
 * tfjs's `runWebGPUProgram` costs the host each time: a shader key, a uniform buffer written, a
 * bind group made (on the H100 this was measured on, a forward of ~170 programs at 32×50×16×128
 * took 11.8 ms: at most 70 µs each). A sequence's steps run the same program on the same buffers,
 * one step after the other, so here the bind group is made once per call and a step is a
 * `setBindGroup` with the step's offset into one uniform buffer and a dispatch. Dispatches in one
 * compute pass see each other's writes in order, as tfjs's own programs do.
 *
 * This reads tfjs-backend-webgpu 4.22's backend (its pass, command encoder, buffer pool, the set
 * of buffers its queued commands use): a tfjs release that changes them fails the webgpu tests.
 */
import * as tf from '@tensorflow/tfjs';

/** WebGPU's constants (`GPUBufferUsage`, `GPUShaderStage`), which Node lacks as globals before Dawn. */
const USAGE = { COPY_DST: 0x8, UNIFORM: 0x40 } as const;
const COMPUTE_STAGE = 0x4;

interface Buffer {
  readonly size: number;
}
interface Layout {
  readonly label?: string;
}
interface Pipeline {
  readonly label?: string;
}
interface BindGroup {
  readonly label?: string;
}
interface PassEncoder {
  setPipeline(p: Pipeline): void;
  setBindGroup(index: number, group: BindGroup, dynamicOffsets?: number[]): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
interface Device {
  limits: {
    minUniformBufferOffsetAlignment: number;
    maxStorageBufferBindingSize: number;
    maxStorageBuffersPerShaderStage: number;
  };
  queue: { writeBuffer(b: Buffer, offset: number, data: ArrayBuffer): void };
  createShaderModule(d: { code: string }): unknown;
  createBindGroupLayout(d: { entries: object[] }): Layout;
  createPipelineLayout(d: { bindGroupLayouts: Layout[] }): unknown;
  createComputePipeline(d: { layout: unknown; compute: { module: unknown; entryPoint: string } }): Pipeline;
  createBindGroup(d: { layout: Layout; entries: object[] }): BindGroup;
  pushErrorScope(filter: 'validation'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** The parts of tfjs-backend-webgpu 4.22's `WebGPUBackend` this file uses. */
interface TfjsWebGPU {
  device: Device;
  /** The adapter's vendor and architecture, as the browser or Dawn names them. */
  adapterInfo?: { vendor?: string; architecture?: string };
  tensorMap: { get(dataId: object): { resource: unknown; dtype: tf.DataType } };
  commandEncoder: { beginComputePass(d: object): PassEncoder } | null;
  computePassEncoder: PassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: Buffer[];
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: unknown;
  querySetCount: number;
  bufferManager: { acquireBuffer(size: number, usage: number): Buffer };
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  disposeData(dataId: object): boolean;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

/** WebGPU's limit on workgroups along a dimension of a dispatch (its default `maxComputeWorkgroupsPerDimension`). */
export const MAX_WORKGROUPS = 65535;

/** A storage binding of a program of ours: its WGSL name and whether the program writes it. */
export type Binding = readonly [name: string, writes: boolean];

/**
 * The WGSL declarations of a program's bindings as {@link recordDispatches} binds them: `bindings`
 * in order (arrays of `f32`, of `vec4<f32>` for the names in `vec4s`), then the uniform `name`
 * of the struct `type`.
 */
export function declareBindings(
  bindings: readonly Binding[],
  uniform: { name: string; type: string },
  vec4s: readonly string[] = [],
): string {
  const lines = bindings.map(([name, writes], i) => {
    const type = vec4s.includes(name) ? 'vec4<f32>' : 'f32';
    return `@group(0) @binding(${i}) var<storage, ${writes ? 'read_write' : 'read'}> ${name} : array<${type}>;`;
  });
  return `${lines.join('\n')}
@group(0) @binding(${bindings.length}) var<uniform> ${uniform.name} : ${uniform.type};`;
}

/** A program of ours: WGSL, and how it binds each tensor (bindings 0.. in order; the uniforms last). */
export interface PassProgram {
  /** The key its pipeline is cached under (its code is a function of it). */
  key: string;
  code: () => string;
  /** Its storage bindings, in order (declared by {@link declareBindings}). */
  bindings: readonly Binding[];
  /** Workgroups along x and y of every dispatch. */
  dispatch: [number, number];
}

/** Dispatches recorded here so far (the GPU bench and the tests count them with tfjs's programs). */
export const ownDispatches = { count: 0, pipelines: 0 };

const pipelines = new WeakMap<Device, Map<string, { pipeline: Pipeline; layout: Layout }>>();

/** The programs whose pipeline the device refused, with its message (known once its error scope settles). */
const refused = new Map<string, string>();

/**
 * The programs the device refused so far. A pipeline is checked when it is made, but WebGPU says
 * so only later: the calls recorded before then wrote nothing (the refusal is logged); every call
 * after it throws.
 */
export function refusedPrograms(): string[] {
  return [...refused.keys()];
}

/** Forgets the refusals (the tests' refused programs, once checked). */
export function forgetRefusals(): void {
  refused.clear();
}

const refusal = (key: string) => `the GPU refused the program ${key}: ${refused.get(key)}`;

function pipelineOf(device: Device, program: PassProgram) {
  const cache = pipelines.get(device) ?? new Map<string, { pipeline: Pipeline; layout: Layout }>();
  pipelines.set(device, cache);
  let entry = cache.get(program.key);
  if (!entry) {
    const layout = device.createBindGroupLayout({
      entries: [
        ...program.bindings.map(([, writes], binding) => ({
          binding,
          visibility: COMPUTE_STAGE,
          buffer: { type: writes ? 'storage' : 'read-only-storage' },
        })),
        {
          binding: program.bindings.length,
          visibility: COMPUTE_STAGE,
          buffer: { type: 'uniform', hasDynamicOffset: true },
        },
      ],
    });
    device.pushErrorScope('validation');
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ code: program.code() }), entryPoint: 'main' },
    });
    void device.popErrorScope().then((error) => {
      if (!error) return;
      refused.set(program.key, error.message);
      console.error(`tfjs-recurrent: ${refusal(program.key)}`);
    });
    entry = { pipeline, layout };
    cache.set(program.key, entry);
    ownDispatches.pipelines++;
  }
  return entry;
}

/** The webgpu backend as this file reads it. */
export function tfjsWebGPU(backend: unknown): TfjsWebGPU {
  return backend as TfjsWebGPU;
}

/**
 * Whether the backend's adapter is a CPU's (SwiftShader, llvmpipe): a handful of threads run its
 * invocations, where a GPU runs tens of thousands at once.
 */
export function softwareAdapter(backend: TfjsWebGPU): boolean {
  const { vendor = '', architecture = '' } = backend.adapterInfo ?? {};
  return /swiftshader|llvmpipe|lavapipe/i.test(`${vendor} ${architecture}`);
}

/**
 * `t` with float32 values in its buffer: tfjs's cast from int32 to float32 on webgpu relabels the
 * tensor and keeps the int32 buffer (tfjs's programs convert as they read; ours read float32).
 */
export function float32Values<T extends tf.Tensor>(t: T): T {
  const backend = tfjsWebGPU(tf.backend());
  if (t.dtype === 'float32' && backend.tensorMap.get(t.dataId).dtype === 'float32') return t;
  return tf.mul(tf.cast(t, 'float32'), tf.fill([], 1)) as T;
}

/** A new float32 tensor of the backend with its GPU buffer allocated (its values undefined until written). */
export function gpuOutput(backend: TfjsWebGPU, shape: number[]): tf.TensorInfo {
  const out = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(out.dataId);
  return out;
}

/**
 * Records `program` once per entry of `slots` (each the `i32` uniforms of one dispatch, e.g. a
 * step's index), in order, into the backend's pass; `tensors` are its storage bindings. While
 * `tf.profile` times kernels, the dispatches get a pass of their own (with timestamps where the
 * adapter has them), as each of tfjs's programs does then.
 */
export function recordDispatches(
  backend: TfjsWebGPU,
  program: PassProgram,
  tensors: tf.TensorInfo[],
  slots: number[][],
): void {
  const { device } = backend;
  if (tensors.length !== program.bindings.length) {
    throw new Error(`${program.key}: ${tensors.length} tensors for ${program.bindings.length} bindings`);
  }
  if (refused.has(program.key)) throw new Error(refusal(program.key));
  tensors.forEach((t, i) => {
    const dtype = backend.tensorMap.get(t.dataId).dtype;
    if (dtype !== 'float32') throw new Error(`${program.key}: binding ${i} holds ${dtype} values, not float32`);
  });
  const { pipeline, layout } = pipelineOf(device, program);
  // The uniforms of every dispatch in one buffer, one aligned slot each (tfjs's pool; freed once submitted).
  const words = Math.max(...slots.map((s) => s.length));
  const stride = Math.max(device.limits.minUniformBufferOffsetAlignment, 16 * Math.ceil(words / 4));
  const data = new Int32Array((stride / 4) * slots.length);
  slots.forEach((s, i) => data.set(s, (i * stride) / 4));
  const uniforms = backend.bufferManager.acquireBuffer(data.byteLength, USAGE.UNIFORM | USAGE.COPY_DST);
  device.queue.writeBuffer(uniforms, 0, data.buffer);
  backend.uniformPendingDisposal.push(uniforms);

  const buffers = tensors.map((t) => {
    backend.uploadToGPU(t.dataId);
    backend.commandQueueOwnedIds.add(t.dataId);
    return backend.tensorMap.get(t.dataId).resource;
  });
  const group = device.createBindGroup({
    layout,
    entries: [
      ...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      { binding: buffers.length, resource: { buffer: uniforms, size: 16 * Math.ceil(words / 4) } },
    ],
  });

  backend.ensureCommandEncoderReady();
  const profiling = backend.activeTimers != null;
  if (profiling) {
    backend.endComputePassEncoder();
    const descriptor: { timestampWrites?: object } = {};
    if (backend.supportTimestampQuery) {
      backend.querySet ??= (device as unknown as { createQuerySet(d: object): unknown }).createQuerySet({
        type: 'timestamp',
        count: backend.querySetCount,
      });
      descriptor.timestampWrites = { querySet: backend.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    }
    backend.computePassEncoder = backend.commandEncoder!.beginComputePass(descriptor);
  } else {
    backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
  }
  const pass = backend.computePassEncoder!;
  pass.setPipeline(pipeline);
  for (let i = 0; i < slots.length; i++) {
    pass.setBindGroup(0, group, [i * stride]);
    pass.dispatchWorkgroups(program.dispatch[0], program.dispatch[1], 1);
  }
  ownDispatches.count += slots.length;
  backend.dispatchCountInPass += slots.length;
  if (profiling) {
    backend.endComputePassEncoder();
    backend.activeTimers!.push({ name: program.key, query: backend.getQueryTime() });
  }
}
