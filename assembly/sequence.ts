/**
 * Whole-sequence kernels of the recurrent cells, in AssemblyScript compiled to WebAssembly SIMD
 * (`npm run build:wasm` writes `src/fast/wasm/sequence-wasm.ts`; `src/fast/wasm/` runs it).
 *
 * Every pointer is the byte offset of an f32 array in this module's memory; matrices are
 * row-major. The caller pads the units and the input size to multiples of 4 (`Up`, `Ip`) with
 * zeros, so every row is whole f32x4 lanes. The rows of a sequence are time-major: step t's rows are
 * `t*B .. (t+1)*B - 1`. Gates are laid side by side in a row (`[B, G*Up]`), in the cell's order
 * (LSTM i, f, g, o; GRU z, r, n). The equations are those of `src/cells/` (see `src/fast/` for the
 * hand-derived backward passes written in LaTeX); `act` and `rec` name the activation and the
 * recurrent activation (0 tanh, 1 sigmoid). `K` is the mask (`[T*B]`, 0 where a step is padding, as
 * `unroll`'s `mask`), or 0 for none: a padded row carries the state before it forward, and in the
 * backward passes the gradient it receives to that state untouched. The activations are inlined
 * (`inline.always`) where they are called: as calls, one per four lanes, the LSTM 128 forward at
 * `[32, 50, 16]` took 13.9 ms, inlined 13.1.
 *
 * A batch's rows are independent over time, so each kernel's loop over time runs in blocks of rows
 * on the threads of `./pool.ts` (the threaded build, with helpers), the input's part of a step's
 * gates included, and the products over every row (the weight gradients) split their columns
 * (`./gemm.ts`).
 * The module also holds the fused scans of minGRU, minLSTM and IndRNN (`./scan.ts`) and tfjs's
 * Adam update (`./adam.ts`), which training runs after them.
 */
import { gemm, SPLIT_WORK } from './gemm';
import { job, overRows } from './pool';
import { actv, dactv, flushTiny } from './simd';

export { adam } from './adam';
export { heapBase } from './gemm';
export { serve, served, setParts } from './pool';
export { scanBackward, scanForward, scanPartials, scanScratch } from './scan';

/** Every row of `C[M, N]` set to `bias` (zeros where `bias` is 0). */
function fillRows(C: usize, bias: usize, M: i32, N: i32): void {
  const row = (<usize>N) << 2;
  for (let m = 0; m < M; m++) {
    if (bias) memory.copy(C + <usize>m * row, bias, row);
    else memory.fill(C + <usize>m * row, 0, row);
  }
}

/**
 * Rows `r0 .. r1 - 1` of step t of `Q` (`[T*B, G]`) set to `X W_x^T + b`: the input's part of
 * the step's gates, where the step's thread computes the rest (the sums as one product over the
 * whole sequence would make them).
 */
function inputPart(a: Steps, G: i32, t: i32, r0: i32, r1: i32, Q: usize): void {
  const rows = rowAt(Q, t * a.B + r0, G);
  fillRows(rows, a.b, r1 - r0, G);
  gemm(r1 - r0, G, a.Ip, rowAt(a.X, t * a.B + r0, a.Ip), a.Ip, 1, a.WxT, G, rows, G);
}

/**
 * What every backward starts with: `Wx` = `W_x^T` transposed (`[G, Ip]`), `Wh` = `W_h^T`
 * transposed (`[F, Up]`), `dh` = 0 (`[B, Up]`).
 */
function backwardSetUp(
  Wx: usize,
  WxT: usize,
  Wh: usize,
  WhT: usize,
  dh: usize,
  B: i32,
  Ip: i32,
  Up: i32,
  G: i32,
  F: i32,
): void {
  transpose(Wx, WxT, Ip, G);
  transpose(Wh, WhT, Up, F);
  memory.fill(dh, 0, (<usize>B * <usize>Up) << 2);
}

