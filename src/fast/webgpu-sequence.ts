/**
 * The whole-sequence kernel of the webgpu backend ({@link SequenceKernel}): every step of an
 * Elman RNN, LSTM or GRU forward in one tfjs kernel call, and, while tfjs records gradients, every
 * step back in one more; the weight gradients are then single matMuls over all steps
 * (`./gradients.ts`), as on the fast path's other roads.
 *
 * A step is one dispatch of a program of ours that computes the step's products and the cell's
 * pointwise equations together: the invocation of units `j..j+C` and `R` batch rows forms its
 * entries of `xp = x_t W_x^T + b` and `hp = h_{t-1} W_h^T + b_h` (reading the columns
 * `j, u + j, …` of `W_x^T` and `W_h^T` and the rows' `x_t`, `h_{t-1}`), then the step's equations
 * from the table of `./step-equations.ts` (the same expressions as the step kernels, with `xp(k)`,
 * `hp(k)` and the state read from the invocation's own values). A step back is one dispatch too:
 * the invocation forms its entries of `dL/dh_t`'s matMul part `dL/dhp_{t+1} W_h`, then the gates'
 * gradients of its units from the same table. On a GPU's adapter, where a step has too few
 * invocations to fill it, each sum is split into slices a workgroup adds up ({@link Tiling}).
 * The steps' dispatches are recorded into tfjs's pass with one bind group per call
 * (`./webgpu-passes.ts`), so a step costs the host a `setBindGroup` and a dispatch, not one of
 * tfjs's programs (shader key, uniforms, bind group).
 *
 * The forward writes every step's state where the backward reads it: `V` is the op's value
 * (`[c_T,] h_1..h_T`), `C` every `c_t` from `c_0` (LSTM), `Hprev` every `h_{t-1}` (the rows the
 * weight gradient `dW_h` needs) and `A` every step's halves `[xp | hp]`; the backward writes `D`
 * (every `dL/dhp_t`), the GRU's `DX` (`dL/dxp_t`, which differs in the candidate's gate) and the
 * pointwise part of the carried gradient (`dL/dc_{t-1}` of the LSTM, `h̄_t z_t` of the GRU), and a
 * last dispatch `dL/dh_0` (`dL/dc_0`). A program binds at most 8 buffers (WebGPU's default limit
 * per shader stage): hence `b` as the last row of `W_x^T` (`WxTb`), `c_0` below `h_0` (`S0`).
 *
 * It runs sequences without a mask, where the device's limits hold its buffers; others take the
 * step kernels (`./step-kernels.ts`). It is tested against the plain path and the PyTorch
 * fixtures on webgpu in Node (Dawn) and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig, State } from '../cells/cell.js';
import type { FusedWeights } from './fused.js';
import { inputGradients, rowsOf } from './gradients.js';
import { customOp, ownKernel } from './kernels.js';
import type { SequenceKernel } from './registry.js';
import { STEP_KERNELS } from './step-equations.js';
import { GATES, gpuKernelsApply } from './step-kernels.js';
import {
  declareBindings,
  float32Values,
  gpuOutput,
  MAX_WORKGROUPS,
  recordDispatches,
  refusedPrograms,
  softwareAdapter,
  tfjsWebGPU,
  type Binding,
  type PassProgram,
} from './webgpu-passes.js';
import { readingHelpers, WGSL_CELL_FUNCTIONS } from './webgpu.js';

type Kind = keyof typeof GATES;

/** Invocations per workgroup. */
const INVOCATIONS = 64;
/** The most batch rows an invocation takes. */
const MAX_ROWS = 4;
/**
 * Invocations a step's dispatch should have on a GPU: a large one runs tens of thousands at once
 * (an H100: 132 multiprocessors of up to 2048), and an invocation waiting on memory is hidden only
 * by others. A software adapter's few threads are filled by any step; slices there only add barriers.
 */
const FILL = 32768;
/** The most slices of a product's inner sum, and the fewest terms a slice sums. */
const MAX_SLICES = 8;
const MIN_TERMS = 32;

