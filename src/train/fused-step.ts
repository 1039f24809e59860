/**
 * `rt.train`'s step in one kernel call, on the cpu and wasm backends, for the networks where a
 * small model's step is mostly tfjs's dispatch: one layer, one direction, a cell kind with a
 * whole-sequence kernel (`src/fast/wasm/`), a linear output, the `mse` loss, full BPTT and tfjs's
 * Adam. The readable step (`./train.ts`: `tf.variableGrads` over the forward and the loss, the
 * clipping, the optimizer) is the reference; this one computes the same on typed arrays, in
 * `TfjsRecurrentTrainStep`:
 *
 * 1. the forward of the whole sequence (the kernel `unroll`'s fast path runs), from $h_0 = c_0 = 0$;
 * 2. the head $\hat y_t = W_{yh} h_t + b_y$ and the loss $L = \frac{1}{N} \sum (\hat y - y)^2$
 *    over the N predictions the target selects (every step, or the last);
 * 3. $\partial L / \partial \hat y = \frac{2}{N} (\hat y - y)$, the head's gradients
 *    $\partial L / \partial W_{yh} = \sum_t \bar y_t^\top h_t$, $\partial L / \partial b_y = \sum_t \bar y_t$,
 *    $\partial L / \partial h_t = \bar y_t W_{yh}$, and the whole sequence's backward;
 * 4. the finiteness probe $\sum_p \sum 0 \cdot g_p$ (as `./probe.ts`); when it or the loss is not
 *    finite nothing more is done, and `rt.train` refuses the step before any update;
 * 5. the clipping of `./clip.ts` and tfjs's Adam (`./fused-adam.ts`'s arithmetic).
 *
 * It returns `[loss, probe]` and the updated variables and moments, which {@link FusedStep.commit}
 * assigns. Every other model, loss, option and backend takes the readable step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellConfig } from '../cells/cell.js';
import { separateGates, type FusedLayout } from '../fast/fused.js';
import { hostMemory, ownKernel } from '../fast/kernels.js';
import { fastPathFor } from '../fast/registry.js';
import { allocGradients, kindKernels, type Dims, type Inputs, type KindKernels } from '../fast/wasm/kinds.js';
import { Arena, lanes, sequenceModule, type SequenceExports } from '../fast/wasm/module.js';
import type { Target, Trainable } from '../objective/index.js';
import { readSync } from '../read.js';
import type { ClipOptions } from './clip.js';
import { adamState, adamUpdate, assignUpdate, makeMoments, nextAccBetas, type AdamAttrs } from './fused-adam.js';
import type { Resolved } from './options.js';

/** A step computed and not yet taken. */
export interface FusedStep {
  loss: number;
  /** 0, or NaN when some gradient entry is not finite (nothing is updated then). */
  gradientProbe: number;
  /** Assigns the updated variables and optimizer state. */
  commit(): void;
  /** Frees the step's tensors (after {@link commit}, or instead of it). */
  dispose(): void;
}

/** What the step of one cell on one backend computes with: its configuration, layout and kernels. */
interface Plan {
  config: CellConfig;
  layout: FusedLayout;
  kind: KindKernels;
  /** Whether the whole-sequence kernel takes `time` steps of `batch` rows (as `unroll`'s fast path asks). */
  fits(time: number, batch: number): boolean;
}

interface StepAttrs extends AdamAttrs, ClipOptions {
  count: number;
  plan: Plan;
  /** Every variable's symbol, in the order of the inputs `p{i}`. */
  symbols: string[];
  target: Target;
  /** Whether the moments exist (else they are zeros). */
  moments: boolean;
}

const BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/**
 * The step of `x`, `y` computed in one kernel when the run is one it computes (see the module
 * notes), else null: then the readable step runs.
 */
