/**
 * One step of a cell's pointwise equations as one GPU kernel, for the fast path's loop, on the
 * backends that have one (WebGPU: `./webgpu.ts`; WebGL: `./webgl.ts`; both generated from the
 * table in `./step-equations.ts`).
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
 * whose steps back use the backward kernels). A step back reads the step's own forward tensors
 * (the gates again from `XP` and the kept recurrent halves, the states before and after), so the
 * forward stacks nothing for it. They are tested against the plain path and the PyTorch fixtures
 * on webgpu (Node) and webgl (Chromium).
 *
 * On webgpu a sequence without a mask takes the whole-sequence kernel instead
 * (`./webgpu-sequence.ts`: the recurrent matMul inside the step's program, every step recorded in
 * one call); the step kernels run the masked ones there, and every sequence on webgl.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig } from '../cells/cell.js';
import { ownKernel } from './kernels.js';
import type { StepKernel, StepKernelFactory } from './registry.js';
import type { StepKernelName } from './step-equations.js';
import { webglStep } from './webgl.js';
import { WEBGPU_MAX_ENTRIES, webgpuStep } from './webgpu.js';

const kernel = ownKernel(
  'TfjsRecurrentStep',
  { webgpu: webgpuStep, webgl: webglStep },
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
  name: StepKernelName,
  tensors: Record<string, tf.Tensor>,
  state: tf.Tensor2D,
  at: { row0?: number; dyRow0?: number; width?: number } = {},
): tf.Tensor2D {
  const [batch, units] = state.shape;
  const { row0 = 0, dyRow0 = 0, width = units } = at;
  return kernel.run(tensors, { name, row0, dyRow0, width, batch, units }) as tf.Tensor2D;
}

/** The gates of each kind the GPU kernels compute, all of them in the per-step matMul (`./elman.ts`, `./lstm.ts`, `./gru.ts`). */
export const GATES = { elman: 1, lstm: 4, gru: 3 } as const;

/**
 * Whether the GPU kernels compute a configuration: an Elman RNN, LSTM or GRU (with `resetAfter`:
 * without, its step has a matMul inside) with the kernels' activations, tanh and the logistic σ.
 */
export function gpuKernelsApply(config: CellConfig): config is CellConfig & { kind: 'elman' | 'lstm' | 'gru' } {
  if (config.kind !== 'elman' && config.kind !== 'lstm' && config.kind !== 'gru') return false;
  const sigmoid = config.recurrentActivation === undefined || config.recurrentActivation === 'sigmoid';
  return config.activation === 'tanh' && sigmoid && !(config.kind === 'gru' && config.resetAfter === false);
}

/** The step kernels of a configuration, where its activations are the kernels' ones. */
export const gpuStepKernel: StepKernelFactory = (config) => {
  if (!gpuKernelsApply(config)) return undefined;
  const u = config.units;
  const gates = GATES[config.kind];
  const fits = (batch: number) => tf.getBackend() !== 'webgpu' || batch * gates * u <= WEBGPU_MAX_ENTRIES;
  const step: StepKernel['step'] = (XP, row0, HP, { h, c }) => {
    if (config.kind === 'elman') return { h: run('elmanH', { XP, HP }, h, { row0 }) };
    if (config.kind === 'gru') return { h: run('gruH', { XP, HP, S: h }, h, { row0 }) };
    const c_t = run('lstmC', { XP, HP, S: c! }, h, { row0 });
    return { h: run('lstmH', { XP, HP, S: c_t }, h, { row0 }), c: c_t };
  };
  const back: StepKernel['back'] = (DY, dyRow0, carry, { XP, row0, hp, before, after }, viaW) => {
    const common = { XP, HP: hp, DY, CH: carry.h };
    const at = { row0, dyRow0 };
    if (config.kind === 'elman') {
      const dhp = run('elmanBackHP', { DY, CH: carry.h, S: after.h }, carry.h, at);
      return { hp: dhp, prev: { h: viaW(dhp) } };
    }
    if (config.kind === 'gru') {
      const gates = { ...common, SP: before.h };
      const dhp = run('gruBackHP', gates, carry.h, { ...at, width: 3 * u });
      return {
        hp: dhp,
        xp: run('gruBackXP', gates, carry.h, { ...at, width: 3 * u }),
        prev: { h: run('gruBackPrevH', { ...common, V: viaW(dhp) }, carry.h, at) },
      };
    }
    const lstm = { ...common, CC: carry.c!, S: after.c! };
    const dhp = run('lstmBackHP', { ...lstm, SP: before.c! }, carry.h, { ...at, width: 4 * u });
    return { hp: dhp, prev: { h: viaW(dhp), c: run('lstmBackPrevC', lstm, carry.h, at) } };
  };
  return { fits, step, back };
};