/** The sizes of one call. */
interface Sizes {
  kind: Kind;
  T: number;
  B: number;
  u: number;
  /** The input's size. */
  I: number;
  /** Batch rows per invocation. */
  R: number;
  /** Units per invocation: 4 (the matrices read as `vec4`s) where the units are a multiple of 4, else 1. */
  C: number;
  /** Whether `W_h^T` has recurrent biases `b_h` (the GRU's `b_nh`). */
  bh: boolean;
}

/**
 * Batch rows per invocation: 4 where the batch is large (each `W_h` entry read then serves 4
 * rows), 1 where it is small (more invocations, each as long: there the step's latency, not its
 * arithmetic, bounds it).
 */
function sizesOf(kind: Kind, T: number, B: number, u: number, I: number, bh: boolean): Sizes {
  return { kind, T, B, u, I, R: B >= 64 ? MAX_ROWS : 1, C: u % 4 === 0 ? 4 : 1, bh };
}

/**
 * How a program splits its work: `S` slices of each product's inner sum (an invocation sums every
 * `S`-th term, and the slices of a workgroup add theirs in workgroup memory), in workgroups of
 * `[x, y, S]` invocations. A step with few outputs (a small batch, or the backward's `B × u` with
 * an inner size of `G·u`) has too few invocations to fill a large GPU, each one long; slicing the
 * sums gives it `S` times as many, each `S` times as short. A workgroup's sums take at most
 * `(S - 1) / S · 64` invocations × `R·G` accumulators × 16 bytes: 14 KiB, within the 16 KiB every
 * WebGPU device gives.
 */
interface Tiling {
  S: number;
  workgroup: [number, number, number];
}

/** Slices set by hand (the tests, and the GPU bench's A/B); undefined: chosen by {@link tilingOf}. */
export const slicing: { fixed?: 1 | 2 | 4 | 8 } = {};

/** The tiling of a program whose products sum `inner` terms. */
function tilingOf({ B, u, R, C }: Sizes, inner: number): Tiling {
  const plane = Math.ceil(u / C) * Math.ceil(B / R);
  const fill = softwareAdapter(tfjsWebGPU(tf.backend())) ? 1 : FILL;
  let S = slicing.fixed ?? 1;
  while (!slicing.fixed && S < MAX_SLICES && plane * S < fill && inner / (2 * S) >= MIN_TERMS) S *= 2;
  const x = Math.min(16, INVOCATIONS / S);
  return { S, workgroup: [x, INVOCATIONS / S / x, S] };
}

/** The tilings of the forward's products (`u` terms a sum) and of the backward's (`G·u`). */
const forwardTiling = (s: Sizes) => tilingOf(s, s.u);
const backwardTiling = (s: Sizes) => tilingOf(s, GATES[s.kind] * s.u);

/** The slices of the forward's and the backward's sums at these sizes, on the backend's adapter. */
export function sequenceSlices(kind: Kind, batch: number, units: number): { forward: number; backward: number } {
  const s = sizesOf(kind, 1, batch, units, 1, false);
  return { forward: forwardTiling(s).S, backward: backwardTiling(s).S };
}

/** The workgroups of every dispatch. */
const dispatchOf = ({ B, u, R, C }: Sizes, { workgroup: [x, y] }: Tiling): [number, number] => [
  Math.ceil(u / C / x),
  Math.ceil(B / R / y),
];

/** The WGSL type of an invocation's sums: `C` units' worth. */
const sumType = ({ C }: Sizes) => (C === 4 ? 'vec4<f32>' : 'f32');

/** The matrices read a row of `C` units at a time (as `vec4`s where `C` is 4). */
const MATRICES = ['WxTb', 'WhT', 'Wh'];

