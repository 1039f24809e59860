/**
 * A whole sequence on the fast path: `unroll`'s loop over the cell's equations on fused weights
 * (`./fused.ts`) and, while gradients are recorded and the cell kind has a hand-derived backward
 * ({@link Backward}), that loop wrapped in one op (`customOp`, `tf.customGrad` with a gradient per
 * input) whose gradient is the whole sequence's.
 *
 * tfjs's own gradient of an unrolled graph replays a dozen kernels per step and one matMul per
 * step and weight. Here the forward records nothing (it keeps the few quantities the backward
 * needs, e.g. the LSTM's gates); the backward
 *
 * 1. computes the cell's local derivatives of all steps at once (`factors`, a few kernels in all);
 * 2. walks the steps back: per step a handful of elementwise kernels (`step`) and one matMul
 *    `dL/dh_{t-1} += dL/dhp_t W_h`;
 * 3. forms every weight gradient as one matMul over all steps, with the rows of all steps stacked
 *    (`[T*B, G*U]`, `./concat.ts`; `./gradients.ts`): `dW_x^T = X^T dXP`, `dW_h^T = H_{prev}^T dHP`, `db = Σ dXP`,
 *    `db_h = Σ dHP`, `dX = dXP W_x`, each only when tfjs asks for it (no `dX` for a first layer).
 *
 * Masks are handled here (a masked row passes its gradient to the previous state untouched);
 * `reverse` needs nothing, since `unroll` hands over the steps in processing order. The matMuls go
 * through `./matmul.ts` and the cutting into steps through `./split.ts`, both fast on CPU and WASM.
 *
 * Where the backend has a step kernel (`./step-kernels.ts`), a step forward is that kernel and,
 * without a mask, a step back is the kernel's `back`: the forward keeps each step's recurrent
 * halves and states as they are and a step back reads them, so nothing is stacked or recomputed
 * for it (on software WebGL, stacking the halves and recomputing the LSTM's gates on all steps was
 * about a fifth of its training step). With a mask the steps back are the tf ops above, and the
 * quantities they need are recomputed after the forward for all steps at once by the cell's own
 * equations on the stacked rows (of the input projection and of each step's recurrent halves).
 */
import * as tf from '@tensorflow/tfjs';
import { stateOf, type Cell, type Equations, type Quantities, type State } from '../cells/cell.js';
import { definitionOf } from '../cells/kinds.js';
import { concatRows, stackRows } from './concat.js';
import { fuse, fusedTerms, hidden, project, separateGates, type FusedWeights } from './fused.js';
import { matMul } from './matmul.js';
import { inputGradients, rowsOf, type Walked } from './gradients.js';
import { customOp } from './kernels.js';
import type { Backward, FastPath, StepKernel } from './registry.js';
import { split, unstack } from './split.js';

/** `unroll`'s loop: the state after every step (processing order), each from `step(k, state)`. */
export type Loop = (step: (k: number, state: State) => State, state0: State) => State[];

/** What the loop runs on: time-major inputs in processing order, first state, mask. */
export interface SequenceInputs {
  /** `[T * B, inputSize]`, step k in rows `k*B .. (k+1)*B - 1`. */
  X: tf.Tensor2D;
  state0: State;
  /** `[T, B, 1]`, 1 where a step is real, or null. */
  keep: tf.Tensor3D | null;
  /**
   * `[B, units]`: the recurrent dropout mask `m` of every step, or null. The recurrent half of a
   * step is `(h_{t-1} ⊙ m) W_h^T`; the state carried forward is `h_{t-1}` itself.
   */
  recurrentMask?: tf.Tensor2D | null;
}

/** Every `h` (`[T, B, units]`, processing order) and the last state. */
export interface SequenceResult {
  hs: tf.Tensor3D;
  state: State;
}

