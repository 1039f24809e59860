/**
 * tfjs's Adam update as GPU programs: three per variable (its new first moment, second moment and
 * value) and one per `accBeta`, instead of tfjs's 14 kernels per variable. Each program computes
 * one of the update's equations, in tfjs's order of operations, in float32 on every entry:
 *
 * $$m' = m \beta_1 + g (1-\beta_1), \quad v' = v \beta_2 + g^2 (1-\beta_2), \quad
 * x' = \frac{m' / (1 - \hat\beta_1)}{\sqrt{v' / (1 - \hat\beta_2)} + \epsilon} (-\eta) + x$$
 *
 * (the program of `x'` computes `m'` and `v'` again rather than reading the other programs'
 * outputs: they are a few operations). The equations are written once ({@link UPDATES}) and made
 * into GLSL for WebGL (whole packed texels, `vec4`) and WGSL for WebGPU (one entry per invocation).
 * The hyperparameters are uniforms, so a changed learning rate compiles nothing; `accBeta1`,
 * `accBeta2` stay tensors on the GPU and are read by the programs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGLBackend, WebGPUBackend } from '../fast/kernels.js';
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

/** The WebGPU program of one output of shape `shape`: one entry per invocation. */
function wgsl(output: AdamOutput, shape: number[]) {
  const { reads, value } = UPDATES[output];
  const size = shape.reduce((a, b) => a * b, 1);
  const workgroup = 64;
  const read = (r: Read) => `let ${r} = ${r}_[${SCALARS.includes(r) ? '0' : 'index'}];`;
  return {
    variableNames: reads.map((r) => `${r}_`),
    outputShape: shape,
    shaderKey: `tfjsRecurrentAdam_${output}`,
    size: true,
    uniforms: NUMBERS.map((n) => `${n} : f32,`).join(' '),
    workgroupSize: [workgroup, 1, 1] as [number, number, number],
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / workgroup), 1, 1] as [number, number, number],
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${NUMBERS.map((n) => `let ${n} = uniforms.${n};`).join(' ')}
          ${reads.map(read).join(' ')}
          result[index] = ${value};
        }
      }`,
  };
}

/** Runs the program of `output` on `backend` (webgl or webgpu) with its inputs by name. */
export function runAdamProgram(
  backend: object,
  output: AdamOutput,
  inputs: Partial<Record<Read, tf.TensorInfo>>,
  numbers: AdamUniforms,
): tf.TensorInfo {
  const reads = UPDATES[output].reads.map((r) => inputs[r]!);
  const shape = reads[0].shape;
  const values = NUMBERS.map((n) => numbers[n]);
  if ('runWebGLProgram' in backend) {
    const gl = backend as WebGLBackend;
    return gl.runWebGLProgram(
      glsl(output, shape),
      reads,
      'float32',
      values.map((v) => [v]),
    );
  }
  const gpu = backend as WebGPUBackend;
  const uniforms = values.map((v) => ({ type: 'float32' as const, data: [v] }));
  return gpu.runWebGPUProgram(wgsl(output, shape), reads, 'float32', uniforms);
}
