/**
 * Fused whole-sequence kernels of the cells whose state is updated unit by unit: minGRU,
 * minLSTM and IndRNN (`src/cells/`), in AssemblyScript compiled to WebAssembly SIMD
 * (`npx tsx scripts/build-wasm.ts scan` writes `src/fast/wasm/scan-wasm.ts`;
 * `src/fast/wasm/scan-kernel.ts` runs it). Their gates read only `x_t`, so a step is the input
 * product of its rows and then elementwise arithmetic: the forward is one pass over the steps
 * (the gates and `h_t = a_t ⊙ h_{t-1} + b_t`, or IndRNN's `h_t = σ(W_hx x_t + u_h ⊙ h_{t-1} + b_h)`),
 * the backward one pass back (the gates recomputed from `x_t`, the gradient carried by `a_t`),
 * each step's products on rows that stay in cache.
 *
 * Every pointer is the byte offset of an f32 array in this module's memory; matrices are
 * row-major; the caller pads the units and the input size to multiples of 4 (`Up`, `Ip`) with
 * zeros. `X` (`[T*B, Ip]`) is time-major in processing order: step k's rows are `k*B .. k*B + B-1`.
 * The gates' input weights are stacked in the cell's order (minGRU z, h; minLSTM f, i, h; IndRNN
 * h), `G` of them: `WT` (`[Ip, G*Up]`), `W` its transpose (`[G*Up, Ip]`), `b` (`[G*Up]`); `u` is
 * IndRNN's `u_h` (`[Up]`). `H` gets every `h_t` batch-major in input order, as `unroll` returns it: row `n*T + t` with `t = k`, or `T-1-k` with `reverse`. `K` is the mask
 * (`[T*B]` in processing order, 0 where a step is padding) or 0 for none: a padded row carries
 * the state before it forward, and in the backward pass the gradient it receives back untouched.
 * `act` is f (IndRNN's σ), `rec` the gates' σ, by their codes in `./simd.ts`; they are inlined
 * (`inline.always`) where they are called: as calls, one per four lanes, they took 3–4 ms of the
 * ~30 of minGRU's forward and backward at B = 32, T = 512, U = 128.
 */
import { gemm } from './gemm';
import { actv, dactv, madd } from './simd';

export { heapBase } from './gemm';

/** The cells, by their code. */
const MINGRU = 0;
const MINLSTM = 1;
const INDRNN = 2;

/** The number of gates of a cell. */
function gatesOf(kind: i32): i32 {
  return kind == MINGRU ? 2 : kind == MINLSTM ? 3 : 1;
}

/** Byte offset of batch row n of processed step k in `H` (`[B*T, Up]`, input order). */
function hAt(H: usize, n: i32, k: i32, T: i32, Up: i32, reverse: i32): usize {
  const t = reverse ? T - 1 - k : k;
  return H + ((<usize>(n * T + t) * <usize>Up) << 2);
}

/** `h_{t-1}` of batch row n at processed step k: its row of `h0` at k = 0, else the step before's. */
function prevAt(H: usize, h0: usize, n: i32, k: i32, T: i32, Up: i32, reverse: i32): usize {
  return k == 0 ? h0 + ((<usize>n * <usize>Up) << 2) : hAt(H, n, k - 1, T, Up, reverse);
}

/** Whether batch row n of step k is a real step: no mask (`K` is 0), or its entry is not 0. */
function isReal(K: usize, k: i32, B: i32, n: i32): bool {
  return K == 0 || load<f32>(K + ((<usize>(k * B + n)) << 2)) != 0;
}

/** `P[B, N] = b + X_k W^T`: the gates' input halves of step k's rows. */
function project(k: i32, B: i32, Ip: i32, N: i32, X: usize, WT: usize, b: usize, P: usize): void {
  const row = (<usize>N) << 2;
  for (let n = 0; n < B; n++) memory.copy(P + <usize>n * row, b, row);
  gemm(B, N, Ip, X + ((<usize>(k * B) * <usize>Ip) << 2), Ip, 1, WT, N, P, N);
}

/** `out[N] += Σ_n D[n, :]` over the B rows of `D`. */
function addColumnSums(out: usize, D: usize, B: i32, N: i32): void {
  const row = (<usize>N) << 2;
  for (let n = 0; n < B; n++) {
    const d = D + <usize>n * row;
    for (let j: usize = 0; j < row; j += 16) v128.store(out + j, f32x4.add(v128.load(out + j), v128.load(d + j)));
  }
}

/**
 * Forward: `H` gets every `h_t`. `P` is scratch (`[B, G*Up]`). minGRU:
 * `h_t = h_{t-1} + z_t ⊙ (h̃_t - h_{t-1})`; minLSTM: `h_t = (f_t ⊙ h_{t-1} + i_t ⊙ h̃_t) / (f_t + i_t)`;
 * IndRNN: `h_t = σ(W_hx x_t + b_h + u_h ⊙ h_{t-1})`.
 */
