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

/**
 * Each kernel: the tensors it reads (in this order) and the WGSL of one output entry. Indices:
 * `b` the batch row, `col` the output column, `j = col mod u`, `o = b·u + j` (a `[B, u]` state
 * entry), `x` and `p` step k's entry of gate 0 in `XP` and `HP`; for the backward kernels `r` the
 * row of step k in the stacked factors and `d` step k's entry in `DY` (the op's `dL/d[(c_T,) h]`).
 */
const KERNELS = {
  // Forward: the state after a step.
  elmanH: { reads: ['XP', 'HP'], value: 'tanh_(XP[x] + HP[p])' },
  lstmC: {
    reads: ['XP', 'HP', 'S'],
    value: 'sigmoid_(XP[x + u] + HP[p + u]) * S[o] + sigmoid_(XP[x] + HP[p]) * tanh_(XP[x + 2 * u] + HP[p + 2 * u])',
  },
  lstmH: { reads: ['XP', 'HP', 'S'], value: 'sigmoid_(XP[x + 3 * u] + HP[p + 3 * u]) * tanh_(S[o])' },
  gruH: {
    reads: ['XP', 'HP', 'S'],
    value: 'gru(sigmoid_(XP[x] + HP[p]), sigmoid_(XP[x + u] + HP[p + u]), XP[x + 2 * u], HP[p + 2 * u], S[o])',
  },
  // Backward (the factors of `./elman.ts`, `./lstm.ts`, `./gru.ts`): dL/dh_t = dy_t + the carry.
  gradH: { reads: ['DY', 'CH'], value: 'DY[d] + CH[o]' },
  elmanHP: { reads: ['G', 'F'], value: 'G[o] * F[r * u + j]' }, // ā = h̄ ⊙ f'
  // ā = [c̄, c̄, c̄, h̄] ⊙ d_gates with c̄ = c̄_carry + h̄ ⊙ dh_dc; then c̄_{t-1} = c̄ ⊙ f_t
  lstmHP: {
    reads: ['G', 'CC', 'A', 'D'],
    value: 'select(CC[o] + G[o] * A[r * u + j], G[o], col / u == 3) * D[r * 4 * u + col]',
  },
  lstmPrevC: { reads: ['G', 'CC', 'A', 'F'], value: '(CC[o] + G[o] * A[r * u + j]) * F[r * u + j]' },
  gruHP: { reads: ['G', 'D'], value: 'G[o] * D[r * 3 * u + col]' }, // [h̄, h̄, h̄] ⊙ d_hp
  gruPrevH: { reads: ['G', 'Z'], value: 'G[o] * Z[r * u + j]' }, // h̄ ⊙ z_t
} as const;

type Kernel = keyof typeof KERNELS;

