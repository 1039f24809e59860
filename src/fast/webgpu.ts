/**
 * The step kernels of `./step-equations.ts` as WebGPU programs (WGSL), one invocation per output
 * entry. Sizes are uniforms, not constants in the code: tfjs caches a pipeline by shader key and
 * the inputs' ranks only.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from './kernels.js';
import { ACCESSORS, STEP_KERNELS, type StepAttrs, type StepInput, type StepKernelName } from './step-equations.js';
import { MAX_WORKGROUPS } from './webgpu-passes.js';

const WORKGROUP = 64;

/** The most output entries one WebGPU step kernel computes. */
export const WEBGPU_MAX_ENTRIES = WORKGROUP * MAX_WORKGROUPS;

/** `sigmoid_`, `tanh_` and the cells' helpers of `./step-equations.ts`, in WGSL. */
export const WGSL_CELL_FUNCTIONS = `
  fn sigmoid_(a : f32) -> f32 { return 1.0 / (1.0 + exp(-a)); }
  fn tanh_(a : f32) -> f32 {
    let e = exp(-2.0 * abs(a));
    return sign(a) * (1.0 - e) / (1.0 + e);
  }
  fn gru(z : f32, r : f32, xn : f32, hn : f32, h : f32) -> f32 {
    let n = tanh_(xn + r * hn);
    return n + z * (h - n);
  }
  fn gruGateGrad(gate : i32, recurrent : bool, az : f32, ar : f32, xn : f32, hn : f32, h : f32, hb : f32) -> f32 {
    let z = sigmoid_(az);
    let r = sigmoid_(ar);
    let n = tanh_(xn + r * hn);
    if (gate == 0) { return hb * (h - n) * z * (1.0 - z); }
    let dn = hb * (1.0 - z) * (1.0 - n * n);
    if (gate == 1) { return dn * hn * r * (1.0 - r); }
    return select(dn, dn * r, recurrent);
  }
  fn lstmPrevC(af : f32, ao : f32, c : f32, hb : f32, cc : f32) -> f32 {
    let o = sigmoid_(ao);
    let tc = tanh_(c);
    return (cc + hb * o * (1.0 - tc * tc)) * sigmoid_(af);
  }`;

/** The WGSL accessor of one input (see the table in `./step-equations.ts`); arrays are flat, row-major. */
function accessor(input: StepInput): string {
  const { name, arg, row, col } = ACCESSORS[input];
  const r = { step: 'uniforms.row0 + bRow', dy: 'uniforms.dyRow0 + bRow', batch: 'bRow' }[row];
  const c = { gate: 'k * u + colJ', j: 'colJ', col: 'col' }[col];
  const width = { XP: 'uniforms.xpWidth', HP: 'uniforms.hpWidth', D: 'uniforms.width' }[input as string] ?? 'u';
  return `fn ${name}(${arg ? 'k : i32' : ''}) -> f32 { return ${input}[(${r}) * ${width} + ${c}]; }`;
}

/**
 * The helpers that read the accessors themselves: only in a kernel whose value calls them (the
 * others lack some accessors).
 */
export function readingHelpers(value: string): string {
  if (!value.includes('lstmBackGate')) return '';
  return `
      fn lstmBackGate(gate : i32) -> f32 {
        let hb = dy() + ch();
        let tc = tanh_(s());
        let o = sigmoid_(xp(3) + hp(3));
        if (gate == 3) { return hb * tc * o * (1.0 - o); }
        let cb = cc() + hb * o * (1.0 - tc * tc);
        if (gate == 1) {
          let f = sigmoid_(xp(1) + hp(1));
          return cb * sp() * f * (1.0 - f);
        }
        let i = sigmoid_(xp(0) + hp(0));
        let g = tanh_(xp(2) + hp(2));
        if (gate == 0) { return cb * g * i * (1.0 - i); }
        return cb * i * (1.0 - g * g);
      }`;
}

/** The program of one kernel with output `[batch, width]`. */
function program(name: StepKernelName, batch: number, width: number) {
  const size = batch * width;
  const { reads, value } = STEP_KERNELS[name];
  return {
    // Only what the shader reads is bound: an unread binding leaves the bind group invalid.
    variableNames: [...reads],
    outputShape: [batch, width],
    shaderKey: `tfjsRecurrent_${name}`,
    size: true,
    uniforms: 'row0 : i32, dyRow0 : i32, units : i32, width : i32, xpWidth : i32, hpWidth : i32,',
    workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1] as [number, number, number],
    getUserCode: () => `
      var<private> bRow : i32;
      var<private> col : i32;
      var<private> colJ : i32;
      var<private> u : i32;
      ${WGSL_CELL_FUNCTIONS}
      ${reads.map(accessor).join('\n      ')}${readingHelpers(value)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          u = uniforms.units;
          bRow = index / uniforms.width;
          col = index - bRow * uniforms.width;
          colJ = col % u;
          result[index] = ${value};
        }
      }`,
  };
}

/** The WebGPU kernel function of every step kernel. */
export const webgpuStep: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { name, row0, dyRow0, width, batch, units } = attrs as unknown as StepAttrs;
  const reads = STEP_KERNELS[name].reads.map((v) => inputs[v] as tf.TensorInfo);
  const [xpWidth, hpWidth] = [inputs.XP, inputs.HP].map((t) => (t as tf.TensorInfo | undefined)?.shape[1] ?? 0);
  const uniforms = [row0, dyRow0, units, width, xpWidth, hpWidth].map((v) => ({ type: 'int32' as const, data: [v] }));
  return (backend as WebGPUBackend).runWebGPUProgram(program(name, batch, width), reads, 'float32', uniforms);
};