/** `out[N] = Σ_m A[m, :]` over the first N columns of `A` (row stride `lda`). */
function columnSums(out: usize, A: usize, M: i32, N: i32, lda: i32): void {
  memory.fill(out, 0, (<usize>N) << 2);
  for (let m = 0; m < M; m++) {
    const a = A + ((<usize>m * <usize>lda) << 2);
    for (let n = 0; n < N; n += 4) {
      const o = out + ((<usize>n) << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(a + ((<usize>n) << 2))));
    }
  }
}

/** `out[C, R] = A[R, C]^T`. */
function transpose(out: usize, A: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++)
      store<f32>(out + ((<usize>c * <usize>R + <usize>r) << 2), load<f32>(A + ((<usize>r * <usize>C + <usize>c) << 2)));
  }
}

/** `h_{t-1}` of step t: `h0` at t = 0, else step t-1's rows of `H`. */
function prevH(H: usize, h0: usize, t: i32, B: i32, Up: i32): usize {
  return t == 0 ? h0 : H + ((<usize>(t - 1) * <usize>B * <usize>Up) << 2);
}

/** Byte offset of row `r` of a matrix with `cols` columns. */
function rowAt(base: usize, r: i32, cols: i32): usize {
  return base + ((<usize>r * <usize>cols) << 2);
}

/** Whether row r of step t is a real step: there is no mask (`K` is 0) or its entry of `K` (`[T*B]`) is not 0. */
function isReal(K: usize, t: i32, B: i32, r: i32): bool {
  return K == 0 || load<f32>(K + ((<usize>(t * B + r)) << 2)) != 0;
}

/**
 * At the padded rows `r0 .. r1 - 1` of step t, the state before the step carried forward: `next`
 * row = `prev` row (`next`, `prev`: the step's first rows).
 */
function carryPadding(K: usize, t: i32, B: i32, Up: i32, r0: i32, r1: i32, next: usize, prev: usize): void {
  if (K == 0) return;
  const u = (<usize>Up) << 2;
  for (let r = r0; r < r1; r++) if (!isReal(K, t, B, r)) memory.copy(next + <usize>r * u, prev + <usize>r * u, u);
}

/**
 * The weight gradients of a sequence and `dL/dX`, from `dXP = dL/d(X W_x^T + b)` (`[T*B, G*Up]`)
 * and `dHP = dL/d(h_{t-1} W_h^T + b_h)` of the recurrent gates (`[T*B, F*Up]`):
 * `dW_x^T = X^T dXP`, `db = Σ dXP`, `dW_h^T = H_prev^T dHP`, `db_h = Σ dHP` (where `dbh` is not 0),
 * `dX = dXP W_x` (`Wx = (W_x^T)^T`, `[G*Up, Ip]`).
 */
function weightGradients(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  G: i32,
  F: i32,
  X: usize,
  h0: usize,
  H: usize,
  dXP: usize,
  dHP: usize,
  Wx: usize,
  dX: usize,
  dWxT: usize,
  db: usize,
  dWhT: usize,
  dbh: usize,
): void {
  const n = T * B;
  memory.fill(dWxT, 0, (<usize>Ip * <usize>G * <usize>Up) << 2);
  gemm(Ip, G * Up, n, X, 1, Ip, dXP, G * Up, dWxT, G * Up);
  if (db) columnSums(db, dXP, n, G * Up, G * Up);
  memory.fill(dWhT, 0, (<usize>Up * <usize>F * <usize>Up) << 2);
  gemm(Up, F * Up, B, h0, 1, Up, dHP, F * Up, dWhT, F * Up);
  if (T > 1) gemm(Up, F * Up, n - B, H, 1, Up, rowAt(dHP, B, F * Up), F * Up, dWhT, F * Up);
  if (dbh) columnSums(dbh, dHP, n, F * Up, F * Up);
  memory.fill(dX, 0, (<usize>n * <usize>Ip) << 2);
  gemm(n, Ip, G * Up, dXP, G * Up, 1, Wx, Ip, dX, Ip);
}

/**
 * What a kernel's loop over time reads, for the threads that share it ({@link overRows}): the
 * sizes, the activations, and the arrays by their names in the kernels (0 where a kernel has none).
 */
