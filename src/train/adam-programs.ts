/**
 * tfjs's Adam update as GPU programs instead of tfjs's 14 kernels per variable. Each computes the
 * update's equations in tfjs's order of operations, in float32 on every entry:
 *
 * $$m' = m \beta_1 + g (1-\beta_1), \quad v' = v \beta_2 + g^2 (1-\beta_2), \quad
 * x' = \frac{m' / (1 - \hat\beta_1)}{\sqrt{v' / (1 - \hat\beta_2)} + \epsilon} (-\eta) + x$$
 *
 * The equations are written once ({@link UPDATES}) and made into GLSL for WebGL and WGSL for
 * WebGPU. On WebGL a program has one output: three programs per variable (`x'` computes `m'` and
 * `v'` again rather than reading the other programs' outputs: they are a few operations; whole
 * packed texels, `vec4`) and one per `accBeta`. On WebGPU a program of ours writes all three, one
 * dispatch per variable recorded into tfjs's pass (`../fast/webgpu-passes.ts`), after one that
 * writes both `accBeta`s. The hyperparameters are uniforms, so a changed learning rate compiles
 * nothing; `accBeta1`, `accBeta2` stay tensors on the GPU and are read by the programs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGLBackend } from '../fast/kernels.js';
import {
  declareBindings,
  gpuOutput,
  MAX_WORKGROUPS,
  recordDispatches,
  tfjsWebGPU,
  type Binding,
} from '../fast/webgpu-passes.js';
import type { AdamNumbers } from '../fast/wasm/adam.js';

/** The numbers of an update the programs take as uniforms (those that do not depend on `accBeta`). */
export type AdamUniforms = Omit<AdamNumbers, 'd1' | 'd2'>;

const NUMBERS = ['b1', 'c1', 'b2', 'c2', 'eps', 'step'] as const satisfies readonly (keyof AdamUniforms)[];

/**
 * Each output's tensors read (in input order) and its value, over their entries `x`, `m`, `v`,
 * `g`, the scalars `acc1`, `acc2` and the uniforms of {@link AdamUniforms}.
 */
const UPDATES = {
  m: { reads: ['m', 'g'], value: 'm * b1 + g * c1' },
  v: { reads: ['v', 'g'], value: 'v * b2 + (g * g) * c2' },
  x: {
    reads: ['x', 'm', 'v', 'g', 'acc1', 'acc2'],
    value: '((m * b1 + g * c1) / (1.0 - acc1)) / (sqrt((v * b2 + (g * g) * c2) / (1.0 - acc2)) + eps) * step + x',
  },
  acc1: { reads: ['acc1'], value: 'acc1 * b1' },
  acc2: { reads: ['acc2'], value: 'acc2 * b2' },
} as const;

export type AdamOutput = keyof typeof UPDATES;
type Read = (typeof UPDATES)[AdamOutput]['reads'][number];

const SCALARS: readonly Read[] = ['acc1', 'acc2'];

/** The WebGL program of one output of shape `shape`: packed texels, four entries at a time. */
function glsl(output: AdamOutput, shape: number[]) {
  const { reads, value } = UPDATES[output];
  const vector = !SCALARS.includes(output);
  // An entry read at the output's coordinates, or a scalar (its texel's first channel).
  const read = (r: Read) => {
    const getter = `get${r[0].toUpperCase()}${r.slice(1)}`;
    return SCALARS.includes(r) && vector ? `float ${r} = ${getter}().x;` : `vec4 ${r} = ${getter}AtOutCoords();`;
  };
  return {
    variableNames: [...reads],
    outputShape: shape,
    packedInputs: true,
    packedOutput: true,
    customUniforms: NUMBERS.map((name) => ({ name: `rtAdam_${name}`, type: 'float' as const })),
    userCode: `
      void main() {
        ${NUMBERS.map((n) => `float ${n} = rtAdam_${n};`).join(' ')}
        ${reads.map(read).join(' ')}
        setOutput(${value});
      }`,
  };
}

/** Runs the program of `output` on the webgl backend with its inputs by name. */
export function runAdamProgram(
  backend: WebGLBackend,
  output: AdamOutput,
  inputs: Partial<Record<Read, tf.TensorInfo>>,
  numbers: AdamUniforms,
): tf.TensorInfo {
  const reads = UPDATES[output].reads.map((r) => inputs[r]!);
  const values = NUMBERS.map((n) => numbers[n]);
  return backend.runWebGLProgram(
    glsl(output, reads[0].shape),
    reads,
    'float32',
    values.map((v) => [v]),
  );
}