/** Runs `cell` over the sequence on its fast path `path`. */
export function runFast(cell: Cell, given: FastPath, inputs: SequenceInputs, loop: Loop): SequenceResult {
  const equations = definitionOf(cell.kind).equations(cell.config);
  const w = fuse(cell.params, given.layout, cell.units);
  const path = inputs.recurrentMask ? masked(given) : given;
  // The backend's whole-sequence kernel (`./wasm/kernel.ts`, `./webgpu-sequence.ts`; `masked` leaves none).
  const [kernel, batch] = [path.sequenceKernel, inputs.state0.h.shape[0]];
  if (kernel?.fits(inputs.X.shape[0] / batch, batch, inputs.keep !== null)) {
    return kernel.run(w, inputs.X, inputs.state0, inputs.keep);
  }
  if (path.backward && tf.engine().isTapeOn()) {
    return withGradient(path, equations, path.backward, w, inputs, loop);
  }
  // A step kernel has no gradient: with the tape on (and no hand-derived backward) tf ops run.
  const plain = tf.engine().isTapeOn() ? { ...path, stepKernel: undefined } : path;
  const stepper = makeStepper(plain, equations, w, inputs, []);
  const states = loop((k, state) => stepper.step(k, state), inputs.state0);
  return { hs: stackRows(states.map((s) => s.h)), state: states[states.length - 1] };
}

/**
 * The path for a sequence with a recurrent dropout mask: tf ops for a step (no backend step
 * kernel), and the hand-derived backward only where every `W_kh` is in the per-step matMul (the
 * GRU without `resetAfter` applies `W_nh` to `r_t ⊙ h_{t-1} ⊙ m`: tfjs derives that gradient).
 */
function masked(path: FastPath): FastPath {
  const allRecurrent = separateGates(path.layout).length === 0;
  return { layout: path.layout, ...(allRecurrent && path.backward && { backward: path.backward }) };
}

/** Steps of the equations on the fused weights, and the quantities a backward pass keeps of them. */
interface Stepper {
  /** The state after step k (its intermediate tensors disposed). */
  step(k: number, state: State): State;
  /** The kept quantities of every step, stacked (`[T*B, …]`), given the states before each step stacked. */
  kept(prev: State): Record<string, tf.Tensor2D>;
  /** With the step kernel: the input halves of all steps and each step's recurrent halves, where kept. */
  halves?: { XP: tf.Tensor2D; hps: tf.Tensor2D[] };
}

/**
 * The steps of the sequence whose rows are `X`. The input halves of all steps are one matMul.
 * With the backend's step kernel a step is that kernel (it reads its rows of the projection in
 * place) and the kept quantities are computed afterwards for all steps at once, by the same
 * equations on the stacked rows; otherwise a step is the equations on slices of the projection
 * (split once) and keeps its quantities as it goes.
 */
function makeStepper(
  path: FastPath,
  equations: Equations,
  w: FusedWeights,
  { X, state0, recurrentMask }: SequenceInputs,
  keep: readonly string[],
): Stepper {
  const batch = state0.h.shape[0];
  const m = recurrentMask ?? undefined;
  const hp = (h: tf.Tensor2D) => hidden(m ? (tf.mul(h, m) as tf.Tensor2D) : h, w);
  const XP = project(X, w);
  const pick = (q: Quantities) => Object.fromEntries(keep.map((name) => [name, q[name]!]));
  const kernel = path.stepKernel;
  if (kernel?.fits(batch)) {
    // Where quantities are kept, each step's recurrent halves are too: stacking them costs less
    // than their matMul again on all steps (a product of T*B x units x gates*units).
    const hps: tf.Tensor2D[] = [];
    return {
      step: (k, state) => {
        const hpk = tf.tidy(() => hidden(state.h, w));
        const next = tf.tidy(() => kernel.step(XP, k * batch, hpk, state));
        if (keep.length) hps.push(hpk);
        else hpk.dispose();
        return next;
      },
      kept: (prev) => pick(equations(fusedTerms(XP, concatRows(hps), w, path.layout), prev)),
      halves: { XP, hps },
    };
  }
  const xps = unstack(XP.reshape([X.shape[0] / batch, batch, -1])) as tf.Tensor2D[];
  const steps: Record<string, tf.Tensor2D>[] = [];
  return {
    step: (k, state) => {
      const out = tf.tidy(() => {
        const q = equations(fusedTerms(xps[k], hp(state.h), w, path.layout, m), state);
        return { state: stateOf(q), kept: pick(q) };
      });
      steps.push(out.kept);
      return out.state;
    },
    kept: () => Object.fromEntries(keep.map((name) => [name, tf.concat(steps.map((values) => values[name]))])),
  };
}