@unmanaged
class Steps {
  T: i32;
  B: i32;
  Ip: i32;
  Up: i32;
  act: i32;
  rec: i32;
  resetAfter: i32;
  K: usize;
  X: usize;
  WxT: usize;
  b: usize;
  Wh: usize;
  Wnh: usize;
  bh: usize;
  h0: usize;
  c0: usize;
  Q: usize;
  Cs: usize;
  TC: usize;
  Us: usize;
  H: usize;
  HP: usize;
  dY: usize;
  dQ: usize;
  dHP: usize;
  dU: usize;
  dh: usize;
  dc: usize;
}

/** A kernel's {@link Steps}, its sizes, activations and mask set, its arrays 0. */
function steps(T: i32, B: i32, Up: i32, act: i32, rec: i32, K: usize): Steps {
  const a = changetype<Steps>(job());
  memory.fill(job(), 0, offsetof<Steps>());
  a.T = T;
  a.B = B;
  a.Up = Up;
  a.act = act;
  a.rec = rec;
  a.K = K;
  return a;
}

/** A forward's input and its weights in its {@link Steps}. */
function input(a: Steps, Ip: i32, X: usize, WxT: usize, b: usize): void {
  a.Ip = Ip;
  a.X = X;
  a.WxT = WxT;
  a.b = b;
}

/** The loop over time of a kernel with `F` recurrent gates, over its rows: split over threads when long. */
function loop(a: Steps, F: i32, rows: (r0: i32, r1: i32) => void): void {
  overRows(a.B, <f64>a.T * <f64>a.B * <f64>a.Up * <f64>(F * a.Up), SPLIT_WORK, rows);
}

/** The {@link Steps} of the kernel running. */
function running(): Steps {
  return changetype<Steps>(job());
}

// ---- Elman: h_t = f(W_hx x_t + W_hh h_{t-1} + b_h) --------------------------------------------

/** Forward: `H` (`[T*B, Up]`) gets every h_t. */
export function elmanForward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  X: usize,
  WxT: usize,
  b: usize,
  WhT: usize,
  h0: usize,
  K: usize,
  H: usize,
): void {
  const a = steps(T, B, Up, act, 0, K);
  input(a, Ip, X, WxT, b);
  a.Wh = WhT;
  a.h0 = h0;
  a.H = H;
  loop(a, 1, elmanForwardRows);
}

/** {@link elmanForward}'s steps for the rows `r0 .. r1 - 1` of the batch. */
function elmanForwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    K = a.K,
    WhT = a.Wh,
    h0 = a.h0,
    H = a.H;
  const u = (<usize>Up) << 2;
  for (let t = 0; t < T; t++) {
    const step = rowAt(H, t * B, Up);
    const q = rowAt(step, r0, Up);
    inputPart(a, Up, t, r0, r1, H);
    gemm(r1 - r0, Up, Up, rowAt(prevH(H, h0, t, B, Up), r0, Up), Up, 1, WhT, Up, q, Up);
    for (let i: usize = 0; i < <usize>(r1 - r0) * u; i += 16)
      v128.store(q + i, inline.always(actv(act, v128.load(q + i))));
    carryPadding(K, t, B, Up, r0, r1, step, prevH(H, h0, t, B, Up));
  }
}

/**
 * Backward from `dY = dL/dH` (`[T*B, Up]`): every gradient. `Wx`, `Wh` (`[Up, Ip]`, `[Up, Up]`),
 * `dA` (`[T*B, Up]`) are scratch; `dh` gets `dL/dh_0`.
 */
export function elmanBackward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  X: usize,
  WxT: usize,
  WhT: usize,
  h0: usize,
  H: usize,
  dY: usize,
  K: usize,
  Wx: usize,
  Wh: usize,
  dA: usize,
  dX: usize,
  dWxT: usize,
  db: usize,
  dWhT: usize,
  dh: usize,
): void {
  backwardSetUp(Wx, WxT, Wh, WhT, dh, B, Ip, Up, Up, Up);
  const a = steps(T, B, Up, act, 0, K);
  a.Wh = Wh;
  a.H = H;
  a.dY = dY;
  a.dQ = dA;
  a.dh = dh;
  loop(a, 1, elmanBackwardRows);
  weightGradients(T, B, Ip, Up, 1, 1, X, h0, H, dA, dA, Wx, dX, dWxT, db, dWhT, 0);
}