export function scanForward(
  kind: i32,
  act: i32,
  rec: i32,
  reverse: i32,
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  X: usize,
  WT: usize,
  b: usize,
  u: usize,
  h0: usize,
  K: usize,
  H: usize,
  P: usize,
): void {
  const N = gatesOf(kind) * Up;
  const row = (<usize>Up) << 2;
  for (let k = 0; k < T; k++) {
    project(k, B, Ip, N, X, WT, b, P);
    for (let n = 0; n < B; n++) {
      const prev = prevAt(H, h0, n, k, T, Up, reverse);
      const h = hAt(H, n, k, T, Up, reverse);
      if (!isReal(K, k, B, n)) {
        memory.copy(h, prev, row);
        continue;
      }
      const p = P + <usize>n * <usize>N * 4;
      if (kind == MINGRU) minGruForward(act, rec, row, p, prev, h);
      else if (kind == MINLSTM) minLstmForward(act, rec, row, p, prev, h);
      else indRnnForward(act, row, p, u, prev, h);
    }
  }
}

/** minGRU, a row: `h_t = h_{t-1} + z_t ⊙ (h̃_t - h_{t-1})` from the input halves `p` (`z`, `h`). */
function minGruForward(act: i32, rec: i32, row: usize, p: usize, prev: usize, h: usize): void {
  for (let j: usize = 0; j < row; j += 16) {
    const hp = v128.load(prev + j);
    const z = inline.always(actv(rec, v128.load(p + j)));
    const c = inline.always(actv(act, v128.load(p + row + j)));
    v128.store(h + j, madd(z, f32x4.sub(c, hp), hp));
  }
}

/** minLSTM, a row: `h_t = (f_t ⊙ h_{t-1} + i_t ⊙ h̃_t) / (f_t + i_t)` from the input halves `p` (`f`, `i`, `h`). */
function minLstmForward(act: i32, rec: i32, row: usize, p: usize, prev: usize, h: usize): void {
  for (let j: usize = 0; j < row; j += 16) {
    const hp = v128.load(prev + j);
    const f = inline.always(actv(rec, v128.load(p + j)));
    const i = inline.always(actv(rec, v128.load(p + row + j)));
    const c = inline.always(actv(act, v128.load(p + 2 * row + j)));
    v128.store(h + j, f32x4.div(madd(f, hp, f32x4.mul(i, c)), f32x4.add(f, i)));
  }
}

/** IndRNN, a row: `h_t = σ(p + u_h ⊙ h_{t-1})` from the input half `p`. */
function indRnnForward(act: i32, row: usize, p: usize, u: usize, prev: usize, h: usize): void {
  for (let j: usize = 0; j < row; j += 16) {
    v128.store(h + j, inline.always(actv(act, madd(v128.load(u + j), v128.load(prev + j), v128.load(p + j)))));
  }
}

/**
 * Backward, from `dH = dL/dH` and `dhT = dL/dh_T` of the last processed step: `dWT` (`dL/dWT`),
 * `db`, `dh0`, and `dX` and `du` where not 0 (`W` is read only for `dX`). `P`, `D` (`[B, G*Up]`)
 * and `Gc` (`[B, Up]`) are scratch. With `g = dL/dh_t` (what reaches the step from the loss and from step
 * t+1), the gradient carried to `h_{t-1}` is `g ⊙ a_t` and, for each cell (`s = f_t + i_t`):
 *
 * - minGRU: `dL/dz_t = g ⊙ (h̃_t - h_{t-1})`, `dL/dh̃_t = g ⊙ z_t`, `a_t = 1 - z_t`;
 * - minLSTM: with `q = g ⊙ (h_{t-1} - h̃_t) / s²`, `dL/df_t = i_t ⊙ q`, `dL/di_t = -f_t ⊙ q`,
 *   `dL/dh̃_t = g ⊙ i_t / s`, `a_t = f_t / s`;
 * - IndRNN: `dL/dz_t = g ⊙ σ'`, `dL/du_h += dL/dz_t ⊙ h_{t-1}`, carried `dL/dz_t ⊙ u_h`;
 *
 * then through each gate's activation to its input half `D`, and `dWT += X_k^T D`,
 * `db += Σ D`, `dX_k = D W`.
 */