/**
 * `into[r * n + g]` (an array the caller declared), the matMul part of row `b0 + r` at units
 * `j0 ..< j0 + C`: the sum over `k < inner` (an expression of uniforms: the loop's bound must be
 * the same for the workgroup) of `row(r)` (an expression of `k`) times the matrix's entries
 * `M[k, g·u + j0 ..]` (`width` columns a row), for each of `n` outputs `g`. The sums are in scalar
 * variables while the loop runs (registers, on every compiler). With `S` slices, an invocation sums
 * the terms `k ≡ slice (mod S)`, and slice 0 adds the others' sums from workgroup memory (sum `i`
 * of slice `z > 0` at entry `(i·(S-1) + z-1)·lanes + lane`: neighbouring invocations at
 * neighbouring entries, in different banks of that memory).
 */
function rowTimesColumns(
  s: Sizes,
  { S, workgroup: [x, y] }: Tiling,
  o: {
    n: number;
    M: string;
    inner: string;
    width: string;
    row: (r: number) => string;
    into: string;
    /** Each output's first value (a bias), else 0. */
    init?: (g: number) => string;
  },
): string {
  const { R, C } = s;
  const type = sumType(s);
  const each = (f: (r: number, g: number, i: number) => string) =>
    Array.from({ length: R }, (_, r) => Array.from({ length: o.n }, (_, g) => f(r, g, r * o.n + g))).flat();
  const terms = `
    ${Array.from({ length: o.n }, (_, g) => `let w_${g} = ${o.M}[(k * (${o.width}) + ${g} * u + jr) / ${C}];`).join('\n    ')}
    ${Array.from({ length: R }, (_, r) => `let h_${r} = ${o.row(r)};`).join('\n    ')}
    ${each((r, g) => `a_${r}_${g} += h_${r} * w_${g};`).join('\n    ')}`;
  const sum =
    S === 1
      ? `for (var k = 0; k < ${o.inner}; k++) {${terms}
  }`
      : `for (var i = 0; i < (${o.inner} + ${S - 1}) / ${S}; i++) {
    let k = i * ${S} + slice;
    if (k < ${o.inner}) {${terms}
    }
  }
  if (slice > 0) {
    ${each((r, g, i) => `red[(${i * (S - 1)} + slice - 1) * ${x * y} + lane] = a_${r}_${g};`).join('\n    ')}
  }
  workgroupBarrier();
  if (slice == 0) {
    for (var z = 0; z < ${S - 1}; z++) {
      ${each((r, g, i) => `a_${r}_${g} += red[(${i * (S - 1)} + z) * ${x * y} + lane];`).join('\n      ')}
    }
  }
  workgroupBarrier();`;
  const zero = `${type}(0.0)`;
  // The bias once, in slice 0's sum.
  const init = (g: number) => (!o.init ? zero : S === 1 ? o.init(g) : `select(${zero}, ${o.init(g)}, slice == 0)`);
  return `
  ${each((r, g) => `var a_${r}_${g} = ${init(g)};`).join('\n  ')}
  ${sum}
  ${each((r, g, i) => `${o.into}[${i}] = a_${r}_${g};`).join('\n  ')}`;
}

/** A program of ours over the invocations of {@link dispatchOf}, binding `bindings` in order. */
function program(key: string, s: Sizes, tiling: Tiling, bindings: readonly Binding[], code: () => string): PassProgram {
  return { key: `${key}_${s.R}_${s.C}_${tiling.S}`, code, dispatch: dispatchOf(s, tiling), bindings };
}

/** Entry `c` of an accumulator (a `vec4` or a scalar). */
const entry = (s: Sizes, acc: string) => (s.C === 4 ? `${acc}[c]` : acc);

/**
 * What every program starts with: its bindings, the cells' functions, the invocation's private
 * values, and with slices the workgroup memory of their sums (`sums` accumulators an invocation).
 */
function prelude(
  s: Sizes,
  { S, workgroup: [x, y] }: Tiling,
  sums: number,
  bindings: readonly Binding[],
  privates: string,
): string {
  const type = sumType(s);
  return `${declareBindings(bindings, { name: 'step', type: 'Step' }, s.C === 4 ? MATRICES : [])}
struct Step { t : i32, B : i32, u : i32, T : i32, I : i32 }
const ROWS = ${s.R};
const COLS = ${s.C};
var<private> u : i32;
var<private> bRow : i32;
var<private> col : i32;
var<private> colJ : i32;
${S > 1 ? `var<workgroup> red : array<${type}, ${(S - 1) * x * y * sums}>;` : ''}
${privates}
${WGSL_CELL_FUNCTIONS}`;
}