/** {@link elmanBackward}'s steps back for the rows `r0 .. r1 - 1` of the batch. */
function elmanBackwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    K = a.K,
    Wh = a.Wh,
    H = a.H,
    dY = a.dY,
    dA = a.dQ,
    dh = a.dh;
  const u = (<usize>Up) << 2;
  const rowBytes = <usize>B * u;
  const zero = f32x4.splat(0);
  const R = r1 - r0;
  for (let t = T - 1; t >= 0; t--) {
    const off = <usize>t * rowBytes;
    for (let r = r0; r < r1; r++) {
      // A padded row passes the gradient it receives to the state before it, untouched.
      const real = isReal(K, t, B, r);
      for (let i = <usize>r * u; i < <usize>(r + 1) * u; i += 16) {
        const g = f32x4.add(v128.load(dY + off + i), v128.load(dh + i));
        v128.store(dA + off + i, real ? f32x4.mul(g, dactv(act, v128.load(H + off + i))) : zero);
        v128.store(dh + i, real ? zero : g);
      }
    }
    const dAt = rowAt(dA, t * B + r0, Up);
    flushTiny(dAt, R * Up);
    gemm(R, Up, Up, dAt, Up, 1, Wh, Up, rowAt(dh, r0, Up), Up);
    flushTiny(rowAt(dh, r0, Up), R * Up);
  }
}

// ---- LSTM ---------------------------------------------------------------------------------------

/**
 * Forward: `Q` (`[T*B, 4Up]`) gets the gates i, f, g, o of every step, `Cs` every c_t, `TC` every
 * tanh(c_t) (the activation of c_t), `H` every h_t.
 */
export function lstmForward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  rec: i32,
  X: usize,
  WxT: usize,
  b: usize,
  WhT: usize,
  h0: usize,
  c0: usize,
  K: usize,
  Q: usize,
  Cs: usize,
  TC: usize,
  H: usize,
): void {
  const a = steps(T, B, Up, act, rec, K);
  input(a, Ip, X, WxT, b);
  a.Wh = WhT;
  a.h0 = h0;
  a.c0 = c0;
  a.Q = Q;
  a.Cs = Cs;
  a.TC = TC;
  a.H = H;
  loop(a, 4, lstmForwardRows);
}

/** {@link lstmForward}'s steps for the rows `r0 .. r1 - 1` of the batch. */
function lstmForwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    rec = a.rec,
    K = a.K,
    WhT = a.Wh;
  const h0 = a.h0,
    c0 = a.c0,
    Q = a.Q,
    Cs = a.Cs,
    TC = a.TC,
    H = a.H;
  const G = 4 * Up;
  const u = (<usize>Up) << 2;
  for (let t = 0; t < T; t++) {
    const q0 = rowAt(Q, t * B, G);
    inputPart(a, G, t, r0, r1, Q);
    gemm(r1 - r0, G, Up, rowAt(prevH(H, h0, t, B, Up), r0, Up), Up, 1, WhT, G, rowAt(q0, r0, G), G);
    const cPrev = t == 0 ? c0 : rowAt(Cs, (t - 1) * B, Up);
    for (let r = r0; r < r1; r++) {
      const q = q0 + <usize>r * 4 * u;
      const s = <usize>(t * B + r) * u;
      const p = <usize>r * u;
      for (let j: usize = 0; j < u; j += 16) {
        const i = inline.always(actv(rec, v128.load(q + j)));
        const f = inline.always(actv(rec, v128.load(q + u + j)));
        const g = inline.always(actv(act, v128.load(q + 2 * u + j)));
        const o = inline.always(actv(rec, v128.load(q + 3 * u + j)));
        const c = f32x4.add(f32x4.mul(f, v128.load(cPrev + p + j)), f32x4.mul(i, g));
        const tc = inline.always(actv(act, c));
        v128.store(q + j, i);
        v128.store(q + u + j, f);
        v128.store(q + 2 * u + j, g);
        v128.store(q + 3 * u + j, o);
        v128.store(Cs + s + j, c);
        v128.store(TC + s + j, tc);
        v128.store(H + s + j, f32x4.mul(o, tc));
      }
    }
    carryPadding(K, t, B, Up, r0, r1, rowAt(H, t * B, Up), prevH(H, h0, t, B, Up));
    carryPadding(K, t, B, Up, r0, r1, rowAt(Cs, t * B, Up), cPrev);
  }
}

