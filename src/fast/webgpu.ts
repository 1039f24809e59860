/**
 * One step of a cell's pointwise equations as one WebGPU kernel (WGSL), for the fast path's loop.
 *
 * On a GPU, tfjs is bound by dispatches (about 36 µs each on an H100 through Dawn, whatever the
 * size), and a step of the equations written with tf ops is a dozen of them: the split of the
 * projections, an add, the activations, the products. Here the step after the recurrent matMul is
 * one dispatch (two for the LSTM, whose `h_t` needs the finished `c_t`), reading its rows of the
 * whole sequence's input projection in place, so the projection is not cut into steps either.
 *
 * The kernels compute the cells' equations (`src/cells/`) for their default activations, tanh and
 * the logistic σ; other activations keep the tf ops. They have no gradient: the fast path uses them
 * only where nothing is recorded (inference, and the forward inside the whole-sequence gradient,
 * whose backward recomputes the quantities it needs from the same equations on all steps at once).
 * They are tested against the plain path and the PyTorch fixtures on webgpu.
 *
 * With `u` units and `xp`, `hp` the rows of the step's input and recurrent halves (gate `g` at
 * column `g·u + j`):
 *
 * | cell | kernel | computes |
 * |------|--------|----------|
 * | Elman | h | `h_t = tanh(xp_h + hp_h)` |
 * | LSTM | c | `c_t = σ(xp_f + hp_f) c_{t-1} + σ(xp_i + hp_i) tanh(xp_g + hp_g)` |
 * | LSTM | h | `h_t = σ(xp_o + hp_o) tanh(c_t)` |
 * | GRU (resetAfter) | h | `z, r = σ(xp + hp)`, `n = tanh(xp_n + r hp_n)`, `h_t = n + z (h_{t-1} - n)` |
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig } from '../cells/cell.js';
import { ownKernel, type WebGPUBackend } from './kernels.js';
import type { StepKernel, StepKernelFactory } from './registry.js';

const WORKGROUP = 64;
/** WebGPU's limit on workgroups along x: larger steps keep the tf ops. */
const MAX_WORKGROUPS = 65535;

/** The WGSL of each kernel's output value, from the indices `x` (into XP), `p` (into HP), `o` (output) and `u`. */
const BODIES = {
  elmanH: 'tanh_(XP[x] + HP[p])',
  lstmC: 'sigmoid_(XP[x + u] + HP[p + u]) * S[o] + sigmoid_(XP[x] + HP[p]) * tanh_(XP[x + 2 * u] + HP[p + 2 * u])',
  lstmH: 'sigmoid_(XP[x + 3 * u] + HP[p + 3 * u]) * tanh_(S[o])',
  gruH: `gru(sigmoid_(XP[x] + HP[p]), sigmoid_(XP[x + u] + HP[p + u]), XP[x + 2 * u], HP[p + 2 * u], S[o])`,
} as const;

type Body = keyof typeof BODIES;

/** The program for one kernel: output `[batch, units]`, one invocation per entry. */
function program(body: Body, batch: number, units: number) {
  const size = batch * units;
  return {
    // A binding the shader does not read would leave the bind group invalid: the Elman step reads no state.
    variableNames: body === 'elmanH' ? ['XP', 'HP'] : ['XP', 'HP', 'S'],
    outputShape: [batch, units],
    shaderKey: `tfjsRecurrent_${body}`,
    size: true,
    uniforms: 'row0 : i32, units : i32, xpWidth : i32, hpWidth : i32,',
    workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1] as [number, number, number],
    getUserCode: () => `
      fn sigmoid_(a : f32) -> f32 { return 1.0 / (1.0 + exp(-a)); }
      fn tanh_(a : f32) -> f32 {
        let e = exp(-2.0 * abs(a));
        return sign(a) * (1.0 - e) / (1.0 + e);
      }
      fn gru(z : f32, r : f32, xn : f32, hn : f32, h : f32) -> f32 {
        let n = tanh_(xn + r * hn);
        return n + z * (h - n);
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let u = uniforms.units;
          let b = index / u;
          let j = index - b * u;
          let x = (uniforms.row0 + b) * uniforms.xpWidth + j;
          let p = b * uniforms.hpWidth + j;
          let o = index;
          result[index] = ${BODIES[body]};
        }
      }`,
  };
}

interface StepAttrs {
  body: Body;
  row0: number;
}

const kernel = ownKernel(
  'TfjsRecurrentStep',
  {
    webgpu: ({ inputs, attrs, backend }) => {
      const { XP, HP, S } = inputs as { XP: tf.TensorInfo; HP: tf.TensorInfo; S: tf.TensorInfo };
      const { body, row0 } = attrs as unknown as StepAttrs;
      const [batch, units] = S.shape;
      const uniforms = [row0, units, XP.shape[1], HP.shape[1]].map((v) => ({ type: 'int32' as const, data: [v] }));
      const prog = program(body, batch, units);
      const bound = prog.variableNames.length === 3 ? [XP, HP, S] : [XP, HP];
      return (backend as WebGPUBackend).runWebGPUProgram(prog, bound, 'float32', uniforms);
    },
  },
  {
    gradFunc: () => {
      throw new Error('TfjsRecurrentStep has no gradient: the fast path runs it only where nothing is recorded');
    },
  },
);

/** Runs one kernel: `[batch, units]` from the rows of `XP` at `row0`, `hp` and `s` (the state entry it reads). */
function run(body: Body, XP: tf.Tensor2D, row0: number, hp: tf.Tensor2D, s: tf.Tensor2D): tf.Tensor2D {
  return kernel.run({ XP, HP: hp, S: s }, { body, row0 }) as tf.Tensor2D;
}

/** The kernels' activations: tanh and the logistic σ. */
function applies(config: CellConfig): boolean {
  const sigmoid = config.recurrentActivation === undefined || config.recurrentActivation === 'sigmoid';
  return config.activation === 'tanh' && sigmoid;
}

/** The WebGPU step kernel of a configuration, where its activations are the kernels' ones. */
export const webgpuStepKernel: StepKernelFactory = (config) => {
  if (!applies(config)) return undefined;
  const fits = (batch: number) => Math.ceil((batch * config.units) / WORKGROUP) <= MAX_WORKGROUPS;
  const kernelOf = (step: StepKernel['step']): StepKernel => ({ fits, step });
  if (config.kind === 'elman') {
    return kernelOf((XP, row0, hp, { h }) => ({ h: run('elmanH', XP, row0, hp, h) }));
  }
  if (config.kind === 'lstm') {
    return kernelOf((XP, row0, hp, { c }) => {
      const c_t = run('lstmC', XP, row0, hp, c!);
      return { h: run('lstmH', XP, row0, hp, c_t), c: c_t };
    });
  }
  if (config.resetAfter === false) return undefined; // W_nh multiplies r_t ⊙ h_{t-1}: a matMul inside the step
  return kernelOf((XP, row0, hp, { h }) => ({ h: run('gruH', XP, row0, hp, h) }));
};