/**
 * The start of every program's main: the sizes, the invocation's first unit `j0` and first row
 * `b0`, its slice and its place `lane` among the workgroup's invocations of one slice. Invocations
 * past the last unit or row sum the last ones' terms (`jr`, `rb_r`: every invocation of a
 * workgroup reaches its barriers) and write nothing.
 */
const mainStart = ({ workgroup: [x, y, z] }: Tiling) => `
@compute @workgroup_size(${x}, ${y}, ${z})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
  u = step.u;
  let B = step.B;
  let t = step.t;
  let j0 = i32(gid.x) * COLS;
  let b0 = i32(gid.y) * ROWS;
  let jr = min(j0, u - COLS);
  let slice = i32(lid.z);
  let lane = i32(lid.x + lid.y * ${x}u);
  ${Array.from({ length: MAX_ROWS }, (_, r) => `let rb_${r} = min(b0 + ${r}, B - 1);`).join('\n  ')}`;

/** Rows and units of the invocation's outputs (slice 0's), with `bRow` and `colJ` set. */
const EACH_OUTPUT = (body: string) => `
  if (j0 >= u || b0 >= B || slice != 0) { return; }
  for (var r = 0; r < ROWS; r++) {
    bRow = b0 + r;
    if (bRow >= B) { break; }
    for (var c = 0; c < COLS; c++) {
      colJ = j0 + c;
      ${body}
    }
  }`;

/**
 * The forward step's program: `V`, `C` (LSTM) and, when training, `Hprev` and `A` (every step's
 * input and recurrent halves, `[xp | hp]` a row). The input half `xp = x_t W_x^T + b` is formed
 * here too, from `WxTb` (`W_x^T` with `b` as its last row): tfjs's product of all steps at once
 * has an inner size of the input's (16 in the bench), a slow path of its matMul (on SwiftShader
 * `[1600, 16] x [16, 512]` took 416 ms, `[1600, 128] x [128, 512]` 737).
 */