/**
 * The loop as a single differentiable operation of `X`, the fused weights and the first state,
 * with the hand-derived `backward` as its gradient.
 */
function withGradient(
  path: FastPath,
  equations: Equations,
  backward: Backward,
  w: FusedWeights,
  sequence: SequenceInputs,
  loop: Loop,
): SequenceResult {
  const { X, state0, keep } = sequence;
  const m = sequence.recurrentMask ?? null;
  const batch = state0.h.shape[0];
  const time = X.shape[0] / batch;
  const withC = state0.c !== undefined;
  const hasB = w.b !== undefined;
  const hasBh = w.bh !== undefined;
  const separate = separateGates(path.layout);
  // The kernel's step back from the forward's own tensors, where it has one and it applies.
  const kernel = path.stepKernel;
  const kernelBack =
    keep === null && m === null && separate.length === 0 && kernel?.fits(batch) ? kernel.back : undefined;
  const inputs = [
    X,
    w.WxT,
    ...(hasB ? [w.b!] : []),
    w.WhT,
    ...(hasBh ? [w.bh!] : []),
    ...separate.map((k) => w.separate[k]),
    state0.h,
    ...(withC ? [state0.c!] : []),
  ];

  const value = customOp(inputs, (args, save) => {
    const [X, WxT, ...rest] = args as tf.Tensor2D[];
    const b = hasB ? (rest.shift() as unknown as tf.Tensor1D) : undefined;
    const WhT = rest.shift()!;
    const bh = hasBh ? (rest.shift() as unknown as tf.Tensor1D) : undefined;
    const sep = Object.fromEntries(separate.map((k) => [k, rest.shift()!]));
    const [h0, c0] = rest;
    const first: State = withC ? { h: h0, c: c0 } : { h: h0 };
    const weights = { WxT, b, WhT, bh, separate: sep };
    const stepper = makeStepper(path, equations, weights, { ...sequence, X, state0: first }, backward.keep);
    const states = loop((k, state) => stepper.step(k, state), first);
    const value = stackRows([...(withC ? [states[time - 1].c!] : []), ...states.map((s) => s.h)]);
    // h_0 .. h_{T-1}, stacked: h_0 and rows of `value` (one copy, not a concat of T tensors).
    const prev: State = { h: h0 };
    if (time > 1) {
      const units = h0.shape[1];
      const rows = tf.slice(tf.reshape(value, [-1, units]), [(withC ? 1 : 0) * batch, 0], [(time - 1) * batch, units]);
      prev.h = concatRows([h0, rows as tf.Tensor2D]);
    }
    if (kernelBack && stepper.halves) {
      // X, the weights, h_0..h_{T-1} stacked, XP, each step's recurrent halves, the states 0..T.
      const all = [first, ...states];
      const hs = all.map((s) => s.h);
      const cs = withC ? all.map((s) => s.c!) : [];
      save([X, WxT, WhT, prev.h, stepper.halves.XP, ...stepper.halves.hps, ...hs, ...cs]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          kernelBackwardPass(kernelBack, backward, dy, saved, { time, batch, withC, hasB, hasBh }),
      };
    }
    if (withC) prev.c = concatRows([first, ...states.slice(0, -1)].map((s) => s.c!));
    const kept = stepper.kept(prev);
    save([
      X,
      WxT,
      WhT,
      ...separate.map((k) => sep[k]),
      prev.h,
      ...(withC ? [prev.c!] : []),
      ...(keep ? [keep] : []),
      ...(m ? [m] : []),
      ...backward.keep.map((name) => kept[name]),
    ]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        backwardPass(backward, dy, saved, {
          time,
          batch,
          withC,
          hasB,
          hasBh,
          separate,
          masked: keep !== null,
          recurrentMasked: m !== null,
        }),
    };
  }) as tf.Tensor3D;
  const [c, hs] = withC ? split(value, [1, time], 0) : [undefined, value];
  const h = time > 1 ? tf.slice(hs, [time - 1, 0, 0], [1, -1, -1]) : hs; // a view on cpu; on GPUs a copy of one step
  const state: State = { h: h.reshape([batch, -1]) as tf.Tensor2D };
  if (c) state.c = c.reshape([batch, -1]) as tf.Tensor2D;
  return { hs: hs as tf.Tensor3D, state };
}