/**
 * Backward from `dY = dL/d[c_T, h_1..h_T]` (`[(T+1)*B, Up]`): every gradient. `Wx`, `Wh`
 * (`[4Up, Ip]`, `[4Up, Up]`) and `dQ` (`[T*B, 4Up]`) are scratch; `dh`, `dc` get `dL/dh_0`, `dL/dc_0`.
 */
export function lstmBackward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  rec: i32,
  X: usize,
  WxT: usize,
  WhT: usize,
  h0: usize,
  c0: usize,
  Q: usize,
  Cs: usize,
  TC: usize,
  H: usize,
  dY: usize,
  K: usize,
  Wx: usize,
  Wh: usize,
  dQ: usize,
  dX: usize,
  dWxT: usize,
  db: usize,
  dWhT: usize,
  dh: usize,
  dc: usize,
): void {
  backwardSetUp(Wx, WxT, Wh, WhT, dh, B, Ip, Up, 4 * Up, 4 * Up);
  memory.copy(dc, dY, (<usize>B * <usize>Up) << 2);
  const a = steps(T, B, Up, act, rec, K);
  a.Wh = Wh;
  a.c0 = c0;
  a.Q = Q;
  a.Cs = Cs;
  a.TC = TC;
  a.dY = dY;
  a.dQ = dQ;
  a.dh = dh;
  a.dc = dc;
  loop(a, 4, lstmBackwardRows);
  weightGradients(T, B, Ip, Up, 4, 4, X, h0, H, dQ, dQ, Wx, dX, dWxT, db, dWhT, 0);
}

/** {@link lstmBackward}'s steps back for the rows `r0 .. r1 - 1` of the batch. */
function lstmBackwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    rec = a.rec,
    K = a.K,
    Wh = a.Wh,
    c0 = a.c0;
  const Q = a.Q,
    Cs = a.Cs,
    TC = a.TC,
    dY = a.dY,
    dQ = a.dQ,
    dh = a.dh,
    dc = a.dc;
  const G = 4 * Up;
  const R = r1 - r0;
  const u = (<usize>Up) << 2;
  const rowBytes = <usize>B * u;
  for (let t = T - 1; t >= 0; t--) {
    const q0 = rowAt(Q, t * B, G);
    const d0 = rowAt(dQ, t * B, G);
    const cPrev = t == 0 ? c0 : rowAt(Cs, (t - 1) * B, Up);
    for (let r = r0; r < r1; r++) {
      const q = q0 + <usize>r * 4 * u;
      const d = d0 + <usize>r * 4 * u;
      const s = <usize>(t * B + r) * u;
      const p = <usize>r * u;
      if (!isReal(K, t, B, r)) {
        // A padded row: no gates; dL/dh and dL/dc pass to the state before it.
        memory.fill(d, 0, 4 * u);
        for (let j: usize = 0; j < u; j += 16) {
          v128.store(dh + p + j, f32x4.add(v128.load(dY + rowBytes + s + j), v128.load(dh + p + j)));
        }
        continue;
      }
      for (let j: usize = 0; j < u; j += 16) {
        const i = v128.load(q + j);
        const f = v128.load(q + u + j);
        const g = v128.load(q + 2 * u + j);
        const o = v128.load(q + 3 * u + j);
        const tc = v128.load(TC + s + j);
        const gh = f32x4.add(v128.load(dY + rowBytes + s + j), v128.load(dh + p + j));
        const gc = f32x4.add(v128.load(dc + p + j), f32x4.mul(gh, f32x4.mul(o, dactv(act, tc))));
        v128.store(d + j, f32x4.mul(gc, f32x4.mul(g, dactv(rec, i))));
        v128.store(d + u + j, f32x4.mul(gc, f32x4.mul(v128.load(cPrev + p + j), dactv(rec, f))));
        v128.store(d + 2 * u + j, f32x4.mul(gc, f32x4.mul(i, dactv(act, g))));
        v128.store(d + 3 * u + j, f32x4.mul(gh, f32x4.mul(tc, dactv(rec, o))));
        v128.store(dc + p + j, f32x4.mul(gc, f));
        v128.store(dh + p + j, f32x4.splat(0));
      }
    }
    flushTiny(rowAt(d0, r0, G), R * G);
    gemm(R, Up, G, rowAt(d0, r0, G), G, 1, Wh, Up, rowAt(dh, r0, Up), Up);
    flushTiny(rowAt(dh, r0, Up), R * Up);
    flushTiny(rowAt(dc, r0, Up), R * Up);
  }
}