function forwardProgram(s: Sizes, train: boolean): PassProgram {
  const { kind } = s;
  const [G, lstm, W] = [GATES[kind], kind === 'lstm', kind === 'lstm' ? 1 : 0];
  const bindings: Binding[] = [
    ['X', false],
    ['WxTb', false],
    ['WhT', false],
    ...(s.bh ? [['bh', false] as Binding] : []),
    // h_0, and the LSTM's c_0 below it
    ['S0', false],
    ['V', true],
    ...(lstm ? [['C', true] as Binding] : []),
    ...(train
      ? ([
          ['Hprev', true],
          ['A', true],
        ] as Binding[])
      : []),
  ];
  const { value: cOrH } = STEP_KERNELS[lstm ? 'lstmC' : kind === 'gru' ? 'gruH' : 'elmanH'];
  const at = (rows: string) => `((${rows}) * B + bRow) * u + colJ`;
  const type = sumType(s);
  const width = `${G} * u`;
  // x_t W_x^T + b; h_{t-1} W_h^T, with h_0 in the first step and the step before's row of V after.
  const tiling = forwardTiling(s);
  const input = rowTimesColumns(s, tiling, {
    n: G,
    M: 'WxTb',
    inner: 'step.I',
    width,
    row: (r) => `X[(t * B + rb_${r}) * step.I + k]`,
    into: 'accX',
    init: (g) => `WxTb[(step.I * ${width} + ${g} * u + jr) / ${s.C}]`,
  });
  const recurrent = (source: (r: number) => string) =>
    rowTimesColumns(s, tiling, { n: G, M: 'WhT', inner: 'step.u', width, row: source, into: 'accH' });
  const code =
    () => `${prelude(s, tiling, s.R * G, bindings, `var<private> xpv : array<f32, ${G}>;\nvar<private> hpv : array<f32, ${G}>;\nvar<private> sv : f32;`)}
fn xp(k : i32) -> f32 { return xpv[k]; }
fn hp(k : i32) -> f32 { return hpv[k]; }
fn s() -> f32 { return sv; }
fn hPrev(b : i32, j : i32) -> f32 {
  if (step.t == 0) { return S0[b * u + j]; }
  return V[((${W} + step.t - 1) * step.B + b) * u + j];
}
${mainStart(tiling)}
  var accX : array<${type}, ${s.R * G}>;
  var accH : array<${type}, ${s.R * G}>;
  {
    ${input}
  }
  if (t == 0) {
    ${recurrent((r) => `S0[rb_${r} * u + k]`)}
  } else {
    ${recurrent((r) => `V[((${W} + t - 1) * B + rb_${r}) * u + k]`)}
  }
  ${EACH_OUTPUT(`for (var g = 0; g < ${G}; g++) {
        xpv[g] = ${entry(s, `accX[r * ${G} + g]`)};
        hpv[g] = ${entry(s, `accH[r * ${G} + g]`)}${s.bh ? ' + bh[g * u + colJ]' : ''};
      }
      ${
        train
          ? `for (var g = 0; g < ${G}; g++) {
        A[(t * B + bRow) * 2 * ${width} + g * u + colJ] = xpv[g];
        A[(t * B + bRow) * 2 * ${width} + ${width} + g * u + colJ] = hpv[g];
      }
      Hprev[${at('t')}] = hPrev(bRow, colJ);`
          : ''
      }
      ${
        lstm
          ? `if (t == 0) { sv = S0[(B + bRow) * u + colJ]; C[${at('0')}] = sv; } else { sv = C[${at('t')}]; }
      let c_t = ${cOrH};
      C[${at('t + 1')}] = c_t;
      if (t == step.T - 1) { V[bRow * u + colJ] = c_t; }
      sv = c_t;
      V[${at('t + 1')}] = ${STEP_KERNELS.lstmH.value};`
          : `sv = hPrev(bRow, colJ);
      V[${at('t')}] = ${cOrH};`
      }`)}
}`;
  return program(`tfjsRecurrentSequence_${kind}_${s.bh}_${train}`, s, tiling, bindings, code);
}

/**
 * The program of a step back (`t`: from `T - 1` down to 0), or, with `first`, of `dL/dh_0` (and
 * `dL/dc_0`) after the last of them. Both form `dL/dh_t`'s carried part the same way: the
 * pointwise part `P` of step t + 1 (the GRU's) and `dL/dhp_{t+1} W_h`.
 */