export function fusedStep(
  trainable: Trainable,
  opts: Resolved,
  x: tf.Tensor,
  y: tf.Tensor,
  target: Target,
): FusedStep | null {
  const { net, variables, names } = trainable;
  const adam = adamState(opts.optimizer);
  const loss = opts.loss === 'mse' || opts.loss === 'meanSquaredError';
  if (!net || !adam || !loss || opts.window !== null || !BACKENDS.has(tf.getBackend())) return null;
  if (net.layers !== 1 || net.directions !== 1 || net.outputActivation !== 'linear') return null;
  if (x.dtype !== 'float32' || y.dtype !== 'float32') return null;
  const plan = planOf(net.cells[0][0]);
  if (!plan?.fits(x.shape[1] as number, x.shape[0])) return null;

  const moments = adam.accumulatedFirstMoment.length === variables.length;
  const inputs: tf.NamedTensorMap = { x, y, accBeta1: adam.accBeta1, accBeta2: adam.accBeta2 };
  variables.forEach((value, i) => {
    inputs[`p${i}`] = value;
    if (moments) {
      inputs[`m${i}`] = adam.accumulatedFirstMoment[i].variable;
      inputs[`v${i}`] = adam.accumulatedSecondMoment[i].variable;
    }
  });
  const { learningRate, beta1, beta2, epsilon } = adam;
  const attrs: StepAttrs = {
    ...{ count: variables.length, plan, symbols: names, target, moments },
    ...{ learningRate, beta1, beta2, epsilon, clipNorm: opts.clipNorm, clipValue: opts.clipValue },
  };
  const outs = kernel.run(inputs, attrs) as tf.Tensor[];
  const [loss0, gradientProbe] = readSync('train (fused step)', 'the readable step', outs[0]);
  return {
    loss: loss0,
    gradientProbe,
    commit: () => {
      makeMoments(adam, variables);
      assignUpdate(adam, variables, outs.slice(1));
    },
    dispose: () => tf.dispose(outs),
  };
}

const plans = new WeakMap<Cell, Map<string, Plan | null>>();

/** The plan of a cell on the current backend, or null where its step is not one this computes. */
function planOf(cell: Cell): Plan | null {
  const backend = tf.getBackend();
  const byBackend = plans.get(cell) ?? new Map<string, Plan | null>();
  plans.set(cell, byBackend);
  if (!byBackend.has(backend)) {
    const { config } = cell;
    const path = fastPathFor(config);
    const kind = kindKernels(config);
    const sequence = path?.sequenceKernel;
    const plan =
      sequence && kind && sequenceModule() ? { config, layout: path.layout, kind, fits: sequence.fits } : null;
    byBackend.set(backend, plan);
  }
  return byBackend.get(backend)!;
}

/**
 * Outputs `[loss, probe]`, then `p'_i, m'_i, v'_i` for every variable i, then `accBeta1'`,
 * `accBeta2'` (the updates left unwritten when the probe or the loss is not finite); inputs `x`,
 * `y`, `p{i}`, `m{i}`, `v{i}` (where the moments exist), `accBeta1`, `accBeta2`.
 */
const stepKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const mem = hostMemory(backend);
  const a = attrs as unknown as StepAttrs;
  const info = (name: string) => inputs[name] as tf.TensorInfo;
  const shapes = Array.from({ length: a.count }, (_, i) => info(`p${i}`).shape);
  const outs = mem.outputs([[2], ...shapes.flatMap((s) => [s, s, s]), [], []]);
  const params = Object.fromEntries(a.symbols.map((s, i) => [s, mem.view(info(`p${i}`))]));
  const [B, T, I] = info('x').shape;
  const probe = mem.view(outs[0]);
  const grads = gradients(sequenceModule()!, a, [T, B, I], mem.view(info('x')), mem.view(info('y')), params, probe);
  if (!Number.isFinite(probe[0]) || !Number.isFinite(probe[1])) return outs;
  const g = a.symbols.map((s) => grads[s]);
  clip(g, a);
  const acc1 = mem.view(info('accBeta1'))[0];
  const acc2 = mem.view(info('accBeta2'))[0];
  a.symbols.forEach((s, i) => {
    const p = params[s];
    const [m, v] = a.moments ? [mem.view(info(`m${i}`)), mem.view(info(`v${i}`))] : [zeros(p), zeros(p)];
    adamUpdate(a, acc1, acc2, [p, m, v, g[i]], outs.slice(1 + 3 * i, 4 + 3 * i).map(mem.view));
  });
  [mem.view(outs[1 + 3 * a.count])[0], mem.view(outs[2 + 3 * a.count])[0]] = nextAccBetas(a, acc1, acc2);
  return outs;
};

const kernel = ownKernel('TfjsRecurrentTrainStep', { cpu: stepKernel, wasm: stepKernel });

const zeros = (p: Float32Array) => new Float32Array(p.length);
const f = Math.fround;

/**
 * The forward, the loss and every gradient, by symbol; writes `[loss, probe]` to `out`. `x` is
 * `[B, T, I]`, `y` `[B, T, O]` (every step) or `[B, O]` (the last).
 */