/**
 * The gradients of the sequence op's inputs, in their order, from `dy = dL/d[(c_T,) h_1..h_T]`:
 * the steps walked back now, the gradients of the inputs when tfjs asks for them.
 */
function backwardPass(
  backward: Backward,
  dy: tf.Tensor,
  saved: tf.Tensor[],
  o: {
    time: number;
    batch: number;
    withC: boolean;
    hasB: boolean;
    hasBh: boolean;
    separate: string[];
    masked: boolean;
    /** Whether a recurrent dropout mask `m` was saved: `dL/dh_{t-1}` gets `(dL/dhp_t W_h) ⊙ m`. */
    recurrentMasked: boolean;
  },
): (() => tf.Tensor)[] {
  const { time, batch, withC, hasB, hasBh, separate } = o;
  const walked = tf.tidy((): Walked => {
    const [X, WxT, WhT, ...rest] = saved as tf.Tensor2D[];
    const W = Object.fromEntries(separate.map((k) => [k, tf.transpose(rest.shift()!) as tf.Tensor2D]));
    const prevH = rest.shift()!;
    const prevC = withC ? rest.shift() : undefined;
    const keep = o.masked ? rest.shift()! : null;
    const m = o.recurrentMasked ? rest.shift()! : null;
    const q = Object.fromEntries(backward.keep.map((name, i) => [name, rest[i]]));
    const Wh = tf.transpose(WhT);
    // dW_h^T is (H_prev ⊙ m)^T dHP: the rows the per-step matMul saw.
    const hm = m ? (tf.mul(prevH, tf.tile(m, [time, 1])) as tf.Tensor2D) : prevH;
    const sums = { X, WxT, prevH: hm, q, separate, hasB, hasBh };

    const factors = backward.factors(withC ? { h: prevH, c: prevC } : { h: prevH }, q);
    const perStep = Object.entries(factors).map(
      ([name, f]) => [name, unstack(f.reshape([time, batch, ...f.shape.slice(1)]))] as const,
    );
    const factorsAt = (k: number) => Object.fromEntries(perStep.map(([name, fs]) => [name, fs[k] as tf.Tensor2D]));
    const [dc, ...dys] = (withC ? unstack(dy) : [undefined, ...unstack(dy)]) as tf.Tensor2D[];
    const keeps = keep ? (unstack(keep) as tf.Tensor2D[]) : null;

    // Back through the steps; `carry` is dL/d state_{k} from the steps after k.
    let carry: Partial<State> = withC ? { c: dc } : {};
    const gs: tf.Tensor2D[] = new Array(time);
    const dhps: tf.Tensor2D[] = new Array(time);
    for (let k = time - 1; k >= 0; k--) {
      const out = tf.tidy(() => {
        const total: State = { h: carry.h ? tf.add(dys[k], carry.h) : dys[k], c: carry.c };
        // A masked row passes its gradient straight to the previous state.
        const g = keeps ? scaleState(total, keeps[k]) : total;
        const { hp, prev } = backward.step(g, factorsAt(k), W);
        const terms = (name: 'h' | 'c', ...extra: (tf.Tensor | undefined)[]) => {
          const parts = [prev[name], ...extra, keeps ? tf.sub(total[name]!, g[name]!) : undefined];
          return parts.filter((t): t is tf.Tensor2D => t !== undefined).reduce((a, b) => tf.add(a, b));
        };
        const viaW = matMul(hp, Wh);
        const next: Partial<State> = { h: terms('h', m ? tf.mul(viaW, m) : viaW) };
        if (withC) next.c = terms('c');
        return { g: g.h, hp, next };
      });
      gs[k] = out.g;
      dhps[k] = out.hp;
      carry = out.next;
    }

    return stacked(backward, { ...sums, factors, gs, dhps }, carry);
  });
  return inputGradients(walked);
}

