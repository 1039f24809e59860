/**
 * The whole-sequence gradient: `unroll`'s loop wrapped in one `tf.customGrad` whose backward is
 * the cell's hand-derived one ({@link CellBackward}), run once over the sequence.
 *
 * tfjs's own gradient of an unrolled graph replays a dozen kernels per step and one matMul per
 * step and weight. Here the forward records nothing (the cell's `forward` keeps the few values its
 * derivatives need, e.g. the LSTM's gates); the backward
 *
 * 1. computes the cell's local derivatives of all steps at once (`factors`, a few kernels in all);
 * 2. walks the steps back: per step a handful of elementwise kernels (`step`) and one matMul
 *    `dL/dh_{t-1} += dL/dhp_t W_h`;
 * 3. forms every weight gradient as one matMul over all steps, with the rows of all steps stacked
 *    (`[T*B, G*U]`): `dW_x^T = X^T dXP`, `dW_h^T = H_{prev}^T dHP`, `db = Σ dXP`, `db_h = Σ dHP`,
 *    `dX = dXP W_x`.
 *
 * Masks are handled here (a masked row passes its gradient to the previous state untouched);
 * `reverse` needs nothing, since `unroll` hands over the steps in processing order. The matMuls go
 * through `./matmul.ts` and the cutting into steps through `./split.ts`, both fast on CPU and WASM.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellBackward, FusedWeights, State } from '../cells/cell.js';
import { matMul } from './matmul.js';
import { split, unstack } from './split.js';

/**
 * `unroll`'s loop: the state after every step (processing order), each step computed by `step`
 * from the projected input, the state before it and `hp = h W_h^T + b_h` (default: the cell's
 * `recur`).
 */
export type Scan = (
  X: tf.Tensor2D,
  w: FusedWeights,
  state0: State,
  step?: (xp_t: tf.Tensor2D, state: State, hp_t: tf.Tensor2D) => State,
) => State[];

/** What the loop runs on: time-major inputs in processing order, weights, first state, mask. */
export interface SequenceInputs {
  /** `[T * B, inputSize]`, step k in rows `k*B .. (k+1)*B - 1`. */
  X: tf.Tensor2D;
  w: FusedWeights;
  state0: State;
  /** `[T, B, 1]`, 1 where a step is real, or null. */
  keep: tf.Tensor3D | null;
}

/**
 * Runs `scan` once, as a single differentiable operation of `X`, the fused weights and the first
 * state, with `backward` as its gradient. Returns every `h` (`[T, B, units]`, processing order)
 * and the last state.
 */
export function sequenceWithGradient(
  cell: Cell,
  backward: CellBackward,
  { X, w, state0, keep }: SequenceInputs,
  scan: Scan,
): { hs: tf.Tensor3D; state: State } {
  const withC = cell.stateNames.includes('c');
  const hasBh = w.bh !== undefined;
  const [time, batch] = [X.shape[0] / state0.h.shape[0], state0.h.shape[0]];
  const inputs = [X, w.WxT, w.b, w.WhT, ...(hasBh ? [w.bh!] : []), state0.h, ...(withC ? [state0.c!] : [])];

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [X, WxT, b, WhT, ...rest] = args as tf.Tensor[];
    const bh = hasBh ? (rest.shift() as tf.Tensor1D) : undefined;
    const [h0, c0] = rest as tf.Tensor2D[];
    const first: State = withC ? { h: h0, c: c0 } : { h: h0 };
    // The cell's forward, keeping what its local derivatives need.
    const kept: Record<string, tf.Tensor>[] = [];
    const states = scan(
      X as tf.Tensor2D,
      { WxT: WxT as tf.Tensor2D, b: b as tf.Tensor1D, WhT: WhT as tf.Tensor2D, bh },
      first,
      (xp_t, state, hp_t) => {
        const out = tf.tidy(() => backward.forward(xp_t, hp_t, state));
        kept.push(out.saved);
        return out.state;
      },
    );
    const prev = [first, ...states.slice(0, -1)];
    const names = Object.keys(kept[0]);
    save([
      X,
      WxT,
      WhT,
      tf.concat(prev.map((s) => s.h)),
      ...(withC ? [tf.concat(prev.map((s) => s.c!))] : []),
      ...(keep ? [keep] : []),
      ...names.map((name) => tf.concat(kept.map((values) => values[name]))),
    ]);
    return {
      value: tf.stack([...(withC ? [states[time - 1].c!] : []), ...states.map((s) => s.h)]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        backwardPass(backward, dy, saved, { time, batch, withC, hasBh, masked: keep !== null, names }),
    };
  });

  const value = op(...inputs) as tf.Tensor3D;
  const [c, hs] = withC ? split(value, [1, time], 0) : [undefined, value];
  const h = time > 1 ? split(hs, [time - 1, 1], 0)[1] : hs;
  const state: State = { h: h.reshape([batch, -1]) as tf.Tensor2D };
  if (c) state.c = c.reshape([batch, -1]) as tf.Tensor2D;
  return { hs: hs as tf.Tensor3D, state };
}