/** Invocations per workgroup of the WebGPU programs. */
const WORKGROUP = 64;

/** Bindings the programs read, and bindings they write. */
const reading = (names: string[]): Binding[] => names.map((name) => [name, false]);
const writing = (names: string[]): Binding[] => names.map((name) => [name, true]);

/** The WGSL of the WebGPU programs: their bindings, the numbers' uniform, and the invocation's entry. */
const WGSL_START = (bindings: readonly Binding[]) => `
${declareBindings(bindings, { name: 'numbers', type: 'Numbers' })}
struct Numbers { ${NUMBERS.map((n) => `${n} : f32,`).join(' ')} size : i32, rowWidth : i32 }
@compute @workgroup_size(${WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let index = i32(gid.y) * numbers.rowWidth + i32(gid.x);
  if (index >= numbers.size) { return; }
  ${NUMBERS.map((n) => `let ${n} = numbers.${n};`).join(' ')}`;

/** One variable's `x'`, `m'`, `v'`; `A` holds `accBeta1`, `accBeta2` before the update. */
const VARIABLE_BINDINGS = [...reading(['x_', 'm_', 'v_', 'g_', 'A']), ...writing(['xOut', 'mOut', 'vOut'])];
const VARIABLE_PROGRAM = {
  key: 'tfjsRecurrentAdamVariable',
  bindings: VARIABLE_BINDINGS,
  code: () => `${WGSL_START(VARIABLE_BINDINGS)}
  let x = x_[index];
  let m = m_[index];
  let v = v_[index];
  let g = g_[index];
  let acc1 = A[0];
  let acc2 = A[1];
  mOut[index] = ${UPDATES.m.value};
  vOut[index] = ${UPDATES.v.value};
  xOut[index] = ${UPDATES.x.value};
}`,
};

/** `accBeta1`, `accBeta2` into `A` for the variables' programs, and both after the update. */
const ACC_BINDINGS = [...reading(['acc1_', 'acc2_']), ...writing(['A', 'acc1Out', 'acc2Out'])];
const ACC_PROGRAM = {
  key: 'tfjsRecurrentAdamAcc',
  bindings: ACC_BINDINGS,
  code: () => `${WGSL_START(ACC_BINDINGS)}
  let acc1 = acc1_[0];
  let acc2 = acc2_[0];
  A[0] = acc1;
  A[1] = acc2;
  acc1Out[0] = ${UPDATES.acc1.value};
  acc2Out[0] = ${UPDATES.acc2.value};
}`,
  dispatch: [1, 1] as [number, number],
};

/** The uniforms of a program over `size` entries: the numbers (float32 bits), the size, the row width. */
function numbersOf(numbers: AdamUniforms, size: number, rowWidth: number): number[] {
  const floats = new Float32Array(NUMBERS.map((n) => numbers[n]));
  return [...new Int32Array(floats.buffer), size, rowWidth];
}

/**
 * The update on the webgpu backend: `x'_i, m'_i, v'_i` of every variable (`vars[i]`), then
 * `accBeta1'`, `accBeta2'`.
 */
export function adamWebGPU(
  backend: object,
  vars: { x: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo }[],
  acc1: tf.TensorInfo,
  acc2: tf.TensorInfo,
  numbers: AdamUniforms,
): tf.TensorInfo[] {
  const gpu = tfjsWebGPU(backend);
  const [A, acc1Out, acc2Out] = [[2], [], []].map((shape) => gpuOutput(gpu, shape));
  recordDispatches(gpu, ACC_PROGRAM, [acc1, acc2, A, acc1Out, acc2Out], [numbersOf(numbers, 1, WORKGROUP)]);
  const outs: tf.TensorInfo[] = [];
  for (const { x, m, v, g } of vars) {
    const size = x.shape.reduce((a, b) => a * b, 1);
    const groups = Math.ceil(size / WORKGROUP);
    const dispatch: [number, number] = [Math.min(groups, MAX_WORKGROUPS), Math.ceil(groups / MAX_WORKGROUPS)];
    const [xOut, mOut, vOut] = [0, 1, 2].map(() => gpuOutput(gpu, x.shape));
    const uniforms = numbersOf(numbers, size, dispatch[0] * WORKGROUP);
    recordDispatches(gpu, { ...VARIABLE_PROGRAM, dispatch }, [x, m, v, g, A, xOut, mOut, vOut], [uniforms]);
    outs.push(xOut, mOut, vOut);
  }
  gpu.disposeData(A.dataId);
  return [...outs, acc1Out, acc2Out];
}