function gradients(
  wasm: SequenceExports,
  a: StepAttrs,
  [T, B, I]: number[],
  x: Float32Array,
  y: Float32Array,
  params: Record<string, Float32Array>,
  out: Float32Array,
): Record<string, Float32Array> {
  const { config, kind, layout } = a.plan;
  const U = config.units;
  const d: Dims = { T, B, I, U, Ip: lanes(I), Up: lanes(U) };
  const { Ip, Up } = d;
  const [G, F] = [kind.gates, kind.recurrentGates];
  const separate = separateGates(layout);
  const withB = params[`b_${layout.gates[0]}`] !== undefined;
  const withBh = withB && layout.recurrentGates.some((k) => layout.recurrentBias[k]);
  const rows = T * B;
  const dyRows = (kind.withC ? T + 1 : T) * B;

  // Every block first: a view is valid until the memory grows.
  const arena = new Arena(wasm);
  const p: Inputs = {
    X: arena.alloc(rows * Ip),
    WxT: arena.alloc(Ip * G * Up),
    b: withB ? arena.alloc(G * Up) : 0,
    WhT: arena.alloc(Up * F * Up),
    bh: withBh ? arena.alloc(F * Up) : 0,
    WnhT: kind.withWnh ? arena.alloc(Up * Up) : 0,
    h0: arena.alloc(B * Up),
    c0: kind.withC ? arena.alloc(B * Up) : 0,
    K: 0,
  };
  const sizes = kind.kept(d);
  const k = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, arena.alloc(size)]));
  const dY = arena.alloc(dyRows * Up);
  const g = allocGradients(arena, kind, d, p);

  // The inputs, time-major and padded to whole lanes, as `src/fast/wasm/kernel.ts` lays them out.
  const X = arena.view(p.X, rows * Ip).fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) X[(t * B + b) * Ip + i] = x[(b * T + t) * I + i];
    }
  }
  const { gates, recurrentGates, recurrentBias } = layout;
  const W = (k: string, side: 'x' | 'h') => params[`W_${k}${side}`];
  transposed(
    arena.view(p.WxT, Ip * G * Up),
    gates.map((k) => W(k, 'x')),
    I,
    Up,
  );
  transposed(
    arena.view(p.WhT, Up * F * Up),
    recurrentGates.map((k) => W(k, 'h')),
    U,
    Up,
  );
  if (kind.withWnh)
    transposed(
      arena.view(p.WnhT, Up * Up),
      separate.map((k) => W(k, 'h')),
      U,
      Up,
    );
  if (withB)
    blocks(
      arena.view(p.b, G * Up),
      gates.map((k) => params[`b_${k}`]),
      Up,
    );
  if (withBh)
    blocks(
      arena.view(p.bh, F * Up),
      recurrentGates.map((k) => params[recurrentBias[k]]),
      Up,
    );
  arena.view(p.h0, B * Up).fill(0);
  if (kind.withC) arena.view(p.c0, B * Up).fill(0);

  kind.forward(wasm, d, p, k);

  // dL/d[(c_T,) h_1..h_T]: c_T reaches no loss.
  const dH = arena
    .view(dY, dyRows * Up)
    .fill(0)
    .subarray(kind.withC ? B * Up : 0);
  const head = headStep(a.target, arena.view(k.H, rows * Up), [T, B, U, Up], params.W_yh, params.b_y, y, dH);
  out[0] = head.loss;

  kind.backward(wasm, arena, d, p, k, dY, g);

  const grads: Record<string, Float32Array> = { W_yh: head.dW, b_y: head.db };
  const dWxT = arena.view(g.dWxT, Ip * G * Up);
  gates.forEach((k, n) => (grads[`W_${k}x`] = untransposed(dWxT, n, G, U, I, Up)));
  const dWhT = arena.view(g.dWhT, Up * F * Up);
  recurrentGates.forEach((k, n) => (grads[`W_${k}h`] = untransposed(dWhT, n, F, U, U, Up)));
  if (kind.withWnh) {
    const dWnhT = arena.view(g.dWnhT, Up * Up);
    separate.forEach((k, n) => (grads[`W_${k}h`] = untransposed(dWnhT, n, 1, U, U, Up)));
  }
  if (withB) {
    const db = arena.view(g.db, G * Up);
    gates.forEach((k, n) => (grads[`b_${k}`] = db.slice(n * Up, n * Up + U)));
  }
  if (withBh) {
    const dbh = arena.view(g.dbh, F * Up);
    recurrentGates.forEach((k, n) => {
      if (recurrentBias[k]) grads[recurrentBias[k]] = dbh.slice(n * Up, n * Up + U);
    });
  }
  let zero = 0;
  for (const s of a.symbols) {
    const gs = grads[s];
    if (!gs) throw new Error(`train: the fused step has no gradient of '${s}' (a ${config.kind} cell)`);
    for (let j = 0; j < gs.length; j++) zero += 0 * gs[j];
  }
  out[1] = zero;
  return grads;
}