function backwardProgram(s: Sizes, first: boolean): PassProgram {
  const { kind } = s;
  const G = GATES[kind];
  const [lstm, gru] = [kind === 'lstm', kind === 'gru'];
  const carried = lstm ? 'CP' : gru ? 'P' : undefined;
  const tiling = backwardTiling(s);
  const bindings: Binding[] = first
    ? [
        ['D', false],
        ['Wh', false],
        ...(carried ? [[carried, false] as Binding] : []),
        ['DH0', true],
        ...(lstm ? [['DC0', true] as Binding] : []),
      ]
    : [
        ...(kind === 'elman' ? [] : [['A', false] as Binding]),
        ['Wh', false],
        ['DY', false],
        [lstm ? 'C' : gru ? 'Hprev' : 'V', false],
        ['D', true],
        ...(gru ? [['DX', true] as Binding] : []),
        ...(carried ? [[carried, true] as Binding] : []),
      ];
  // dL/dh_t from the steps after t: P_{t+1} (the GRU's) + dL/dhp_{t+1} W_h; none after the last.
  const later = first ? '0' : 't + 1';
  const carry = `
  var acc_ : array<${sumType(s)}, ROWS>;
  if (${first ? 'true' : 't < step.T - 1'}) {
    ${rowTimesColumns(s, tiling, { n: 1, M: 'Wh', inner: `${G} * step.u`, width: 'u', row: (r) => `D[((${later}) * B + rb_${r}) * ${G} * u + k]`, into: 'acc_' })}
  }`;
  const chAt = `${entry(s, 'acc_[r]')}${gru ? ` + P[((${later}) * B + bRow) * u + colJ]` : ''}`;
  if (first) {
    const code = () => `${prelude(s, tiling, s.R, bindings, '')}
${mainStart(tiling)}
  ${carry}
  ${EACH_OUTPUT(`DH0[bRow * u + colJ] = ${chAt};${lstm ? '\n      DC0[bRow * u + colJ] = CP[bRow * u + colJ];' : ''}`)}
}`;
    return program(`tfjsRecurrentSequenceFirst_${kind}`, s, tiling, bindings, code);
  }
  const here = (rows: string) => `((${rows}) * step.B + bRow) * u + colJ`;
  const accessors = [
    `fn dy() -> f32 { return DY[${here(`${lstm ? 1 : 0} + step.t`)}]; }`,
    'fn ch() -> f32 { return chNow; }',
    'fn v() -> f32 { return 0.0; }',
    ...(kind === 'elman'
      ? [`fn s() -> f32 { return V[${here('step.t')}]; }`]
      : [
          `fn xp(k : i32) -> f32 { return A[(step.t * step.B + bRow) * 2 * ${G} * u + k * u + colJ]; }`,
          `fn hp(k : i32) -> f32 { return A[((step.t * step.B + bRow) * 2 + 1) * ${G} * u + k * u + colJ]; }`,
        ]),
    ...(lstm
      ? [
          `fn s() -> f32 { return C[${here('step.t + 1')}]; }`,
          `fn sp() -> f32 { return C[${here('step.t')}]; }`,
          `fn cc() -> f32 { if (step.t == step.T - 1) { return DY[bRow * u + colJ]; } return CP[${here('step.t + 1')}]; }`,
        ]
      : []),
    ...(gru ? [`fn sp() -> f32 { return Hprev[${here('step.t')}]; }`] : []),
  ];
  const backHP = STEP_KERNELS[lstm ? 'lstmBackHP' : gru ? 'gruBackHP' : 'elmanBackHP'].value;
  const row = (name: string) => `${name}[(t * B + bRow) * ${G} * u + col]`;
  const code = () => `${prelude(s, tiling, s.R, bindings, 'var<private> chNow : f32;')}
${accessors.join('\n')}
${readingHelpers(backHP)}
${mainStart(tiling)}
  ${carry}
  ${EACH_OUTPUT(`chNow = select(0.0, ${chAt}, t < step.T - 1);
      for (var g = 0; g < ${G}; g++) {
        col = g * u + colJ;
        ${row('D')} = ${backHP};
        ${gru ? `${row('DX')} = ${STEP_KERNELS.gruBackXP.value};` : ''}
      }
      ${lstm ? `CP[(t * B + bRow) * u + colJ] = ${STEP_KERNELS.lstmBackPrevC.value};` : ''}
      ${gru ? `P[(t * B + bRow) * u + colJ] = ${STEP_KERNELS.gruBackPrevH.value};` : ''}`)}
}`;
  return program(`tfjsRecurrentSequenceBack_${kind}`, s, tiling, bindings, code);
}

/** The attributes of both kernels' calls. */
interface Attrs extends Sizes {
  train: boolean;
}

/** The uniforms of steps `ts`, in order. */
const slots = ({ T, B, u, I }: Sizes, ts: number[]) => ts.map((t) => [t, B, u, T, I]);

/** Binds `bindings` by name from `tensors`, making the written ones the program's outputs (shapes in `shapes`). */
function bindAll(
  backend: ReturnType<typeof tfjsWebGPU>,
  bindings: readonly Binding[],
  tensors: Record<string, tf.TensorInfo>,
  shapes: Record<string, number[]>,
): Record<string, tf.TensorInfo> {
  const all = { ...tensors };
  for (const [name, writes] of bindings) {
    if (writes) all[name] ??= gpuOutput(backend, shapes[name]);
    if (!all[name]) throw new Error(`webgpu sequence kernel: no tensor for binding ${name}`);
  }
  return all;
}