// ---- GRU ----------------------------------------------------------------------------------------

/**
 * Forward: `Q` (`[T*B, 3Up]`) gets z, r, n of every step, `Us` every u_t (the recurrent half of n_t:
 * `W_nh h_{t-1} + b_nh` with `resetAfter`, else `r_t ⊙ h_{t-1}`), `H` every h_t. With `resetAfter`
 * `WhT` is `[Up, 3Up]`, `bh` its bias and `HP` (`[B, 3Up]`) scratch; otherwise `WhT` is `[Up, 2Up]`
 * (z, r) and `WnhT` (`[Up, Up]`) multiplies u_t.
 */
export function gruForward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  rec: i32,
  resetAfter: i32,
  X: usize,
  WxT: usize,
  b: usize,
  WhT: usize,
  bh: usize,
  WnhT: usize,
  h0: usize,
  K: usize,
  Q: usize,
  Us: usize,
  H: usize,
  HP: usize,
): void {
  const a = steps(T, B, Up, act, rec, K);
  input(a, Ip, X, WxT, b);
  a.resetAfter = resetAfter;
  a.Wh = WhT;
  a.bh = bh;
  a.Wnh = WnhT;
  a.h0 = h0;
  a.Q = Q;
  a.Us = Us;
  a.H = H;
  a.HP = HP;
  loop(a, 3, gruForwardRows);
}

/** {@link gruForward}'s steps for the rows `r0 .. r1 - 1` of the batch. */
function gruForwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    rec = a.rec,
    resetAfter = a.resetAfter,
    K = a.K;
  const WhT = a.Wh,
    bh = a.bh,
    WnhT = a.Wnh,
    h0 = a.h0,
    Q = a.Q,
    Us = a.Us,
    H = a.H,
    HP = a.HP;
  const G = 3 * Up;
  const R = r1 - r0;
  const u = (<usize>Up) << 2;
  for (let t = 0; t < T; t++) {
    const q0 = rowAt(Q, t * B, G);
    const hPrev = prevH(H, h0, t, B, Up);
    inputPart(a, G, t, r0, r1, Q);
    if (resetAfter) {
      fillRows(rowAt(HP, r0, G), bh, R, G);
      gemm(R, G, Up, rowAt(hPrev, r0, Up), Up, 1, WhT, G, rowAt(HP, r0, G), G);
    } else {
      gemm(R, 2 * Up, Up, rowAt(hPrev, r0, Up), Up, 1, WhT, 2 * Up, rowAt(q0, r0, G), G);
    }
    for (let r = r0; r < r1; r++) {
      const q = q0 + <usize>r * 3 * u;
      const hp = HP + <usize>r * 3 * u;
      const s = <usize>(t * B + r) * u;
      const p = <usize>r * u;
      for (let j: usize = 0; j < u; j += 16) {
        let az = v128.load(q + j);
        let ar = v128.load(q + u + j);
        if (resetAfter) {
          az = f32x4.add(az, v128.load(hp + j));
          ar = f32x4.add(ar, v128.load(hp + u + j));
        }
        const z = inline.always(actv(rec, az));
        const rr = inline.always(actv(rec, ar));
        v128.store(q + j, z);
        v128.store(q + u + j, rr);
        const us = resetAfter ? v128.load(hp + 2 * u + j) : f32x4.mul(rr, v128.load(hPrev + p + j));
        v128.store(Us + s + j, us);
        if (resetAfter) {
          const n = inline.always(actv(act, f32x4.add(v128.load(q + 2 * u + j), f32x4.mul(rr, us))));
          v128.store(q + 2 * u + j, n);
          v128.store(H + s + j, f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(hPrev + p + j), n))));
        }
      }
    }
    if (!resetAfter) {
      gemm(R, Up, Up, rowAt(Us, t * B + r0, Up), Up, 1, WnhT, Up, rowAt(q0, r0, G) + 2 * u, G);
      for (let r = r0; r < r1; r++) {
        const q = q0 + <usize>r * 3 * u;
        const s = <usize>(t * B + r) * u;
        const p = <usize>r * u;
        for (let j: usize = 0; j < u; j += 16) {
          const z = v128.load(q + j);
          const n = inline.always(actv(act, v128.load(q + 2 * u + j)));
          v128.store(q + 2 * u + j, n);
          v128.store(H + s + j, f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(hPrev + p + j), n))));
        }
      }
    }
    carryPadding(K, t, B, Up, r0, r1, rowAt(H, t * B, Up), hPrev);
  }
}