/**
 * `out[c, n*Up + u] = W_n[u, c]`: the matrices `W_n` (`[units, C]` each) transposed side by side,
 * every block widened to `Up` columns and the rows to `out.length / (blocks * Up)`, with zeros.
 */
function transposed(out: Float32Array, W: Float32Array[], C: number, Up: number): void {
  out.fill(0);
  const width = W.length * Up;
  for (let n = 0; n < W.length; n++) {
    const w = W[n];
    const U = w.length / C;
    for (let c = 0; c < C; c++) {
      const at = c * width + n * Up;
      for (let u = 0; u < U; u++) out[at + u] = w[u * C + c];
    }
  }
}

/** The inverse of {@link transposed} for block `n` of `count`: `W_n` (`[U, C]`). */
function untransposed(from: Float32Array, n: number, count: number, U: number, C: number, Up: number): Float32Array {
  const w = new Float32Array(U * C);
  const width = count * Up;
  for (let c = 0; c < C; c++) {
    const at = c * width + n * Up;
    for (let u = 0; u < U; u++) w[u * C + c] = from[at + u];
  }
  return w;
}

/** Vectors side by side, each block `Up` wide (zeros where a block has no vector). */
function blocks(out: Float32Array, vectors: (Float32Array | undefined)[], Up: number): void {
  out.fill(0);
  for (let n = 0; n < vectors.length; n++) if (vectors[n]) out.set(vectors[n]!, n * Up);
}

/**
 * The head and the loss: from every `h_t` (`H`, rows `t*B + b`, `Up` apart), the mean squared
 * error of `W_yh h_t + b_y` against `y` at the target's steps, its gradients of `W_yh`, `b_y` and
 * `dL/dh_t`, added to `dH` (rows as `H`). Rounded to float32 where tfjs's ops store a value.
 */
function headStep(
  target: Target,
  H: Float32Array,
  [T, B, U, Up]: number[],
  Wy: Float32Array,
  by: Float32Array,
  y: Float32Array,
  dH: Float32Array,
): { loss: number; dW: Float32Array; db: Float32Array } {
  const O = by.length;
  const first = target === 'everyStep' ? 0 : T - 1;
  const n = (T - first) * B * O;
  const scale = f(2 * f(1 / n));
  const [dW, db] = [new Float32Array(O * U), new Float32Array(O)];
  const [dw, dbs] = [new Float64Array(O * U), new Float64Array(O)];
  let sum = 0;
  for (let t = first; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const r = (t * B + b) * Up;
      const at = target === 'everyStep' ? (b * T + t) * O : b * O;
      for (let o = 0; o < O; o++) {
        let z = 0;
        for (let u = 0; u < U; u++) z += H[r + u] * Wy[o * U + u];
        const diff = f(f(f(z) + by[o]) - y[at + o]);
        sum += f(diff * diff);
        const dy = f(scale * diff);
        dbs[o] += dy;
        for (let u = 0; u < U; u++) {
          dw[o * U + u] += dy * H[r + u];
          dH[r + u] += dy * Wy[o * U + u];
        }
      }
    }
  }
  dW.set(dw);
  db.set(dbs);
  return { loss: f(f(sum) / n), dW, db };
}

/** `./clip.ts`'s clipping, in place: values first, then the global norm. */
function clip(grads: Float32Array[], { clipNorm, clipValue }: ClipOptions): void {
  if (clipValue !== undefined) {
    const c = f(clipValue);
    for (const g of grads) for (let j = 0; j < g.length; j++) g[j] = Math.min(Math.max(g[j], -c), c);
  }
  if (clipNorm === undefined) return;
  let total = 0;
  for (const g of grads) {
    let s = 0;
    for (let j = 0; j < g.length; j++) s += g[j] * g[j];
    total = f(total + f(s));
  }
  const c = f(clipNorm);
  const scale = f(c / Math.max(f(Math.sqrt(total)), c));
  for (const g of grads) for (let j = 0; j < g.length; j++) g[j] = f(g[j] * scale);
}