const forwardKernel = ownKernel('TfjsRecurrentSequence', {
  webgpu: ({ inputs, attrs, backend }) => {
    const s = attrs as unknown as Attrs;
    const gpu = tfjsWebGPU(backend);
    const program = forwardProgram(s, s.train);
    const { T, B, u } = s;
    const G = GATES[s.kind];
    const W = s.kind === 'lstm' ? 1 : 0;
    const shapes = { V: [(W + T) * B, u], C: [(T + 1) * B, u], Hprev: [T * B, u], A: [T * B, 2 * G * u] };
    const all = bindAll(gpu, program.bindings, inputs as Record<string, tf.TensorInfo>, shapes);
    const ts = Array.from({ length: T }, (_, t) => t);
    recordDispatches(
      gpu,
      program,
      program.bindings.map(([name]) => all[name]),
      slots(s, ts),
    );
    return program.bindings.filter(([, w]) => w).map(([name]) => all[name]);
  },
});

const backwardKernel = ownKernel('TfjsRecurrentSequenceBack', {
  webgpu: ({ inputs, attrs, backend }) => {
    const s = attrs as unknown as Attrs;
    const gpu = tfjsWebGPU(backend);
    const { T, B, u } = s;
    const G = GATES[s.kind];
    const shapes = { D: [T * B, G * u], DX: [T * B, G * u], CP: [T * B, u], P: [T * B, u], DH0: [B, u], DC0: [B, u] };
    const steps = backwardProgram(s, false);
    const all = bindAll(gpu, steps.bindings, inputs as Record<string, tf.TensorInfo>, shapes);
    const ts = Array.from({ length: T }, (_, k) => T - 1 - k);
    recordDispatches(
      gpu,
      steps,
      steps.bindings.map(([name]) => all[name]),
      slots(s, ts),
    );
    const first = backwardProgram(s, true);
    const withFirst = bindAll(gpu, first.bindings, all, shapes);
    recordDispatches(
      gpu,
      first,
      first.bindings.map(([name]) => withFirst[name]),
      slots(s, [-1]),
    );
    // The carried pointwise parts are the kernel's own: freed once the queue has run them.
    for (const name of ['CP', 'P']) if (withFirst[name]) gpu.disposeData(withFirst[name].dataId);
    return ['D', 'DX', 'DH0', 'DC0'].filter((name) => withFirst[name]).map((name) => withFirst[name]);
  },
});

/** The device's limits, where the webgpu backend runs. */
function limits() {
  return tfjsWebGPU(tf.backend()).device.limits;
}

/** The whole-sequence kernel of a configuration on webgpu, or undefined where the kernels do not compute it. */
export function webgpuSequenceKernel(config: CellConfig): SequenceKernel | undefined {
  if (!gpuKernelsApply(config)) return undefined;
  const kind = config.kind;
  const u = config.units;
  const G = GATES[kind];
  return {
    fits: (time, batch, masked) => {
      const { maxStorageBufferBindingSize, maxStorageBuffersPerShaderStage } = limits();
      const sizes = sizesOf(kind, time, batch, u, config.inputSize, false);
      const dispatch = [forwardTiling, backwardTiling].flatMap((tiling) => dispatchOf(sizes, tiling(sizes)));
      // A program the device refused (logged): the step kernels run instead.
      const refused = refusedPrograms().some(
        (key) => key.startsWith('tfjsRecurrentSequence') && key.includes(`_${kind}_`),
      );
      return (
        !masked &&
        !refused &&
        8 * time * batch * G * u <= maxStorageBufferBindingSize &&
        maxStorageBuffersPerShaderStage >= 8 &&
        Math.max(...dispatch) <= MAX_WORKGROUPS
      );
    },
    run: (w, X, state0, keep) => {
      if (keep) throw new Error('webgpu sequence kernel: a masked sequence is the step kernels’ (fits says no)');
      return runSequence(kind, w, X, state0);
    },
  };
}