/** The gradients of the sequence op's inputs, in their order, from `dy = dL/d[(c_T,) h_1..h_T]`. */
function backwardPass(
  backward: CellBackward,
  dy: tf.Tensor,
  saved: tf.Tensor[],
  o: { time: number; batch: number; withC: boolean; hasBh: boolean; masked: boolean; names: string[] },
): tf.Tensor[] {
  const { time, batch, withC, hasBh } = o;
  return tf.tidy(() => {
    const [X, WxT, WhT, prevH, ...rest] = saved as tf.Tensor2D[];
    const prevC = withC ? rest.shift() : undefined;
    const keep = o.masked ? (rest.shift() as tf.Tensor) : null;
    const values = Object.fromEntries(o.names.map((name, i) => [name, rest[i]]));
    const Wh = tf.transpose(WhT);

    const factors = backward.factors(withC ? { h: prevH, c: prevC } : { h: prevH }, values);
    const perStep = Object.entries(factors).map(
      ([name, f]) => [name, unstack(f.reshape([time, batch, ...f.shape.slice(1)]))] as const,
    );
    const factorsAt = (k: number) => Object.fromEntries(perStep.map(([name, fs]) => [name, fs[k]]));
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
        const { hp, prev } = backward.step(g, factorsAt(k));
        const terms = (name: 'h' | 'c', ...extra: (tf.Tensor | undefined)[]) => {
          const parts = [prev[name], ...extra, keeps ? tf.sub(total[name]!, g[name]!) : undefined];
          return parts.filter((t): t is tf.Tensor2D => t !== undefined).reduce((a, b) => tf.add(a, b));
        };
        const next: Partial<State> = { h: terms('h', matMul(hp, Wh)) };
        if (withC) next.c = terms('c');
        return { g: g.h, hp, next };
      });
      gs[k] = out.g;
      dhps[k] = out.hp;
      carry = out.next;
    }

    const dHP = tf.concat(dhps);
    const dXP = backward.xp ? backward.xp({ h: tf.concat(gs) }, dHP, factors) : dHP;
    // Column sums as matMuls with a row of ones: the matMul just before packed the same operand.
    const ones = tf.ones([1, time * batch]);
    const columnSum = (m: tf.Tensor2D) => tf.reshape(matMul(ones, m), [-1]);
    const grads = [
      matMul(dXP, WxT, false, true), // dX
      matMul(X, dXP, true), // dW_x^T
      columnSum(dXP), // db
      matMul(prevH, dHP, true), // dW_h^T
      ...(hasBh ? [columnSum(dHP)] : []), // db_h
      carry.h!, // dh_0
      ...(withC ? [carry.c!] : []), // dc_0
    ];
    return grads;
  });
}

/** `m ⊙ s` for every entry of the state (`m: [batch, 1]`). */
function scaleState(s: State, m: tf.Tensor2D): State {
  const out: State = { h: tf.mul(s.h, m) as tf.Tensor2D };
  if (s.c) out.c = tf.mul(s.c, m) as tf.Tensor2D;
  return out;
}
