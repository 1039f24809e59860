/**
 * Fused whole-sequence kernels of the cells whose state is updated unit by unit: minGRU,
 * minLSTM and IndRNN (`src/cells/`), part of the sequence module (`./sequence.ts`;
 * `src/fast/wasm/scan-kernel.ts` runs them). Their gates read only `x_t`, so the rows of a batch
 * are independent over the whole sequence: each row runs alone (on the threads of `./pool.ts`,
 * in blocks of rows), in chunks of steps — the chunk's input halves in one product, then its
 * steps' elementwise arithmetic (the gates and `h_t = a_t ⊙ h_{t-1} + b_t`, or IndRNN's
 * `h_t = σ(W_hx x_t + u_h ⊙ h_{t-1} + b_h)`) — so that a row's states are written and read in
 * order, and the chunk stays in cache. Where a backward will follow, the forward leaves the gates
 * in `A` (`[B*T, G*Up]`, batch-major in processing order; not IndRNN's, whose backward reads
 * only `h_t`). The backward goes back over each row's chunks: the gradient carried by `a_t`, the
 * gates' input halves' gradients in the thread's scratch (in cache), the chunk's share of `dL/dW` summed into
 * its block of rows' own partial sums (added up in order at the end: the same bits on any number
 * of threads), and `dL/dX`. (Recomputing the gates from `x_t` instead would cost half as many
 * products again as the forward and backward need, and every activation a second time.)
 *
 * Every pointer is the byte offset of an f32 array in the module's memory; matrices are
 * row-major; the caller pads the units and the input size to multiples of 4 (`Up`, `Ip`) with
 * zeros. `X` (`[T*B, Ip]`) is time-major in processing order: step k's rows are `k*B .. k*B + B-1`.
 * The gates' input weights are stacked in the cell's order (minGRU z, h; minLSTM f, i, h; IndRNN
 * h), `G` of them: `WT` (`[Ip, G*Up]`), `W` its transpose (`[G*Up, Ip]`), `b` (`[G*Up]`); `u` is
 * IndRNN's `u_h` (`[Up]`). `H` gets every `h_t` batch-major in input order, as `unroll` returns
 * it: row `n*T + t` with `t = k`, or `T-1-k` with `reverse`. `K` is the mask (`[T*B]` in
 * processing order, 0 where a step is padding) or 0 for none: a padded row carries the state
 * before it forward, and in the backward pass the gradient it receives back untouched. `act` is
 * f (IndRNN's σ), `rec` the gates' σ, by their codes in `./simd.ts`; they are inlined
 * (`inline.always`) where they are called: as calls, one per four lanes, they took 3–4 ms of the
 * ~30 of minGRU's forward and backward at B = 32, T = 512, U = 128.
 *
 * Before, the kernels went over the steps with the whole batch in each: a step's rows of `H` are
 * `T·Up` floats apart (256 KiB at T = 512, U = 128), all on the same cache sets.
 */
import { gemm, SPLIT_WORK } from './gemm';
import { job, MAX_PARTS, overRows, thread } from './pool';
import { actv, dactv, madd } from './simd';

/** The cells, by their code. */
const MINGRU = 0;
const MINLSTM = 1;
const INDRNN = 2;

/** The number of gates of a cell. */
function gatesOf(kind: i32): i32 {
  return kind == MINGRU ? 2 : kind == MINLSTM ? 3 : 1;
}

/** Steps of a chunk: as many as keep its `N` input halves within 64 KiB, 4 to 64. */
function chunkOf(N: i32): i32 {
  return min(64, max(4, 16384 / N));
}

/** Rows of a block (the unit the threads take, and of the backward's partial sums): 16 blocks at most. */
function blockOf(B: i32): i32 {
  return max(4, (B + 15) / 16);
}

/** Floats of one thread's scratch: two chunks of input halves (`P`, `D`) and a carried gradient. */
function scratchOf(N: i32, Up: i32): i32 {
  return 2 * chunkOf(N) * N + Up;
}

