/**
 * tfjs's Adam in one kernel call per update: on cpu and wasm one pass over every variable, on
 * webgl three GPU programs per variable, on webgpu one dispatch per variable.
 *
 * `tf.AdamOptimizer.applyGradients` dispatches 14 kernels per variable (the moments, their bias
 * correction, the step) and 4 more per update. On cpu and wasm a small network's training step is
 * mostly that dispatch: a one-layer LSTM with a dense head has 14 variables, so about 200 of its
 * step's 320 kernels were Adam's. {@link applyGradients} does the same arithmetic for every
 * variable in one kernel, `TfjsRecurrentAdam`, in float32 operation by operation as tfjs's kernels
 * do (so the numbers are tfjs's; on the GPUs the programs compute the equations in tfjs's order of
 * operations, `./adam-programs.ts`: on webgl 3 programs per variable and 2 more, on webgpu 1 and 1
 * more, instead of 14 and 4):
 *
 * $$m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
 * x \leftarrow x - \eta \, \frac{m / (1 - \hat\beta_1)}{\sqrt{v / (1 - \hat\beta_2)} + \epsilon}$$
 *
 * with $\hat\beta_i$ the optimizer's `accBeta` (β_i to the power of the step number), updated after.
 * It works on the optimizer's own state (its moment variables, `accBeta1`/`accBeta2` and iteration
 * count, made as tfjs makes them), so `getWeights`, `setWeights` and `rt.train`'s checkpoints see
 * the same thing either way. It applies to `tf.train.adam(...)` and to subclasses that keep its
 * `applyGradients`; any other optimizer takes the optimizer's own `applyGradients`, and other
 * backends (tfjs-node, …) tfjs's ops (`./adam-ops.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { hostMemory, ownKernel, type WebGLBackend } from '../fast/kernels.js';
import { adamInWasm, type AdamNumbers } from '../fast/wasm/adam.js';
import { adamInOps, type AdamConstants, type AdamState } from './adam-ops.js';
import { adamWebGPU, runAdamProgram, type AdamUniforms } from './adam-programs.js';

export type { AdamState } from './adam-ops.js';

/** The hyperparameters of an update, as a kernel's attributes. */
export interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

const f = Math.fround;

/**
 * One update of one variable, `x1, m1, v1` from `x, m, v` and its gradient `g` (the outputs may be
 * the inputs), with `acc1 = accBeta1`, `acc2 = accBeta2` before the update: in our WebAssembly
 * module where it runs ({@link adamInWasm}, SIMD), else by {@link adamInJs}; the same numbers.
 */
export function adamUpdate(
  attrs: AdamAttrs,
  acc1: number,
  acc2: number,
  given: Float32Array[],
  out: Float32Array[],
): void {
  const k = adamNumbers(attrs, acc1, acc2);
  if (!adamInWasm(k, given, out)) adamInJs(k, given, out);
}

/** The numbers of an update, rounded to float32 as tfjs's kernels hold them. */
export function adamNumbers(attrs: AdamAttrs, acc1: number, acc2: number): AdamNumbers {
  return { ...adamUniforms(attrs), d1: f(1 - acc1), d2: f(1 - acc2) };
}

/** The numbers of an update that do not depend on `accBeta`, rounded to float32. */
function adamUniforms({ learningRate, beta1, beta2, epsilon }: AdamAttrs): AdamUniforms {
  return { b1: f(beta1), b2: f(beta2), c1: f(1 - beta1), c2: f(1 - beta2), eps: f(epsilon), step: f(-learningRate) };
}

/**
 * {@link adamUpdate} in JavaScript, the equations above one value at a time: every intermediate
 * rounded to float32 where tfjs's op-by-op update stores one.
 */
export function adamInJs(
  { b1, b2, c1, c2, d1, d2, eps, step }: AdamNumbers,
  [x, m, v, g]: readonly Float32Array[],
  [x1, m1, v1]: readonly Float32Array[],
): void {
  for (let j = 0; j < x.length; j++) {
    const gj = g[j];
    const mj = f(f(m[j] * b1) + f(gj * c1));
    const vj = f(f(v[j] * b2) + f(f(gj * gj) * c2));
    m1[j] = mj;
    v1[j] = vj;
    x1[j] = f(f(f(f(mj / d1) / f(f(Math.sqrt(f(vj / d2))) + eps)) * step) + x[j]);
  }
}

/** `accBeta1`, `accBeta2` after an update. */
export function nextAccBetas({ beta1, beta2 }: AdamAttrs, acc1: number, acc2: number): [number, number] {
  return [f(acc1 * f(beta1)), f(acc2 * f(beta2))];
}

/**
 * Outputs `x'_i, m'_i, v'_i` for every variable i, then `accBeta1'`, `accBeta2'`; inputs `x{i}`,
 * `m{i}`, `v{i}`, `g{i}`, `accBeta1`, `accBeta2`.
 */
const adamKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const mem = hostMemory(backend);
  const adam = attrs as unknown as AdamAttrs & { count: number };
  const shapes: number[][] = [];
  for (let i = 0; i < adam.count; i++) {
    const { shape } = inputs[`x${i}`] as tf.TensorInfo;
    shapes.push(shape, shape, shape);
  }
  const outs = mem.outputs([...shapes, [], []]);
  const acc1 = mem.view(inputs.accBeta1 as tf.TensorInfo)[0];
  const acc2 = mem.view(inputs.accBeta2 as tf.TensorInfo)[0];
  for (let i = 0; i < adam.count; i++) {
    const given = ['x', 'm', 'v', 'g'].map((k) => mem.view(inputs[`${k}${i}`] as tf.TensorInfo));
    adamUpdate(adam, acc1, acc2, given, outs.slice(3 * i, 3 * i + 3).map(mem.view));
  }
  [mem.view(outs[3 * adam.count])[0], mem.view(outs[3 * adam.count + 1])[0]] = nextAccBetas(adam, acc1, acc2);
  return outs;
};

/**
 * {@link adamKernel} on webgl (three programs per variable and one per `accBeta`) and webgpu (one
 * dispatch per variable and one for both `accBeta`s): `./adam-programs.ts`.
 */
const adamGpuKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const adam = attrs as unknown as AdamAttrs & { count: number };
  const numbers = adamUniforms(adam);
  const [acc1, acc2] = [inputs.accBeta1, inputs.accBeta2] as tf.TensorInfo[];
  const vars = Array.from({ length: adam.count }, (_, i) => {
    const [x, m, v, g] = ['x', 'm', 'v', 'g'].map((k) => inputs[`${k}${i}`] as tf.TensorInfo);
    return { x, m, v, g };
  });
  if (!('runWebGLProgram' in backend)) return adamWebGPU(backend, vars, acc1, acc2, numbers);
  const gl = backend as WebGLBackend;
  const outs = vars.flatMap(({ x, m, v, g }) =>
    (['x', 'm', 'v'] as const).map((output) => runAdamProgram(gl, output, { x, m, v, g, acc1, acc2 }, numbers)),
  );
  outs.push(runAdamProgram(gl, 'acc1', { acc1 }, numbers), runAdamProgram(gl, 'acc2', { acc2 }, numbers));
  return outs;
};

const kernel = ownKernel('TfjsRecurrentAdam', {
  cpu: adamKernel,
  wasm: adamKernel,
  webgl: adamGpuKernel,
  webgpu: adamGpuKernel,
});

/** The optimizer's Adam state when {@link applyGradients} may update it in one kernel, else null. */
export function adamState(optimizer: tf.Optimizer): AdamState | null {
  const adam =
    optimizer instanceof tf.AdamOptimizer && optimizer.applyGradients === tf.AdamOptimizer.prototype.applyGradients;
  return adam ? (optimizer as unknown as AdamState) : null;
}

/** The moments of `variables` as tfjs's Adam makes them on its first update, where they are not yet made. */
export function makeMoments(adam: AdamState, variables: readonly tf.Variable[]): void {
  variables.forEach((value, i) => {
    adam.accumulatedFirstMoment[i] ??= {
      originalName: `${value.name}/m`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    adam.accumulatedSecondMoment[i] ??= {
      originalName: `${value.name}/v`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
  });
}

/**
 * Takes an update made by {@link adamUpdate} and {@link nextAccBetas}: `updated` holds
 * `x'_i, m'_i, v'_i` for every variable, then `accBeta1'`, `accBeta2'` (assigned, not disposed:
 * dispose them in the caller's tidy). Counts the iteration, as tfjs's Adam does.
 */
export function assignUpdate(adam: AdamState, variables: readonly tf.Variable[], updated: readonly tf.Tensor[]): void {
  variables.forEach((value, i) => {
    value.assign(updated[3 * i]);
    adam.accumulatedFirstMoment[i].variable.assign(updated[3 * i + 1]);
    adam.accumulatedSecondMoment[i].variable.assign(updated[3 * i + 2]);
  });
  adam.accBeta1.assign(updated[3 * variables.length]);
  adam.accBeta2.assign(updated[3 * variables.length + 1]);
  adam.incrementIterations();
}

/**
 * `optimizer.applyGradients(variables[i] ← grads[i])`: for tfjs's Adam on cpu, wasm, webgl and
 * webgpu in one kernel call (see the module notes), on other backends with `constants` in tfjs's ops without
 * an upload per number (`./adam-ops.ts`), else by the optimizer itself.
 */
export function applyGradients(
  optimizer: tf.Optimizer,
  variables: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  constants?: AdamConstants,
): void {
  const adam = adamState(optimizer);
  const done =
    adam !== null &&
    tf.tidy(() => {
      makeMoments(adam, variables);
      const inputs: tf.NamedTensorMap = { accBeta1: adam.accBeta1, accBeta2: adam.accBeta2 };
      variables.forEach((value, i) => {
        inputs[`x${i}`] = value;
        inputs[`m${i}`] = adam.accumulatedFirstMoment[i].variable;
        inputs[`v${i}`] = adam.accumulatedSecondMoment[i].variable;
        inputs[`g${i}`] = grads[i];
      });
      const { learningRate, beta1, beta2, epsilon } = adam;
      const outs = kernel.run(inputs, { count: variables.length, learningRate, beta1, beta2, epsilon });
      if (outs !== null) assignUpdate(adam, variables, outs as tf.Tensor[]);
      else if (constants) adamInOps(adam, variables, grads, constants);
      return outs !== null || constants !== undefined;
    });
  if (!done) optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] })));
}