/**
 * The gradients of the sequence op's inputs on the kernels' path, from `dy` and what the forward
 * saved (X, the weights, `h_0..h_{T-1}` stacked, XP, each step's recurrent halves, the states
 * `0..T`): the steps walked back by the kernel's `back`, reading each step's own tensors.
 */
function kernelBackwardPass(
  back: NonNullable<StepKernel['back']>,
  backward: Backward,
  dy: tf.Tensor,
  saved: tf.Tensor[],
  { time, batch, withC, hasB, hasBh }: { time: number; batch: number; withC: boolean; hasB: boolean; hasBh: boolean },
): (() => tf.Tensor)[] {
  const walked = tf.tidy((): Walked => {
    const [X, WxT, WhT, prevH, XP, ...rest] = saved as tf.Tensor2D[];
    const hps = rest.slice(0, time);
    const stateAt = (k: number): State => {
      const h = rest[time + k];
      return withC ? { h, c: rest[2 * time + 1 + k] } : { h };
    };
    const units = WhT.shape[0];
    const DY = dy.reshape([-1, units]) as tf.Tensor2D;
    const first = withC ? 1 : 0;
    // Back through the steps: `carry` is dL/d state_k from the steps after k; the step's kernels
    // add dL/dhp_t W_h to dL/dh_{t-1}, the product with W_h^T read transposed (on WebGL faster
    // than a product with W_h made once: 2.45 against 2.65 ms a step for the bench's LSTM).
    let carry: { h: tf.Tensor2D; c?: tf.Tensor2D } = { h: tf.fill([batch, units], 0) as tf.Tensor2D };
    if (withC) carry.c = DY.slice(0, batch);
    const dhps: tf.Tensor2D[] = new Array(time);
    const dxps: tf.Tensor2D[] = new Array(time);
    for (let k = time - 1; k >= 0; k--) {
      const out = tf.tidy(() => {
        const step = { XP, row0: k * batch, hp: hps[k], before: stateAt(k), after: stateAt(k + 1) };
        const { hp, xp, prev } = back(DY, (k + first) * batch, carry, step, (dhp) => matMul(dhp, WhT, false, true));
        return { hp, xp, next: prev };
      });
      if (out.xp) dxps[k] = out.xp; // where the kernels give dL/dXP_t (cells with Backward.xp)
      dhps[k] = out.hp;
      carry = out.next;
    }
    const sums = { X, WxT, prevH, q: {}, factors: {}, separate: [], hasB, hasBh, gs: [], dhps };
    return stacked(backward, { ...sums, ...(backward.xp && { dxps }) }, carry);
  });
  return inputGradients(walked);
}

/** {@link Walked} from the steps' `dL/dhp_t` (and `dL/dxp_t`, or the cell's `xp` of them). */
function stacked(
  backward: Backward,
  s: Omit<Walked, 'dXP' | 'dHP' | 'dSeparate' | 'carry'> & {
    q: Record<string, tf.Tensor2D>;
    factors: Record<string, tf.Tensor2D>;
    separate: string[];
    gs: tf.Tensor2D[];
    dhps: tf.Tensor2D[];
    /** Every step's `dL/dXP_t`, where the steps back gave it. */
    dxps?: tf.Tensor2D[];
  },
  carry: Partial<State>,
): Walked {
  const dHP = concatRows(s.dhps);
  const dXP = s.dxps ? concatRows(s.dxps) : backward.xp ? backward.xp(concatRows(s.gs), dHP, s.factors) : dHP;
  const dSeparate = backward.separate?.(dXP, s.q) ?? {};
  const hp = rowsOf(dHP);
  const { X, WxT, prevH, hasB, hasBh } = s;
  return {
    ...{ X, WxT, prevH, hasB, hasBh, carry },
    dXP: dXP === dHP ? hp : rowsOf(dXP),
    dHP: hp,
    dSeparate: s.separate.map((k) => tf.transpose(dSeparate[k])),
  };
}

/** `m ⊙ s` for every entry of the state (`m: [batch, 1]`). */
function scaleState(s: State, m: tf.Tensor2D): State {
  const out: State = { h: tf.mul(s.h, m) as tf.Tensor2D };
  if (s.c) out.c = tf.mul(s.c, m) as tf.Tensor2D;
  return out;
}
