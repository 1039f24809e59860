/**
 * How each cell kind calls the whole-sequence kernels of `assembly/sequence.ts`: the arrays its
 * forward keeps for the backward, and the arguments of both. `./kernel.ts` copies the values in
 * and out and wraps the pair in a `tf.customGrad`.
 */
import type { CellConfig } from '../../cells/cell.js';
import type { Arena, SequenceExports } from './module.js';

/** Sizes of a call: steps, batch, input size, units, and the last two padded to whole lanes. */
export interface Dims {
  T: number;
  B: number;
  I: number;
  U: number;
  Ip: number;
  Up: number;
}

/** Byte offsets of the inputs in the module's memory (0 where a kind has none). */
export interface Inputs {
  X: number;
  WxT: number;
  b: number;
  WhT: number;
  bh: number;
  WnhT: number;
  h0: number;
  c0: number;
  /** The mask (`[T*B]`, 0 where a step is padding), or 0 for none. */
  K: number;
}

/** Byte offsets of the gradients of the {@link Inputs} (0 where a kind has none). */
export type Gradients = { [K in Exclude<keyof Inputs, 'K'> as `d${K}`]: number };

/**
 * Room in `arena` for every gradient the backward kernel writes for these inputs: `db` and `dbh`
 * where `p` has biases, the LSTM's `dc0`, the GRU's `dWnhT` where the kind has them.
 */
export function allocGradients(arena: Arena, kind: KindKernels, d: Dims, p: Inputs): Gradients {
  const { T, B, Ip, Up } = d;
  const [G, F] = [kind.gates, kind.recurrentGates];
  return {
    dX: arena.alloc(T * B * Ip),
    dWxT: arena.alloc(Ip * G * Up),
    db: p.b ? arena.alloc(G * Up) : 0,
    dWhT: arena.alloc(Up * F * Up),
    dbh: p.bh ? arena.alloc(F * Up) : 0,
    dWnhT: kind.withWnh ? arena.alloc(Up * Up) : 0,
    dh0: arena.alloc(B * Up),
    dc0: kind.withC ? arena.alloc(B * Up) : 0,
  };
}

/** A cell kind's pair of kernels. */
export interface KindKernels {
  /** Gates in `W_x` (G) and in the per-step matMul (F). */
  gates: number;
  recurrentGates: number;
  /** The LSTM's cell state. */
  withC: boolean;
  /** `W_nh^T` applied on its own (the GRU without `resetAfter`). */
  withWnh: boolean;
  /**
   * The arrays the forward fills (the backward reads them) and its scratch, by name and number of
   * floats: `H` holds every h_t, `Cs` (the LSTM's) every c_t.
   */
  kept(d: Dims): Record<string, number>;
  forward(wasm: SequenceExports, d: Dims, p: Inputs, k: Record<string, number>): void;
  /** `dY` is `dL/d[(c_T,) h_1..h_T]`; the kernel writes every gradient `g` has room for. */
  backward(
    wasm: SequenceExports,
    arena: Arena,
    d: Dims,
    p: Inputs,
    k: Record<string, number>,
    dY: number,
    g: Gradients,
  ): void;
}

/** The activations the kernels compute, by their code there. */
const CODES: Record<string, number> = { tanh: 0, sigmoid: 1 };

/** The kernels of a configuration, or undefined where an activation is not one they compute. */
export function kindKernels(config: CellConfig): KindKernels | undefined {
  const act = CODES[config.activation];
  const rec = CODES[config.recurrentActivation ?? 'sigmoid'];
  if (act === undefined || rec === undefined) return undefined;
  const n = ({ T, B }: Dims) => T * B;
  switch (config.kind) {
    case 'elman':
      return {
        gates: 1,
        recurrentGates: 1,
        withC: false,
        withWnh: false,
        kept: (d) => ({ H: n(d) * d.Up }),
        forward: (wasm, { T, B, Ip, Up }, p, k) =>
          wasm.elmanForward(T, B, Ip, Up, act, p.X, p.WxT, p.b, p.WhT, p.h0, p.K, k.H),
        backward: (wasm, arena, d, p, k, dY, g) => {
          const { T, B, Ip, Up } = d;
          const [Wx, Wh, dA] = [arena.alloc(Up * Ip), arena.alloc(Up * Up), arena.alloc(n(d) * Up)];
          wasm.elmanBackward(
            T,
            B,
            Ip,
            Up,
            act,
            p.X,
            p.WxT,
            p.WhT,
            p.h0,
            k.H,
            dY,
            p.K,
            Wx,
            Wh,
            dA,
            g.dX,
            g.dWxT,
            g.db,
            g.dWhT,
            g.dh0,
          );
        },
      };
    case 'lstm':
      return {
        gates: 4,
        recurrentGates: 4,
        withC: true,
        withWnh: false,
        kept: (d) => ({ Q: n(d) * 4 * d.Up, Cs: n(d) * d.Up, TC: n(d) * d.Up, H: n(d) * d.Up }),
        forward: (wasm, { T, B, Ip, Up }, p, k) =>
          wasm.lstmForward(T, B, Ip, Up, act, rec, p.X, p.WxT, p.b, p.WhT, p.h0, p.c0, p.K, k.Q, k.Cs, k.TC, k.H),
        backward: (wasm, arena, d, p, k, dY, g) => {
          const { T, B, Ip, Up } = d;
          const [Wx, Wh, dQ] = [arena.alloc(4 * Up * Ip), arena.alloc(4 * Up * Up), arena.alloc(n(d) * 4 * Up)];
          wasm.lstmBackward(
            ...[T, B, Ip, Up, act, rec, p.X, p.WxT, p.WhT, p.h0, p.c0, k.Q, k.Cs, k.TC, k.H, dY, p.K],
            ...[Wx, Wh, dQ, g.dX, g.dWxT, g.db, g.dWhT, g.dh0, g.dc0],
          );
        },
      };
    case 'gru': {
      const resetAfter = config.resetAfter !== false ? 1 : 0;
      const F = resetAfter ? 3 : 2;
      return {
        gates: 3,
        recurrentGates: F,
        withC: false,
        withWnh: resetAfter === 0,
        kept: (d) => ({ Q: n(d) * 3 * d.Up, Us: n(d) * d.Up, H: n(d) * d.Up, HP: d.B * 3 * d.Up }),
        forward: (wasm, { T, B, Ip, Up }, p, k) =>
          wasm.gruForward(
            T,
            B,
            Ip,
            Up,
            act,
            rec,
            resetAfter,
            p.X,
            p.WxT,
            p.b,
            p.WhT,
            p.bh,
            p.WnhT,
            p.h0,
            p.K,
            k.Q,
            k.Us,
            k.H,
            k.HP,
          ),
        backward: (wasm, arena, d, p, k, dY, g) => {
          const { T, B, Ip, Up } = d;
          const scratch = [3 * Up * Ip, F * Up * Up, Up * Up, n(d) * 3 * Up, n(d) * F * Up, B * Up];
          const [Wx, Wh, Wnh, dXP, dHP, dU] = scratch.map((size) => arena.alloc(size));
          wasm.gruBackward(
            ...[T, B, Ip, Up, act, rec, resetAfter, p.X, p.WxT, p.WhT, p.WnhT, p.h0, k.Q, k.Us, k.H, dY, p.K],
            ...[Wx, Wh, Wnh, dXP, dHP, dU, g.dX, g.dWxT, g.db, g.dWhT, g.dbh, g.dWnhT, g.dh0],
          );
        },
      };
    }
    default:
      return undefined;
  }
}