export function scanBackward(
  kind: i32,
  act: i32,
  rec: i32,
  reverse: i32,
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  X: usize,
  WT: usize,
  W: usize,
  b: usize,
  u: usize,
  h0: usize,
  K: usize,
  H: usize,
  dH: usize,
  dhT: usize,
  P: usize,
  D: usize,
  Gc: usize,
  dX: usize,
  dWT: usize,
  db: usize,
  du: usize,
  dh0: usize,
): void {
  const G = gatesOf(kind);
  const N = G * Up;
  const row = (<usize>Up) << 2;
  const rowN = (<usize>N) << 2;
  memory.copy(Gc, dhT, <usize>B * row);
  memory.fill(dWT, 0, <usize>Ip * rowN);
  memory.fill(db, 0, rowN);
  if (du) memory.fill(du, 0, row);
  for (let k = T - 1; k >= 0; k--) {
    // The gates again from x_t (IndRNN's backward reads only h_t).
    if (kind != INDRNN) project(k, B, Ip, N, X, WT, b, P);
    for (let n = 0; n < B; n++) {
      const g = Gc + <usize>n * row;
      const d = D + <usize>n * rowN;
      const dy = hAt(dH, n, k, T, Up, reverse);
      if (!isReal(K, k, B, n)) {
        for (let j: usize = 0; j < row; j += 16) v128.store(g + j, f32x4.add(v128.load(g + j), v128.load(dy + j)));
        memory.fill(d, 0, rowN);
        continue;
      }
      const prev = prevAt(H, h0, n, k, T, Up, reverse);
      const p = P + <usize>n * rowN;
      if (kind == MINGRU) minGruBackward(act, rec, row, p, prev, dy, g, d);
      else if (kind == MINLSTM) minLstmBackward(act, rec, row, p, prev, dy, g, d);
      else indRnnBackward(act, row, hAt(H, n, k, T, Up, reverse), u, prev, dy, g, d, du);
    }
    const Xk = X + ((<usize>(k * B) * <usize>Ip) << 2);
    gemm(Ip, N, B, Xk, 1, Ip, D, N, dWT, N);
    addColumnSums(db, D, B, N);
    if (dX) {
      const dXk = dX + ((<usize>(k * B) * <usize>Ip) << 2);
      memory.fill(dXk, 0, (<usize>B * <usize>Ip) << 2);
      gemm(B, Ip, N, D, N, 1, W, Ip, dXk, Ip);
    }
  }
  memory.copy(dh0, Gc, <usize>B * row);
}

// One row back: from `g` (the gradient carried from step t+1) plus `dy` (the loss's), `d` gets
// the input halves' gradients and `g` the gradient carried to `h_{t-1}`.

/** minGRU, a row back (`p`: the input halves `z`, `h`). */
function minGruBackward(act: i32, rec: i32, row: usize, p: usize, prev: usize, dy: usize, g: usize, d: usize): void {
  const one = f32x4.splat(1.0);
  for (let j: usize = 0; j < row; j += 16) {
    const gv = f32x4.add(v128.load(g + j), v128.load(dy + j));
    const hp = v128.load(prev + j);
    const z = inline.always(actv(rec, v128.load(p + j)));
    const c = inline.always(actv(act, v128.load(p + row + j)));
    v128.store(d + j, f32x4.mul(f32x4.mul(gv, f32x4.sub(c, hp)), dactv(rec, z)));
    v128.store(d + row + j, f32x4.mul(f32x4.mul(gv, z), dactv(act, c)));
    v128.store(g + j, f32x4.mul(gv, f32x4.sub(one, z)));
  }
}

/** minLSTM, a row back (`p`: the input halves `f`, `i`, `h`). */
function minLstmBackward(act: i32, rec: i32, row: usize, p: usize, prev: usize, dy: usize, g: usize, d: usize): void {
  const one = f32x4.splat(1.0);
  for (let j: usize = 0; j < row; j += 16) {
    const gv = f32x4.add(v128.load(g + j), v128.load(dy + j));
    const hp = v128.load(prev + j);
    const f = inline.always(actv(rec, v128.load(p + j)));
    const i = inline.always(actv(rec, v128.load(p + row + j)));
    const c = inline.always(actv(act, v128.load(p + 2 * row + j)));
    const r = f32x4.div(one, f32x4.add(f, i));
    const q = f32x4.mul(f32x4.mul(gv, f32x4.sub(hp, c)), f32x4.mul(r, r));
    v128.store(d + j, f32x4.mul(f32x4.mul(i, q), dactv(rec, f)));
    v128.store(d + row + j, f32x4.neg(f32x4.mul(f32x4.mul(f, q), dactv(rec, i))));
    v128.store(d + 2 * row + j, f32x4.mul(f32x4.mul(gv, f32x4.mul(i, r)), dactv(act, c)));
    v128.store(g + j, f32x4.mul(gv, f32x4.mul(f, r)));
  }
}

/** IndRNN, a row back (`h`: its output h_t); `du` gets `dL/du_h` added. */
function indRnnBackward(
  act: i32,
  row: usize,
  h: usize,
  u: usize,
  prev: usize,
  dy: usize,
  g: usize,
  d: usize,
  du: usize,
): void {
  for (let j: usize = 0; j < row; j += 16) {
    const gv = f32x4.add(v128.load(g + j), v128.load(dy + j));
    const dz = f32x4.mul(gv, dactv(act, v128.load(h + j)));
    v128.store(d + j, dz);
    v128.store(du + j, madd(dz, v128.load(prev + j), v128.load(du + j)));
    v128.store(g + j, f32x4.mul(dz, v128.load(u + j)));
  }
}