/**
 * Backward from `dY = dL/dH` (`[T*B, Up]`): every gradient. `Wx` (`[3Up, Ip]`), `Wh` (`WhT`
 * transposed), `Wnh` (`[Up, Up]`, without `resetAfter`), `dXP` (`[T*B, 3Up]`), `dHP` (`[T*B, F*Up]`)
 * and `dU` (`[B, Up]`) are scratch; `dbh` gets `dL/db_h` (with `resetAfter`), `dWnhT` `dL/dW_nh^T`
 * (without), `dh` gets `dL/dh_0`.
 */
export function gruBackward(
  T: i32,
  B: i32,
  Ip: i32,
  Up: i32,
  act: i32,
  rec: i32,
  resetAfter: i32,
  X: usize,
  WxT: usize,
  WhT: usize,
  WnhT: usize,
  h0: usize,
  Q: usize,
  Us: usize,
  H: usize,
  dY: usize,
  K: usize,
  Wx: usize,
  Wh: usize,
  Wnh: usize,
  dXP: usize,
  dHP: usize,
  dU: usize,
  dX: usize,
  dWxT: usize,
  db: usize,
  dWhT: usize,
  dbh: usize,
  dWnhT: usize,
  dh: usize,
): void {
  const G = 3 * Up;
  const F = resetAfter ? 3 * Up : 2 * Up;
  backwardSetUp(Wx, WxT, Wh, WhT, dh, B, Ip, Up, G, F);
  if (!resetAfter) transpose(Wnh, WnhT, Up, Up);
  const a = steps(T, B, Up, act, rec, K);
  a.resetAfter = resetAfter;
  a.Wh = Wh;
  a.Wnh = Wnh;
  a.h0 = h0;
  a.Q = Q;
  a.Us = Us;
  a.H = H;
  a.dY = dY;
  a.dQ = dXP;
  a.dHP = dHP;
  a.dU = dU;
  a.dh = dh;
  loop(a, 3, gruBackwardRows);
  weightGradients(T, B, Ip, Up, 3, F / Up, X, h0, H, dXP, dHP, Wx, dX, dWxT, db, dWhT, dbh);
  if (!resetAfter) {
    // dW_nh^T = Σ_t u_t^T ā_n
    memory.fill(dWnhT, 0, (<usize>Up * <usize>Up) << 2);
    gemm(Up, Up, T * B, Us, 1, Up, dXP + 2 * ((<usize>Up) << 2), G, dWnhT, Up);
  }
}