/** The program of one kernel with output `[batch, width]`, one invocation per entry. */
function program(name: Kernel, batch: number, width: number) {
  const size = batch * width;
  return {
    // Only what the shader reads is bound: an unread binding leaves the bind group invalid.
    variableNames: [...KERNELS[name].reads],
    outputShape: [batch, width],
    shaderKey: `tfjsRecurrent_${name}`,
    size: true,
    // Sizes are uniforms, not constants in the code: tfjs caches a pipeline by shader key and ranks only.
    uniforms: 'row0 : i32, dyRow0 : i32, units : i32, width : i32, xpWidth : i32, hpWidth : i32,',
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
          let width = uniforms.width;
          let b = index / width;
          let col = index - b * width;
          let j = col % u;
          let o = b * u + j;
          let x = (uniforms.row0 + b) * uniforms.xpWidth + j;
          let p = b * uniforms.hpWidth + j;
          let r = uniforms.row0 + b;
          let d = (uniforms.dyRow0 + b) * u + j;
          result[index] = ${KERNELS[name].value};
        }
      }`,
  };
}

interface StepAttrs {
  name: Kernel;
  /** Step k's first row in `XP` and in the stacked factors. */
  row0: number;
  /** Step k's first row in `DY`. */
  dyRow0: number;
  /** The output's width: units, or gates × units. */
  width: number;
  batch: number;
  units: number;
}

const kernel = ownKernel(
  'TfjsRecurrentStep',
  {
    webgpu: ({ inputs, attrs, backend }) => {
      const { name, row0, dyRow0, width, batch, units } = attrs as unknown as StepAttrs;
      const reads = KERNELS[name].reads.map((v) => inputs[v] as tf.TensorInfo);
      const [xpWidth, hpWidth] = [inputs.XP, inputs.HP].map((t) => (t as tf.TensorInfo | undefined)?.shape[1] ?? 0);
      const sizes = [row0, dyRow0, units, width, xpWidth, hpWidth];
      const uniforms = sizes.map((v) => ({ type: 'int32' as const, data: [v] }));
      return (backend as WebGPUBackend).runWebGPUProgram(program(name, batch, width), reads, 'float32', uniforms);
    },
  },
  {
    gradFunc: () => {
      throw new Error('TfjsRecurrentStep has no gradient: the fast path runs it only where nothing is recorded');
    },
  },
);

/**
 * Runs one kernel on the tensors it reads; `state` is any `[batch, units]` tensor of the step (it
 * gives the sizes), `width` the output's columns (default units).
 */
function run(
  name: Kernel,
  tensors: Record<string, tf.Tensor>,
  state: tf.Tensor2D,
  at: { row0?: number; dyRow0?: number; width?: number } = {},
): tf.Tensor2D {
  const [batch, units] = state.shape;
  const { row0 = 0, dyRow0 = 0, width = units } = at;
  return kernel.run(tensors, { name, row0, dyRow0, width, batch, units }) as tf.Tensor2D;
}

/** The kernels' activations: tanh and the logistic σ. */
function applies(config: CellConfig): boolean {
  const sigmoid = config.recurrentActivation === undefined || config.recurrentActivation === 'sigmoid';
  return config.activation === 'tanh' && sigmoid;
}

/** The WebGPU step kernels of a configuration, where its activations are the kernels' ones. */
export const webgpuStepKernel: StepKernelFactory = (config) => {
  if (!applies(config) || (config.kind === 'gru' && config.resetAfter === false)) {
    return undefined; // other activations; a GRU without resetAfter has a matMul inside its step
  }
  const u = config.units;
  const gates = { elman: 1, lstm: 4, gru: 3 }[config.kind];
  const fits = (batch: number) => Math.ceil((batch * gates * u) / WORKGROUP) <= MAX_WORKGROUPS;
  const step: StepKernel['step'] = (XP, row0, HP, { h, c }) => {
    if (config.kind === 'elman') return { h: run('elmanH', { XP, HP }, h, { row0 }) };
    if (config.kind === 'gru') return { h: run('gruH', { XP, HP, S: h }, h, { row0 }) };
    const c_t = run('lstmC', { XP, HP, S: c! }, h, { row0 });
    return { h: run('lstmH', { XP, HP, S: c_t }, h, { row0 }), c: c_t };
  };
  const back: StepKernel['back'] = (DY, dyRow0, carry, f, row0) => {
    const G = run('gradH', { DY, CH: carry.h }, carry.h, { dyRow0 });
    if (config.kind === 'elman') return { gh: G, hp: run('elmanHP', { G, F: f.df }, G, { row0 }), prev: {} };
    if (config.kind === 'gru') {
      const hp = run('gruHP', { G, D: f.d_hp }, G, { row0, width: 3 * u });
      return { gh: G, hp, prev: { h: run('gruPrevH', { G, Z: f.z_t }, G, { row0 }) } };
    }
    const common = { G, CC: carry.c!, A: f.dh_dc };
    const hp = run('lstmHP', { ...common, D: f.d_gates }, G, { row0, width: 4 * u });
    return { gh: G, hp, prev: { c: run('lstmPrevC', { ...common, F: f.f_t }, G, { row0 }) } };
  };
  return { fits, step, back };
};