/** Floats of scratch a kernel of `G` gates takes (`S`): every thread's share. */
export function scanScratch(G: i32, Up: i32): i32 {
  return MAX_PARTS * scratchOf(G * Up, Up);
}

/** Floats of the backward's partial sums (`Q`) at batch `B`: per block of rows, `dWT` and `db`; then `du` per block. */
export function scanPartials(G: i32, B: i32, Ip: i32, Up: i32): i32 {
  return ((B + blockOf(B) - 1) / blockOf(B)) * ((Ip + 1) * G * Up + Up);
}

/** What a scan's rows read ({@link job}), set by the exported kernels. */
@unmanaged
class Scan {
  kind: i32;
  act: i32;
  rec: i32;
  reverse: i32;
  T: i32;
  B: i32;
  Ip: i32;
  Up: i32;
  X: usize;
  WT: usize;
  W: usize;
  b: usize;
  u: usize;
  h0: usize;
  K: usize;
  H: usize;
  A: usize;
  S: usize;
  dH: usize;
  dhT: usize;
  dX: usize;
  Q: usize;
  dh0: usize;
}

/** A kernel's {@link Scan}: its cell, activations, direction and sizes set, its arrays 0. */
function scan(kind: i32, act: i32, rec: i32, reverse: i32, T: i32, B: i32, Ip: i32, Up: i32): Scan {
  const a = changetype<Scan>(job());
  memory.fill(job(), 0, offsetof<Scan>());
  a.kind = kind;
  a.act = act;
  a.rec = rec;
  a.reverse = reverse;
  a.T = T;
  a.B = B;
  a.Ip = Ip;
  a.Up = Up;
  return a;
}

/** The arrays the forward and the backward both read, and the scratch. */
function arrays(
  a: Scan,
  X: usize,
  WT: usize,
  b: usize,
  u: usize,
  h0: usize,
  K: usize,
  H: usize,
  A: usize,
  S: usize,
): void {
  a.X = X;
  a.WT = WT;
  a.b = b;
  a.u = u;
  a.h0 = h0;
  a.K = K;
  a.H = H;
  a.A = A;
  a.S = S;
}