/** {@link gruBackward}'s steps back for the rows `r0 .. r1 - 1` of the batch. */
function gruBackwardRows(r0: i32, r1: i32): void {
  const a = running();
  const T = a.T,
    B = a.B,
    Up = a.Up,
    act = a.act,
    rec = a.rec,
    resetAfter = a.resetAfter,
    K = a.K;
  const Wh = a.Wh,
    Wnh = a.Wnh,
    h0 = a.h0,
    Q = a.Q,
    Us = a.Us,
    H = a.H,
    dY = a.dY;
  const dXP = a.dQ,
    dHP = a.dHP,
    dU = a.dU,
    dh = a.dh;
  const G = 3 * Up;
  const F = resetAfter ? 3 * Up : 2 * Up;
  const R = r1 - r0;
  const u = (<usize>Up) << 2;
  for (let t = T - 1; t >= 0; t--) {
    const q0 = rowAt(Q, t * B, G);
    const x0 = rowAt(dXP, t * B, G);
    const h0p = rowAt(dHP, t * B, F);
    const hPrev = prevH(H, h0, t, B, Up);
    for (let r = r0; r < r1; r++) {
      const q = q0 + <usize>r * 3 * u;
      const dx = x0 + <usize>r * 3 * u;
      const dp = h0p + <usize>r * <usize>F * 4;
      const s = <usize>(t * B + r) * u;
      const p = <usize>r * u;
      if (!isReal(K, t, B, r)) {
        // A padded row: no gates; dL/dh passes to the state before it.
        memory.fill(dx, 0, 3 * u);
        memory.fill(dp, 0, <usize>F * 4);
        for (let j: usize = 0; j < u; j += 16) {
          v128.store(dh + p + j, f32x4.add(v128.load(dY + s + j), v128.load(dh + p + j)));
        }
        continue;
      }
      for (let j: usize = 0; j < u; j += 16) {
        const z = v128.load(q + j);
        const n = v128.load(q + 2 * u + j);
        const hp = v128.load(hPrev + p + j);
        const gh = f32x4.add(v128.load(dY + s + j), v128.load(dh + p + j));
        const an = f32x4.mul(gh, f32x4.mul(f32x4.sub(f32x4.splat(1.0), z), dactv(act, n)));
        const az = f32x4.mul(gh, f32x4.mul(f32x4.sub(hp, n), dactv(rec, z)));
        v128.store(dx + j, az);
        v128.store(dx + 2 * u + j, an);
        v128.store(dp + j, az);
        v128.store(dh + p + j, f32x4.mul(gh, z));
        if (resetAfter) {
          const rr = v128.load(q + u + j);
          const ar = f32x4.mul(an, f32x4.mul(v128.load(Us + s + j), dactv(rec, rr)));
          v128.store(dx + u + j, ar);
          v128.store(dp + u + j, ar);
          v128.store(dp + 2 * u + j, f32x4.mul(an, rr));
        }
      }
    }
    if (!resetAfter) {
      // ū_t = ā_n W_nh; ā_r = ū_t ⊙ h_{t-1} ⊙ σ'(r_t); h̄_{t-1} += ū_t ⊙ r_t
      memory.fill(rowAt(dU, r0, Up), 0, <usize>R * u);
      gemm(R, Up, Up, rowAt(x0, r0, G) + 2 * u, G, 1, Wnh, Up, rowAt(dU, r0, Up), Up);
      for (let r = r0; r < r1; r++) {
        const q = q0 + <usize>r * 3 * u;
        const dx = x0 + <usize>r * 3 * u;
        const dp = h0p + <usize>r * <usize>F * 4;
        const p = <usize>r * u;
        for (let j: usize = 0; j < u; j += 16) {
          const rr = v128.load(q + u + j);
          const du = v128.load(dU + p + j);
          const ar = f32x4.mul(du, f32x4.mul(v128.load(hPrev + p + j), dactv(rec, rr)));
          v128.store(dx + u + j, ar);
          v128.store(dp + u + j, ar);
          v128.store(dh + p + j, f32x4.add(v128.load(dh + p + j), f32x4.mul(du, rr)));
        }
      }
    }
    flushTiny(rowAt(x0, r0, G), R * G);
    flushTiny(rowAt(h0p, r0, F), R * F);
    gemm(R, Up, F, rowAt(h0p, r0, F), F, 1, Wh, Up, rowAt(dh, r0, Up), Up);
    flushTiny(rowAt(dh, r0, Up), R * Up);
  }
}
