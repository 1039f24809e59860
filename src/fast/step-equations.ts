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
 * | `s()`, `sp()`, `ch()`, `cc()`, `v()` | `S`, `SP`, `CH`, `CC`, `V` | `[B, u]` states, carried gradients and the matMul's part at `(b, j)` |
 * | `dy()` | `DY` | the op's `dL/d h` of the step: row `dyRow0 + b`, column `j` |
 *
 * with `b` the batch row and `col` the column of the output entry, `u` the units, `j = col mod u`;
 * `sigmoid_`, `tanh_` (one formula on both backends) and the cells' helpers below (each written in
 * both languages: `gru`, `lstmPrevC`, `gruGateGrad`; and `lstmBackGate`, which reads the accessors
 * itself, only what its gate needs, and is defined only in the kernel that calls it).
 *
 * With `xp`, `hp` the rows of the step's input and recurrent halves:
 *
 * | cell | kernel | computes |
 * |------|--------|----------|
 * | Elman | h | `h_t = tanh(xp_h + hp_h)` |
 * | LSTM | c | `c_t = σ(xp_f + hp_f) c_{t-1} + σ(xp_i + hp_i) tanh(xp_g + hp_g)` |
 * | LSTM | h | `h_t = σ(xp_o + hp_o) tanh(c_t)` |
 * | GRU (resetAfter) | h | `z, r = σ(xp + hp)`, `n = tanh(xp_n + r hp_n)`, `h_t = n + z (h_{t-1} - n)` |
 *
 * and back (`./lstm.ts` has the equations), the LSTM's from the step's own forward tensors — its
 * gates from `xp + hp` again, `c_t` (`s()`) and `c_{t-1}` (`sp()`) — so nothing of the forward is
 * stacked for it: with `h̄ = dy + carry`, `c̄ = c̄_carry + h̄ o_t tanh'(c_t)`,
 *
 * | kernel | computes |
 * |--------|----------|
 * | `lstmBackHP` | `ā = [c̄ g_t σ'(i_t), c̄ c_{t-1} σ'(f_t), c̄ i_t tanh'(g_t), h̄ tanh(c_t) σ'(o_t)]`: `lstmBackGate(gate)` |
 * | `lstmBackPrevC` | `c̄_{t-1} = c̄ f_t`: `lstmPrevC(a_f, a_o, c_t, h̄, c̄_carry)` |
 *
 * and the GRU's alike (`sp()` is `h_{t-1}`), with `ā_n = h̄ (1 - z_t) tanh'(n_t)`:
 *
 * | kernel | computes |
 * |--------|----------|
 * | `gruBackHP` | `dL/dhp_t = [h̄ (h_{t-1} - n_t) σ'(z_t), ā_n hp_n σ'(r_t), ā_n r_t]` |
 * | `gruBackXP` | `dL/dXP_t = [h̄ (h_{t-1} - n_t) σ'(z_t), ā_n hp_n σ'(r_t), ā_n]` |
 * | `gruBackPrevH` | `dL/dh_{t-1} = h̄ z_t + v`, with `v = dL/dhp_t W_h` the recurrent matMul's part |
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
  // Backward (`./elman.ts`, `./lstm.ts`, `./gru.ts`), with h̄ = dL/dh_t = dy_t + the carry.
  elmanBackHP: { reads: ['DY', 'CH', 'S'], value: '(dy() + ch()) * (1.0 - s() * s())' }, // ā = h̄ tanh'(h_t)
  lstmBackHP: {
    reads: ['XP', 'HP', 'DY', 'CH', 'CC', 'S', 'SP'],
    value: 'lstmBackGate(col / u)',
  },
  lstmBackPrevC: {
    reads: ['XP', 'HP', 'DY', 'CH', 'CC', 'S'],
    value: 'lstmPrevC(xp(1) + hp(1), xp(3) + hp(3), s(), dy() + ch(), cc())',
  },
  gruBackHP: {
    reads: ['XP', 'HP', 'DY', 'CH', 'SP'],
    value: 'gruGateGrad(col / u, true, xp(0) + hp(0), xp(1) + hp(1), xp(2), hp(2), sp(), dy() + ch())',
  },
  gruBackXP: {
    reads: ['XP', 'HP', 'DY', 'CH', 'SP'],
    value: 'gruGateGrad(col / u, false, xp(0) + hp(0), xp(1) + hp(1), xp(2), hp(2), sp(), dy() + ch())',
  },
  // h̄ z_t + dL/dhp_t W_h: all of dL/dh_{t-1}
  gruBackPrevH: { reads: ['XP', 'HP', 'DY', 'CH', 'V'], value: '(dy() + ch()) * sigmoid_(xp(0) + hp(0)) + v()' },
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
  SP: { name: 'sp', arg: false, row: 'batch', col: 'j' },
  CH: { name: 'ch', arg: false, row: 'batch', col: 'j' },
  CC: { name: 'cc', arg: false, row: 'batch', col: 'j' },
  V: { name: 'v', arg: false, row: 'batch', col: 'j' },
  DY: { name: 'dy', arg: false, row: 'dy', col: 'j' },
};