/** The {@link Scan} of the kernel running. */
function running(): Scan {
  return changetype<Scan>(job());
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

/** Byte offset of row n of step k of `X` (or `dX`, `[T*B, Ip]`). */
function xAt(X: usize, n: i32, k: i32, B: i32, Ip: i32): usize {
  return X + ((<usize>(k * B + n) * <usize>Ip) << 2);
}

/** `P[c, N] = b + x_k W^T` for the `c` steps from `k0` of batch row n: the chunk's input halves. */
function project(a: Scan, n: i32, k0: i32, c: i32, N: i32, P: usize): void {
  const row = (<usize>N) << 2;
  for (let i = 0; i < c; i++) memory.copy(P + <usize>i * row, a.b, row);
  gemm(c, N, a.Ip, xAt(a.X, n, k0, a.B, a.Ip), a.B * a.Ip, 1, a.WT, N, P, N);
}

/** Byte offset of the gates of batch row n at processed step k in `A` (`[B*T, N]`, processing order). */
function gatesAt(A: usize, n: i32, k: i32, T: i32, N: i32): usize {
  return A + ((<usize>(n * T + k) * <usize>N) << 2);
}

/** This thread's scratch: `P` at the start, `D` after a chunk, the carried gradient after both. */
function scratchHere(a: Scan, N: i32): usize {
  return a.S + ((<usize>thread() * <usize>scratchOf(N, a.Up)) << 2);
}

/** `out[N] += Σ_i D[i, :]` over the c rows of `D`. */
function addColumnSums(out: usize, D: usize, c: i32, N: i32): void {
  const row = (<usize>N) << 2;
  for (let i = 0; i < c; i++) {
    const d = D + <usize>i * row;
    for (let j: usize = 0; j < row; j += 16) v128.store(out + j, f32x4.add(v128.load(out + j), v128.load(d + j)));
  }
}

/**
 * Forward: `H` gets every `h_t`, `A` (where not 0) the gates; `S` is scratch ({@link scanScratch}; read only
 * where `A` is 0). minGRU:
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
  A: usize,
  S: usize,
): void {
  arrays(scan(kind, act, rec, reverse, T, B, Ip, Up), X, WT, b, u, h0, K, H, A, S);
  const N = gatesOf(kind) * Up;
  overRows(B, <f64>T * <f64>B * <f64>N * <f64>Ip, SPLIT_WORK, forwardRows, blockOf(B));
}

/** {@link scanForward} for the batch rows `r0 .. r1 - 1`. */
function forwardRows(r0: i32, r1: i32): void {
  const a = running();
  const kind = a.kind,
    act = a.act,
    rec = a.rec,
    reverse = a.reverse,
    T = a.T,
    B = a.B,
    Up = a.Up;
  const N = gatesOf(kind) * Up;
  const C = chunkOf(N);
  const row = (<usize>Up) << 2;
  const rowN = (<usize>N) << 2;
  for (let n = r0; n < r1; n++) {
    for (let k0 = 0; k0 < T; k0 += C) {
      const c = min(C, T - k0);
      // The chunk's input halves: in scratch, or where the backward will read their gates.
      const P = a.A ? gatesAt(a.A, n, k0, T, N) : scratchHere(a, N);
      project(a, n, k0, c, N, P);
      for (let k = k0; k < k0 + c; k++) {
        const prev = prevAt(a.H, a.h0, n, k, T, Up, reverse);
        const h = hAt(a.H, n, k, T, Up, reverse);
        if (!isReal(a.K, k, B, n)) {
          memory.copy(h, prev, row);
          continue;
        }
        const p = P + <usize>(k - k0) * rowN;
        if (kind == MINGRU) minGruForward(act, rec, row, p, prev, h);
        else if (kind == MINLSTM) minLstmForward(act, rec, row, p, prev, h);
        else indRnnForward(act, row, p, a.u, prev, h);
      }
    }
  }
}

// One row forward, from the input halves `p`, which get the gates in their place.

/** minGRU, a row: `h_t = h_{t-1} + z_t ⊙ (h̃_t - h_{t-1})` (`p`: `z`, `h`). */
function minGruForward(act: i32, rec: i32, row: usize, p: usize, prev: usize, h: usize): void {
  for (let j: usize = 0; j < row; j += 16) {
    const hp = v128.load(prev + j);
    const z = inline.always(actv(rec, v128.load(p + j)));
    const c = inline.always(actv(act, v128.load(p + row + j)));
    v128.store(p + j, z);
    v128.store(p + row + j, c);
    v128.store(h + j, madd(z, f32x4.sub(c, hp), hp));
  }
}

/** minLSTM, a row: `h_t = (f_t ⊙ h_{t-1} + i_t ⊙ h̃_t) / (f_t + i_t)` (`p`: `f`, `i`, `h`). */
function minLstmForward(act: i32, rec: i32, row: usize, p: usize, prev: usize, h: usize): void {
  for (let j: usize = 0; j < row; j += 16) {
    const hp = v128.load(prev + j);
    const f = inline.always(actv(rec, v128.load(p + j)));
    const i = inline.always(actv(rec, v128.load(p + row + j)));
    const c = inline.always(actv(act, v128.load(p + 2 * row + j)));
    v128.store(p + j, f);
    v128.store(p + row + j, i);
    v128.store(p + 2 * row + j, c);
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
 * Backward, from `dH = dL/dH` and `dhT = dL/dh_T` of the last processed step and the forward's
 * `H` and `A`: `dWT` (`dL/dWT`),
 * `db`, `dh0`, and `dX` and `du` where not 0 (`W` is read only for `dX`). `S` is scratch
 * ({@link scanScratch}), `Q` the partial sums ({@link scanPartials}). With `g = dL/dh_t` (what
 * reaches the step from the loss and from step t+1), the gradient carried to `h_{t-1}` is
 * `g ⊙ a_t` and, for each cell (`s = f_t + i_t`):
 *
 * - minGRU: `dL/dz_t = g ⊙ (h̃_t - h_{t-1})`, `dL/dh̃_t = g ⊙ z_t`, `a_t = 1 - z_t`;
 * - minLSTM: with `q = g ⊙ (h_{t-1} - h̃_t) / s²`, `dL/df_t = i_t ⊙ q`, `dL/di_t = -f_t ⊙ q`,
 *   `dL/dh̃_t = g ⊙ i_t / s`, `a_t = f_t / s`;
 * - IndRNN: `dL/dz_t = g ⊙ σ'`, `dL/du_h += dL/dz_t ⊙ h_{t-1}`, carried `dL/dz_t ⊙ u_h`;
 *
 * then through each gate's activation to its input half `D` (a chunk's in scratch), and
 * `dWT += X_k^T D`, `db += Σ D`, `dX_k = D W`.
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
  A: usize,
  dH: usize,
  dhT: usize,
  S: usize,
  Q: usize,
  dX: usize,
  dWT: usize,
  db: usize,
  du: usize,
  dh0: usize,
): void {
  const a = scan(kind, act, rec, reverse, T, B, Ip, Up);
  arrays(a, X, WT, b, u, h0, K, H, A, S);
  a.W = W;
  a.dH = dH;
  a.dhT = dhT;
  a.Q = Q;
  a.dX = dX;
  a.dh0 = dh0;
  const N = gatesOf(kind) * Up;
  const block = blockOf(B);
  const blocks = (B + block - 1) / block;
  const partial = (<usize>(Ip + 1) * <usize>N) << 2;
  memory.fill(Q, 0, <usize>blocks * partial + ((<usize>(kind == INDRNN ? blocks * Up : 0)) << 2));
  overRows(B, 3 * <f64>T * <f64>B * <f64>N * <f64>Ip, SPLIT_WORK, backwardRows, block);
  // The blocks' partial sums, in order (each added as one row): dWT and db (the row after it), then du.
  memory.copy(dWT, Q, partial - ((<usize>N) << 2));
  memory.copy(db, Q + partial - ((<usize>N) << 2), (<usize>N) << 2);
  for (let i = 1; i < blocks; i++) {
    addColumnSums(dWT, Q + <usize>i * partial, 1, Ip * N);
    addColumnSums(db, Q + <usize>(i + 1) * partial - ((<usize>N) << 2), 1, N);
  }
  if (du) {
    const dus = Q + <usize>blocks * partial;
    memory.copy(du, dus, (<usize>Up) << 2);
    for (let i = 1; i < blocks; i++) addColumnSums(du, dus + ((<usize>(i * Up)) << 2), 1, Up);
  }
}

/** {@link scanBackward} for the batch rows `r0 .. r1 - 1`. */
function backwardRows(r0: i32, r1: i32): void {
  const a = running();
  const kind = a.kind,
    act = a.act,
    rec = a.rec,
    reverse = a.reverse,
    T = a.T,
    B = a.B,
    Ip = a.Ip,
    Up = a.Up;
  const N = gatesOf(kind) * Up;
  const C = chunkOf(N);
  const row = (<usize>Up) << 2;
  const rowN = (<usize>N) << 2;
  const D = scratchHere(a, N) + <usize>C * rowN;
  const g = D + <usize>C * rowN;
  const block = blockOf(B);
  const partial = (<usize>(Ip + 1) * <usize>N) << 2;
  for (let n = r0; n < r1; n++) {
    const dWT = a.Q + <usize>(n / block) * partial;
    const db = dWT + partial - rowN;
    const dus = a.Q + <usize>((B + block - 1) / block) * partial;
    const du = kind == INDRNN ? dus + ((<usize>(n / block) * <usize>Up) << 2) : 0;
    memory.copy(g, a.dhT + <usize>n * row, row);
    for (let k0 = ((T - 1) / C) * C; k0 >= 0; k0 -= C) {
      const c = min(C, T - k0);
      // The chunk's gates (IndRNN's backward reads only h_t), and their input halves' gradients
      // in scratch.
      const Z = kind == INDRNN ? 0 : gatesAt(a.A, n, k0, T, N);
      for (let k = k0 + c - 1; k >= k0; k--) {
        const d = D + <usize>(k - k0) * rowN;
        const z = Z + <usize>(k - k0) * rowN;
        const dy = hAt(a.dH, n, k, T, Up, reverse);
        if (!isReal(a.K, k, B, n)) {
          for (let j: usize = 0; j < row; j += 16) v128.store(g + j, f32x4.add(v128.load(g + j), v128.load(dy + j)));
          memory.fill(d, 0, rowN);
          continue;
        }
        const prev = prevAt(a.H, a.h0, n, k, T, Up, reverse);
        if (kind == MINGRU) minGruBackward(act, rec, row, z, prev, dy, g, d);
        else if (kind == MINLSTM) minLstmBackward(act, rec, row, z, prev, dy, g, d);
        else indRnnBackward(act, row, hAt(a.H, n, k, T, Up, reverse), a.u, prev, dy, g, d, du);
      }
      gemm(Ip, N, c, xAt(a.X, n, k0, B, Ip), 1, B * Ip, D, N, dWT, N);
      addColumnSums(db, D, c, N);
      if (a.dX) {
        for (let k = k0; k < k0 + c; k++) memory.fill(xAt(a.dX, n, k, B, Ip), 0, (<usize>Ip) << 2);
        gemm(c, Ip, N, D, N, 1, a.W, Ip, xAt(a.dX, n, k0, B, Ip), B * Ip);
      }
    }
    memory.copy(a.dh0 + <usize>n * row, g, row);
  }
}

// One row back: from `g` (the gradient carried from step t+1) plus `dy` (the loss's) and the gates
// at `p`, `d` gets the input halves' gradients, and `g` the gradient carried to `h_{t-1}`.

/** minGRU, a row back (`p`: the gates `z`, `h̃`). */
function minGruBackward(act: i32, rec: i32, row: usize, p: usize, prev: usize, dy: usize, g: usize, d: usize): void {
  const one = f32x4.splat(1.0);
  for (let j: usize = 0; j < row; j += 16) {
    const gv = f32x4.add(v128.load(g + j), v128.load(dy + j));
    const hp = v128.load(prev + j);
    const z = v128.load(p + j);
    const c = v128.load(p + row + j);
    v128.store(d + j, f32x4.mul(f32x4.mul(gv, f32x4.sub(c, hp)), dactv(rec, z)));
    v128.store(d + row + j, f32x4.mul(f32x4.mul(gv, z), dactv(act, c)));
    v128.store(g + j, f32x4.mul(gv, f32x4.sub(one, z)));
  }
}

/** minLSTM, a row back (`p`: the gates `f`, `i`, `h̃`). */
function minLstmBackward(act: i32, rec: i32, row: usize, p: usize, prev: usize, dy: usize, g: usize, d: usize): void {
  const one = f32x4.splat(1.0);
  for (let j: usize = 0; j < row; j += 16) {
    const gv = f32x4.add(v128.load(g + j), v128.load(dy + j));
    const hp = v128.load(prev + j);
    const f = v128.load(p + j);
    const i = v128.load(p + row + j);
    const c = v128.load(p + 2 * row + j);
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
