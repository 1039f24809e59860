/**
 * What our own kernels (`./split.ts`, `./concat.ts`, `./matmul.ts`, `./step-kernels.ts`,
 * `./webgpu-sequence.ts`, `./wasm/scan-kernel.ts`, and those of `src/train` and `src/objective`) share: the parts of tfjs's
 * backends they touch, their tensors' memory on cpu and wasm, and registering a kernel with its
 * gradient once, on first use; and the sequence op's `tf.customGrad` with a gradient per input
 * ({@link customOp}).
 */
import * as tf from '@tensorflow/tfjs';

/** The CPU backend: tensor values are JavaScript typed arrays. */
export interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The WASM backend: tensor values live in the module's heap; views of it are typed arrays. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  /** The Emscripten module; its `asm` exports hold the heap's `WebAssembly.Memory`. */
  wasm?: { asm?: { memory?: unknown } };
}

/**
 * The tensors of a kernel of ours on the cpu or the wasm backend: new float32 outputs (all made
 * before any view is taken: on wasm a new output may move the heap) and views of values, in place.
 */
export interface Memory {
  outputs(shapes: number[][]): tf.TensorInfo[];
  view(t: tf.TensorInfo): Float32Array;
}

/** {@link Memory} of `backend`: views of the wasm heap, or the cpu backend's own typed arrays. */
export function hostMemory(backend: object): Memory {
  if ('typedArrayFromHeap' in backend) {
    const wasm = backend as WasmBackend;
    return {
      outputs: (shapes) => shapes.map((s) => wasm.makeOutput(s, 'float32')),
      view: (t) => wasm.typedArrayFromHeap(t),
    };
  }
  const cpu = backend as CpuBackend;
  return {
    outputs: (shapes) =>
      shapes.map((s) => cpu.makeTensorInfo(s, 'float32', new Float32Array(s.reduce((a, b) => a * b, 1)))),
    view: (t) => cpu.data.get(t.dataId).values,
  };
}

/**
 * tfjs-wasm's heap as a `WebAssembly.Memory`, which a module of ours can import to work on the
 * tensors in place; null on other backends, or where tfjs-wasm does not expose it.
 */
export function wasmHeap(backend: object): WebAssembly.Memory | null {
  const memory = (backend as WasmBackend).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The WebGPU backend: runs a WGSL program (tfjs-backend-webgpu's `WebGPUProgram`) on tensors. */
export interface WebGPUBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: 'int32' | 'float32'; data: number[] }[],
  ): tf.TensorInfo;
}

/** The WebGL backend: runs a GLSL program (tfjs-backend-webgl's `GPGPUProgram`) on tensors. */
export interface WebGLBackend {
  runWebGLProgram(
    program: object,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    customUniformValues?: number[][],
  ): tf.TensorInfo;
}

/**
 * A kernel of ours: `run(inputs, attrs)` dispatches it where one is registered for the current
 * backend (`runs()`; registering it and its gradient, if it has one, on the first call) and
 * returns null elsewhere.
 */
export function ownKernel(
  kernelName: string,
  kernels: Partial<Record<'cpu' | 'wasm' | 'webgpu' | 'webgl', tf.KernelFunc>>,
  gradient?: Omit<tf.GradConfig, 'kernelName'>,
): { runs(): boolean; run(inputs: tf.NamedTensorMap, attrs: object): tf.Tensor | tf.Tensor[] | null } {
  let registered = false;
  const runs = () => Object.hasOwn(kernels, tf.getBackend());
  return {
    runs,
    run(inputs, attrs) {
      if (!runs()) return null;
      if (!registered) {
        registered = true;
        // Another copy of this module may have registered it already.
        if (!tf.getKernel(kernelName, Object.keys(kernels)[0])) {
          for (const [backendName, kernelFunc] of Object.entries(kernels)) {
            tf.registerKernel({ kernelName, backendName, kernelFunc });
          }
          if (gradient) tf.registerGradient({ kernelName, ...gradient });
        }
      }
      return tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    },
  };
}

/** The gradient of a {@link customOp}: a function per input, in the inputs' order. */
export type LazyGradients = (dy: tf.Tensor, saved: tf.Tensor[]) => (() => tf.Tensor)[];

/** The part of tfjs 4.22's engine that `tf.customGrad` runs on (private in its typings). */
interface KernelFuncEngine {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: tf.NamedTensorMap;
  }): tf.Tensor;
}

/**
 * `tf.customGrad(f)(...inputs)` whose gradient hands tfjs one function per input, as tfjs's own
 * ops do: tfjs calls only those of the inputs on the way to what is differentiated, where
 * `tf.customGrad` takes every input's gradient at once. A sequence's input `X` (the data, for a
 * first layer) then costs no `dL/dX`. `f` gets the inputs and the save function, and returns the
 * value and the gradient.
 */
export function customOp(
  inputs: tf.Tensor[],
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: LazyGradients },
): tf.Tensor {
  let gradFunc: LazyGradients | undefined;
  return (tf.engine() as unknown as KernelFuncEngine).runKernelFunc({
    forwardFunc: (_backend, save) => {
      const res = f(inputs, save);
      gradFunc = res.gradFunc;
      return res.value;
    },
    backwardsFunc: (dy, saved) => {
      const grads = gradFunc!(dy, saved);
      if (grads.length !== inputs.length) {
        throw new Error(`customOp: the gradient gave ${grads.length} functions for ${inputs.length} inputs`);
      }
      return Object.fromEntries(grads.map((g, i) => [String(i), g]));
    },
    inputs: Object.fromEntries(inputs.map((t, i) => [String(i), t])),
  });
}
