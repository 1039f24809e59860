/**
 * A step of the cells' pointwise equations (after the recurrent matMul), and of their backward,
 * written once for the GPU backends' own kernels: WGSL for WebGPU (`./webgpu.ts`) and GLSL for
 * WebGL (`./webgl.ts`) each turn an entry of this table into the code of one output entry.
 *
 * Each kernel names the tensors it reads (in input order) and its value, an expression over
 * accessors both shading languages define (each only for the tensors the kernel reads):
 *
 * | accessor | reads | entry |
 * |----------|-------|-------|
 * | `xp(k)` | `XP` | step k's input half of gate k: row `row0 + b`, column `k·u + j` of `[T·B, G·u]` |
 * | `hp(k)` | `HP` | the recurrent half of gate k: row `b`, column `k·u + j` |
 * | `s()`, `ch()`, `g()`, `cc()` | `S`, `CH`, `G`, `CC` | `[B, u]` states and carried gradients at `(b, j)` |
 * | `dy()` | `DY` | the op's `dL/d h` of the step: row `dyRow0 + b`, column `j` |
 * | `f()`, `a()`, `z()` | `F`, `A`, `Z` | the step's stacked factors: row `row0 + b`, column `j` |
 * | `dcol()` | `D` | the step's stacked gate factors: row `row0 + b`, column `col` |
 *
 * with `b` the batch row and `col` the column of the output entry, `u` the units, `j = col mod u`;
 * `sigmoid_`, `tanh_` (one formula on both backends) and `pick(cond, ifTrue, ifFalse)`.
 *
 * With `xp`, `hp` the rows of the step's input and recurrent halves:
 *
 * | cell | kernel | computes |
 * |------|--------|----------|
 * | Elman | h | `h_t = tanh(xp_h + hp_h)` |
 * | LSTM | c | `c_t = σ(xp_f + hp_f) c_{t-1} + σ(xp_i + hp_i) tanh(xp_g + hp_g)` |
 * | LSTM | h | `h_t = σ(xp_o + hp_o) tanh(c_t)` |
 * | GRU (resetAfter) | h | `z, r = σ(xp + hp)`, `n = tanh(xp_n + r hp_n)`, `h_t = n + z (h_{t-1} - n)` |
 */
export const STEP_KERNELS = {
  // Forward: the state after a step.
  elmanH: { reads: ['XP', 'HP'], value: 'tanh_(xp(0) + hp(0))' },
  lstmC: {
    reads: ['XP', 'HP', 'S'],
    value: 'sigmoid_(xp(1) + hp(1)) * s() + sigmoid_(xp(0) + hp(0)) * tanh_(xp(2) + hp(2))',
  },
  lstmH: { reads: ['XP', 'HP', 'S'], value: 'sigmoid_(xp(3) + hp(3)) * tanh_(s())' },
  gruH: {
    reads: ['XP', 'HP', 'S'],
    value: 'gru(sigmoid_(xp(0) + hp(0)), sigmoid_(xp(1) + hp(1)), xp(2), hp(2), s())',
  },
  // Backward (the factors of `./elman.ts`, `./lstm.ts`, `./gru.ts`): h̄ = dL/dh_t = dy_t + the carry,
  // a kernel of its own where the cell's backward needs h̄ of all steps (the GRU's), else inline.
  gradH: { reads: ['DY', 'CH'], value: 'dy() + ch()' },
  elmanHP: { reads: ['DY', 'CH', 'F'], value: '(dy() + ch()) * f()' }, // ā = h̄ ⊙ f'
  // ā = [c̄, c̄, c̄, h̄] ⊙ d_gates with c̄ = c̄_carry + h̄ ⊙ dh_dc; then c̄_{t-1} = c̄ ⊙ f_t
  lstmHP: {
    reads: ['DY', 'CH', 'CC', 'A', 'D'],
    value: 'pick(col / u == 3, dy() + ch(), cc() + (dy() + ch()) * a()) * dcol()',
  },
  lstmPrevC: { reads: ['DY', 'CH', 'CC', 'A', 'F'], value: '(cc() + (dy() + ch()) * a()) * f()' },
  gruHP: { reads: ['G', 'D'], value: 'g() * dcol()' }, // [h̄, h̄, h̄] ⊙ d_hp
  gruPrevH: { reads: ['G', 'Z'], value: 'g() * z()' }, // h̄ ⊙ z_t
} as const;

export type StepKernelName = keyof typeof STEP_KERNELS;

/** The attributes of a step kernel's call. */
export interface StepAttrs {
  name: StepKernelName;
  /** Step k's first row in `XP` and in the stacked factors. */
  row0: number;
  /** Step k's first row in `DY`. */
  dyRow0: number;
  /** The output's width: units, or gates × units. */
  width: number;
  batch: number;
  units: number;
}

export type StepInput = (typeof STEP_KERNELS)[StepKernelName]['reads'][number];

/** Where each accessor reads: the row (`step`: `row0 + b`, `dy`: `dyRow0 + b`, `batch`: `b`) and the column. */
export const ACCESSORS: Record<
  StepInput,
  { name: string; arg: boolean; row: 'step' | 'dy' | 'batch'; col: 'gate' | 'j' | 'col' }
> = {
  XP: { name: 'xp', arg: true, row: 'step', col: 'gate' },
  HP: { name: 'hp', arg: true, row: 'batch', col: 'gate' },
  S: { name: 's', arg: false, row: 'batch', col: 'j' },
  CH: { name: 'ch', arg: false, row: 'batch', col: 'j' },
  G: { name: 'g', arg: false, row: 'batch', col: 'j' },
  CC: { name: 'cc', arg: false, row: 'batch', col: 'j' },
  DY: { name: 'dy', arg: false, row: 'dy', col: 'j' },
  F: { name: 'f', arg: false, row: 'step', col: 'j' },
  A: { name: 'a', arg: false, row: 'step', col: 'j' },
  Z: { name: 'z', arg: false, row: 'step', col: 'j' },
  D: { name: 'dcol', arg: false, row: 'step', col: 'col' },
};
