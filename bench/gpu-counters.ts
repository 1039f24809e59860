/**
 * What a call costs tfjs's webgpu backend besides arithmetic, counted on the backend object (so
 * it works wherever the backend runs: the GPU bench, the unit tests, a browser):
 *
 * - `programs`: programs recorded (each one compute dispatch; reshapes and CPU-forwarded ops are
 *   none), tfjs's and ours (`src/fast/webgpu-passes.ts`: a whole-sequence kernel's steps);
 * - `pipelines`: pipelines compiled, i.e. new entries of the backend's cache keyed by shader key
 *   (and of ours)
 *   (after warm-up a call should compile none: a key that varies from call to call, or from step
 *   to step, compiles a pipeline every time);
 * - `uploads`, `uploadBytes`: tensors whose values went from the CPU to the GPU (a `tf.scalar`,
 *   `tf.zeros`, or an op the backend ran on the CPU, then read on the GPU), each a mapped buffer
 *   and a copy;
 * - `reads`: buffers read back to the CPU (`data()`), each a wait for the GPU;
 * - `buffersCreated`: GPU buffers the backend had to create (its pool had none free of that size
 *   and usage), the staging buffer of every upload included.
 *
 * Uniforms (a small buffer written per program) are not counted as uploads.
 */
import * as tf from '@tensorflow/tfjs';
import { ownDispatches } from '../src/fast/webgpu-passes.js';

/** The counts of {@link countWebGpu}. */
export interface WebGpuCounts {
  programs: number;
  pipelines: number;
  uploads: number;
  uploadBytes: number;
  reads: number;
  buffersCreated: number;
}

interface TensorData {
  values: ArrayLike<number> | null;
  resource: unknown;
  shape: number[];
  dtype: string;
}

/** The parts of tfjs-backend-webgpu 4.22's `WebGPUBackend` counted here. */
interface CountedBackend {
  pipelineCache: Record<string, unknown>;
  tensorMap: { get(dataId: object): TensorData | undefined };
  uploadToGPU(dataId: object): void;
  getBufferData(buffer: unknown): Promise<ArrayBuffer>;
  recordAndSubmit(...args: unknown[]): void;
  bufferManager: { numBytesAllocated: number; acquireBuffer(...args: unknown[]): unknown };
  tfjsRecurrentCounts?: WebGpuCounts;
}

/** The running totals of the webgpu backend, counting from the first call on. */
function totals(): WebGpuCounts {
  const backend = tf.findBackend('webgpu') as unknown as CountedBackend | null;
  if (!backend) throw new Error('countWebGpu: the webgpu backend is not registered');
  if (backend.tfjsRecurrentCounts) return backend.tfjsRecurrentCounts;
  const counts: WebGpuCounts = { programs: 0, pipelines: 0, uploads: 0, uploadBytes: 0, reads: 0, buffersCreated: 0 };
  const { uploadToGPU, getBufferData, recordAndSubmit, bufferManager } = backend;
  const { acquireBuffer } = bufferManager;
  bufferManager.acquireBuffer = function (...args) {
    const allocated = this.numBytesAllocated;
    const buffer = acquireBuffer.apply(this, args);
    if (this.numBytesAllocated > allocated) counts.buffersCreated++;
    return buffer;
  };
  backend.uploadToGPU = function (dataId) {
    const data = this.tensorMap.get(dataId);
    if (data && data.resource == null && data.values != null) {
      counts.uploads++;
      counts.uploadBytes += 4 * data.shape.reduce((a, b) => a * b, 1);
    }
    return uploadToGPU.call(this, dataId);
  };
  backend.getBufferData = function (buffer) {
    counts.reads++;
    return getBufferData.call(this, buffer);
  };
  backend.recordAndSubmit = function (...args) {
    counts.programs++;
    counts.pipelines = Object.keys(this.pipelineCache).length;
    return recordAndSubmit.apply(this, args);
  };
  counts.pipelines = Object.keys(backend.pipelineCache).length;
  backend.tfjsRecurrentCounts = counts;
  return counts;
}

/** Runs `task` once on the webgpu backend and returns what it cost (see the file's comment). */
export async function countWebGpu(task: () => Promise<unknown>): Promise<WebGpuCounts> {
  const counts = totals();
  const before = { ...counts };
  const ours = { ...ownDispatches };
  await task();
  return {
    programs: counts.programs - before.programs + ownDispatches.count - ours.count,
    pipelines: counts.pipelines - before.pipelines + ownDispatches.pipelines - ours.pipelines,
    uploads: counts.uploads - before.uploads,
    uploadBytes: counts.uploadBytes - before.uploadBytes,
    reads: counts.reads - before.reads,
    buffersCreated: counts.buffersCreated - before.buffersCreated,
  };
}
