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
 * One call takes one such step per batch, in order: one batch of all the rows given (`rt.train`'s
 * step), or the batches of a whole pass over `{ x, y }` tensor data ({@link Batches}: the rows of
 * each taken from the data by index, as `./data.ts`'s gathers would), each step from the weights
 * and moments the one before left. It stops before the first batch it would refuse. It returns
 * every batch's loss and the updated variables and moments, which {@link FusedSteps.commit}
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
import { zeroProbe } from './probe.js';

/**
 * The batches of a pass: `order` (the row indices; `0 .. n-1` when null) cut into runs of
 * `batchSize`, the last maybe shorter.
 */
export interface Batches {
  order: Int32Array | null;
  batchSize: number;
}

/** Steps computed and not yet taken. */
export interface FusedSteps {
  /** The loss of every batch computed: the steps taken, then the refused batch's if there is one. */
  losses: number[];
  /**
   * The first batch whose loss or some gradient entry is not finite (`gradientProbe` NaN), from
   * which on no step is taken; null when every step was.
   */
  refused: { batch: number; loss: number; gradientProbe: number } | null;
  /** Assigns the variables and optimizer state the steps taken left (nothing when none was). */
  commit(): void;
  /** Frees the steps' tensors (after {@link commit}, or instead of it). */
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

/**
 * A call's attributes. Adam's and the clipping's numbers are objects of their own, each made by
 * one literal: the hot functions they go to see one shape of each, call after call.
 */
interface StepAttrs {
  adam: AdamAttrs;
  clip: ClipOptions;
  count: number;
  plan: Plan;
  /** Every variable's symbol, in the order of the inputs `p{i}`. */
  symbols: string[];
  target: Target;
  /** Whether the moments exist (else they are zeros). */
  moments: boolean;
  /** The row indices, batch after batch (`0 .. n-1` when null). */
  order: Int32Array | null;
  batchSize: number;
}

const BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/**
 * Whether {@link fusedSteps} computes the steps of `x`, `y` cut into `batches` (see the module
 * notes); made before the data are checked, it asks nothing of their shapes.
 */
export function fusable(trainable: Trainable, opts: Resolved, x: tf.Tensor, y: tf.Tensor, batches: Batches): boolean {
  return planFor(trainable, opts, x, y, batches) !== null;
}

/** One batch of every row. */
const wholeBatch = (x: tf.Tensor): Batches => ({ order: null, batchSize: x.shape[0] });

/** The plan of {@link fusedSteps}, or null where the run is not one they compute. */
function planFor(trainable: Trainable, opts: Resolved, x: tf.Tensor, y: tf.Tensor, batches: Batches): Plan | null {
  const { net } = trainable;
  const loss = opts.loss === 'mse' || opts.loss === 'meanSquaredError';
  if (!net || !adamState(opts.optimizer) || !loss || opts.window !== null) return null;
  if (!BACKENDS.has(tf.getBackend()) || x.dtype !== 'float32' || y.dtype !== 'float32') return null;
  if (net.layers !== 1 || net.directions !== 1 || net.outputActivation !== 'linear') return null;
  const plan = planOf(net.cells[0][0]);
  const { order, batchSize } = batches;
  const [rows, time] = [order?.length ?? x.shape[0], x.shape[1] as number];
  const count = Math.ceil(rows / batchSize);
  const last = rows - (count - 1) * batchSize;
  return plan?.fits(time, Math.min(batchSize, rows)) && plan.fits(time, last) ? plan : null;
}

/**
 * The steps of `x`, `y` (one batch of every row, or the batches `batches` cuts) computed in one
 * kernel when the run is one it computes (see the module notes), else null: then the readable
 * step runs.
 */
export function fusedSteps(
  trainable: Trainable,
  opts: Resolved,
  x: tf.Tensor,
  y: tf.Tensor,
  target: Target,
  batches: Batches = wholeBatch(x),
): FusedSteps | null {
  const plan = planFor(trainable, opts, x, y, batches);
  if (!plan) return null;
  const { variables, names } = trainable;
  const adam = adamState(opts.optimizer)!;
  const { order, batchSize } = batches;
  const count = Math.ceil((order?.length ?? x.shape[0]) / batchSize);

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
    adam: { learningRate, beta1, beta2, epsilon },
    clip: { clipNorm: opts.clipNorm, clipValue: opts.clipValue },
    count: variables.length,
    plan,
    symbols: names,
    target,
    moments,
    order,
    batchSize,
  };
  const outs = kernel.run(inputs, attrs) as tf.Tensor[];
  const report = readSync('train (fused step)', 'the readable step', outs[0]);
  const taken = report[0];
  const computed = Math.min(taken + 1, count);
  const losses = Array.from({ length: computed }, (_, b) => report[1 + 2 * b]);
  const refused = taken < count ? { batch: taken, loss: losses[taken], gradientProbe: report[2 + 2 * taken] } : null;
  return {
    losses,
    refused,
    commit: () => {
      if (taken === 0) return;
      makeMoments(adam, variables);
      // One iteration counted by assignUpdate, one more for every further step.
      assignUpdate(adam, variables, outs.slice(1));
      for (let step = 1; step < taken; step++) adam.incrementIterations();
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
      sequence && kind && sequenceModule()
        ? {
            config,
            layout: path.layout,
            kind,
            fits: (time: number, batch: number) => sequence.fits(time, batch, false),
          }
        : null;
    byBackend.set(backend, plan);
  }
  return byBackend.get(backend)!;
}

/**
 * Outputs `[taken, loss_0, probe_0, loss_1, probe_1, …]` (the steps taken, then each batch's loss
 * and probe up to the refused one), then `p'_i, m'_i, v'_i` for every variable i, then `accBeta1'`,
 * `accBeta2'`, as the steps taken left them; inputs `x`, `y`, `p{i}`, `m{i}`, `v{i}` (where the
 * moments exist), `accBeta1`, `accBeta2`.
 */
const stepKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const mem = hostMemory(backend);
  const a = attrs as unknown as StepAttrs;
  const info = (name: string) => inputs[name] as tf.TensorInfo;
  const [N, T, I] = info('x').shape;
  const rows = a.order ?? Int32Array.from({ length: N }, (_, i) => i);
  const count = Math.ceil(rows.length / a.batchSize);
  const shapes = Array.from({ length: a.count }, (_, i) => info(`p${i}`).shape);
  const outs = mem.outputs([[1 + 2 * count], ...shapes.flatMap((s) => [s, s, s]), [], []]);
  // The values the steps update, every variable's side by side (in the order of a.symbols), so that
  // the probe and Adam run once over all of them: p, the moments m and v, a step's gradient g.
  const starts = [0];
  for (const shape of shapes) starts.push(starts[starts.length - 1] + tf.util.sizeFromShape(shape));
  const [p, m, v, g] = [0, 1, 2, 3].map(() => new Float32Array(starts[a.count]));
  const part = (values: Float32Array, i: number) => values.subarray(starts[i], starts[i + 1]);
  for (let i = 0; i < a.count; i++) {
    p.set(mem.view(info(`p${i}`)), starts[i]);
    if (a.moments) {
      m.set(mem.view(info(`m${i}`)), starts[i]);
      v.set(mem.view(info(`v${i}`)), starts[i]);
    }
  }
  const bySymbol = (values: Float32Array) => Object.fromEntries(a.symbols.map((s, i) => [s, part(values, i)]));
  const [params, grads] = [bySymbol(p), bySymbol(g)];
  const parts = a.symbols.map((_, i) => part(g, i));
  let [acc1, acc2] = [mem.view(info('accBeta1'))[0], mem.view(info('accBeta2'))[0]];
  const report = mem.view(outs[0]);
  const [x, y] = [mem.view(info('x')), mem.view(info('y'))];
  const wasm = sequenceModule()!;
  let taken = 0;
  for (; taken < count; taken++) {
    const batch = rows.subarray(taken * a.batchSize, (taken + 1) * a.batchSize);
    const loss = gradients(wasm, a, [T, I], x, y, batch, params, grads);
    const probe = zeroProbe(g);
    [report[1 + 2 * taken], report[2 + 2 * taken]] = [loss, probe];
    if (!Number.isFinite(loss) || !Number.isFinite(probe)) break;
    clip(parts, a.clip);
    adamUpdate(a.adam, acc1, acc2, [p, m, v, g], [p, m, v]);
    [acc1, acc2] = nextAccBetas(a.adam, acc1, acc2);
  }
  report[0] = taken;
  for (let i = 0; i < a.count; i++)
    [p, m, v].forEach((values, j) => mem.view(outs[1 + 3 * i + j]).set(part(values, i)));
  [mem.view(outs[1 + 3 * a.count])[0], mem.view(outs[2 + 3 * a.count])[0]] = [acc1, acc2];
  return outs;
};

const kernel = ownKernel('TfjsRecurrentTrainStep', { cpu: stepKernel, wasm: stepKernel });

const f = Math.fround;

/**
 * The forward, the loss and every gradient of the batch of `x`'s and `y`'s rows `batch`: writes
 * each gradient to `grads` (by symbol), returns the loss. `x` is `[N, T, I]`, `y` `[N, T, O]`
 * (every step) or `[N, O]` (the last).
 */
function gradients(
  wasm: SequenceExports,
  a: StepAttrs,
  [T, I]: number[],
  x: Float32Array,
  y: Float32Array,
  batch: Int32Array,
  params: Record<string, Float32Array>,
  grads: Record<string, Float32Array>,
): number {
  const { config, kind, layout } = a.plan;
  const [U, B] = [config.units, batch.length];
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

  // The batch's inputs, time-major and padded to whole lanes, as `src/fast/wasm/kernel.ts` lays them out.
  const X = arena.view(p.X, rows * Ip).fill(0);
  for (let b = 0; b < B; b++) {
    const from = batch[b] * T * I;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) X[(t * B + b) * Ip + i] = x[from + t * I + i];
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

  // Every gradient is written, each to its variable's part of `grads`.
  const written = new Set<string>();
  const into = (symbol: string) => {
    written.add(symbol);
    return grads[symbol];
  };
  // dL/d[(c_T,) h_1..h_T]: c_T reaches no loss.
  const dH = arena
    .view(dY, dyRows * Up)
    .fill(0)
    .subarray(kind.withC ? B * Up : 0);
  const H = arena.view(k.H, rows * Up);
  const loss = headStep(a.target, H, [T, B, U, Up], params.W_yh, params.b_y, y, batch, dH, into('W_yh'), into('b_y'));

  kind.backward(wasm, arena, d, p, k, dY, g);

  const dWxT = arena.view(g.dWxT, Ip * G * Up);
  gates.forEach((k, n) => untransposed(dWxT, n, G, I, Up, into(`W_${k}x`)));
  const dWhT = arena.view(g.dWhT, Up * F * Up);
  recurrentGates.forEach((k, n) => untransposed(dWhT, n, F, U, Up, into(`W_${k}h`)));
  if (kind.withWnh) {
    const dWnhT = arena.view(g.dWnhT, Up * Up);
    separate.forEach((k, n) => untransposed(dWnhT, n, 1, U, Up, into(`W_${k}h`)));
  }
  if (withB) {
    const db = arena.view(g.db, G * Up);
    gates.forEach((k, n) => into(`b_${k}`).set(db.subarray(n * Up, n * Up + U)));
  }
  if (withBh) {
    const dbh = arena.view(g.dbh, F * Up);
    recurrentGates.forEach((k, n) => {
      if (recurrentBias[k]) into(recurrentBias[k]).set(dbh.subarray(n * Up, n * Up + U));
    });
  }
  const missing = a.symbols.find((s) => !written.has(s));
  if (missing !== undefined) {
    throw new Error(`train: the fused step has no gradient of '${missing}' (a ${config.kind} cell)`);
  }
  return loss;
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

/** The inverse of {@link transposed} for block `n` of `count`: `W_n` (`[U, C]`, `out`). */
function untransposed(from: Float32Array, n: number, count: number, C: number, Up: number, out: Float32Array): void {
  const U = out.length / C;
  const width = count * Up;
  for (let c = 0; c < C; c++) {
    const at = c * width + n * Up;
    for (let u = 0; u < U; u++) out[u * C + c] = from[at + u];
  }
}

/** Vectors side by side, each block `Up` wide (zeros where a block has no vector). */
function blocks(out: Float32Array, vectors: (Float32Array | undefined)[], Up: number): void {
  out.fill(0);
  for (let n = 0; n < vectors.length; n++) if (vectors[n]) out.set(vectors[n]!, n * Up);
}

/**
 * The head and the loss: from every `h_t` (`H`, rows `t*B + b`, `Up` apart), the mean squared
 * error of `W_yh h_t + b_y` against `y`'s rows `batch` at the target's steps, its gradients of
 * `W_yh` and `b_y` (written to `dW`, `db`) and `dL/dh_t`, added to `dH` (rows as `H`); returns the
 * loss. Rounded to float32 where tfjs's ops store a value.
 */
function headStep(
  target: Target,
  H: Float32Array,
  [T, B, U, Up]: number[],
  Wy: Float32Array,
  by: Float32Array,
  y: Float32Array,
  batch: Int32Array,
  dH: Float32Array,
  dW: Float32Array,
  db: Float32Array,
): number {
  const O = by.length;
  const first = target === 'everyStep' ? 0 : T - 1;
  const n = (T - first) * B * O;
  const scale = f(2 * f(1 / n));
  const [dw, dbs] = [new Float64Array(O * U), new Float64Array(O)];
  let sum = 0;
  for (let t = first; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const r = (t * B + b) * Up;
      const at = target === 'everyStep' ? (batch[b] * T + t) * O : batch[b] * O;
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
  return f(f(sum) / n);
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