function runSequence(kind: Kind, w: FusedWeights, X: tf.Tensor2D, state0: State): { hs: tf.Tensor3D; state: State } {
  const [B, u] = state0.h.shape;
  const T = X.shape[0] / B;
  const lstm = kind === 'lstm';
  const hasB = w.b !== undefined;
  const hasBh = w.bh !== undefined;
  const sizes = sizesOf(kind, T, B, u, X.shape[1], hasBh);
  const inputs = [
    X,
    w.WxT,
    ...(hasB ? [w.b!] : []),
    w.WhT,
    ...(hasBh ? [w.bh!] : []),
    state0.h,
    ...(lstm ? [state0.c!] : []),
  ];
  const forward = (args: tf.Tensor[], train: boolean) => {
    const [X, WxT, ...rest] = (args as tf.Tensor2D[]).map(float32Values);
    const b = hasB ? (rest.shift() as unknown as tf.Tensor1D) : undefined;
    const WhT = rest.shift()!;
    const bh = hasBh ? rest.shift() : undefined;
    const [H0, C0] = rest;
    // W_x^T with b as its last row (zeros without biases); h_0 with the LSTM's c_0 below it.
    const WxTb = tf.concat([WxT, b ? b.reshape([1, -1]) : tf.fill([1, WxT.shape[1]], 0)]);
    const S0 = C0 ? tf.concat([H0, C0]) : H0;
    const outs = forwardKernel.run({ X, WxTb, WhT, S0, ...(bh && { bh }) }, { ...sizes, train }) as tf.Tensor[];
    tf.dispose([WxTb, ...(C0 ? [S0] : [])]);
    const [V, C] = lstm ? outs : [outs[0], undefined];
    const [Hprev, A] = train ? outs.slice(lstm ? 2 : 1) : [];
    return { X, WxT, WhT, V, C, Hprev, A };
  };

  let value: tf.Tensor;
  if (!tf.engine().isTapeOn()) {
    const f = forward(inputs, false);
    f.C?.dispose();
    value = f.V;
  } else {
    value = customOp(inputs, (args, save) => {
      const f = forward(args, true);
      const states = lstm ? f.C! : kind === 'gru' ? f.Hprev! : f.V;
      save([f.X, f.WxT, f.WhT, f.A!, f.Hprev!, states]);
      return {
        value: f.V,
        gradFunc: (dy, saved) => {
          const walked = tf.tidy(() => {
            const [X, WxT, WhT, A, Hprev, states] = saved as tf.Tensor2D[];
            const named: Record<string, tf.Tensor> = { Wh: tf.transpose(WhT), DY: dy };
            if (kind !== 'elman') named.A = A;
            named[lstm ? 'C' : kind === 'gru' ? 'Hprev' : 'V'] = states;
            const [D, ...rest] = backwardKernel.run(named, { ...sizes, train: true }) as tf.Tensor2D[];
            const DX = kind === 'gru' ? rest.shift()! : D;
            const [DH0, DC0] = rest;
            const dHP = rowsOf(D);
            return {
              ...{ X, WxT, prevH: Hprev, hasB, hasBh, dSeparate: [] },
              dXP: DX === D ? dHP : rowsOf(DX),
              dHP,
              carry: lstm ? { h: DH0, c: DC0 } : { h: DH0 },
            };
          });
          return inputGradients(walked);
        },
      };
    });
  }
  // unroll's tidy disposes what is not returned.
  const steps = value.reshape([(lstm ? 1 : 0) + T, B, u]) as tf.Tensor3D;
  const hs = lstm ? (tf.slice(steps, [1, 0, 0], [T, B, u]) as tf.Tensor3D) : steps;
  const state: State = { h: tf.slice(steps, [lstm ? T : T - 1, 0, 0], [1, B, u]).reshape([B, u]) as tf.Tensor2D };
  if (lstm) state.c = tf.slice(steps, [0, 0, 0], [1, B, u]).reshape([B, u]) as tf.Tensor2D;
  return { hs, state };
}
