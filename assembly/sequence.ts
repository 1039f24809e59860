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
 */
import { actv, dactv, flushTiny, gemm } from './simd';

/** Where the caller's arrays may start: past this module's own data. */
export function heapBase(): usize {
  return __heap_base;
}

/** Every row of `C[M, N]` set to `bias` (zeros where `bias` is 0). */
function fillRows(C: usize, bias: usize, M: i32, N: i32): void {
  const row = (<usize>N) << 2;
  for (let m = 0; m < M; m++) {
    if (bias) memory.copy(C + <usize>m * row, bias, row);
    else memory.fill(C + <usize>m * row, 0, row);
  }
}

/** `Q[T*B, G] = X W_x^T + b`: the input's part of every step's gates, for the whole sequence at once. */
function inputProjection(Q: usize, X: usize, WxT: usize, b: usize, n: i32, Ip: i32, G: i32): void {
  fillRows(Q, b, n, G);
  gemm(n, G, Ip, X, Ip, 1, WxT, G, Q, G);
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

/** At the padded rows of step t, the state before the step carried forward: `next` row = `prev` row. */
function carryPadding(K: usize, t: i32, B: i32, Up: i32, next: usize, prev: usize): void {
  if (K == 0) return;
  const u = (<usize>Up) << 2;
  for (let r = 0; r < B; r++) if (!isReal(K, t, B, r)) memory.copy(next + <usize>r * u, prev + <usize>r * u, u);
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
  inputProjection(H, X, WxT, b, T * B, Ip, Up);
  for (let t = 0; t < T; t++) {
    const q = rowAt(H, t * B, Up);
    gemm(B, Up, Up, prevH(H, h0, t, B, Up), Up, 1, WhT, Up, q, Up);
    for (let i: usize = 0; i < (<usize>B * <usize>Up) << 2; i += 16)
      v128.store(q + i, inline.always(actv(act, v128.load(q + i))));
    carryPadding(K, t, B, Up, q, prevH(H, h0, t, B, Up));
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
  const u = (<usize>Up) << 2;
  const rowBytes = <usize>B * u;
  const zero = f32x4.splat(0);
  for (let t = T - 1; t >= 0; t--) {
    const off = <usize>t * rowBytes;
    for (let r = 0; r < B; r++) {
      // A padded row passes the gradient it receives to the state before it, untouched.
      const real = isReal(K, t, B, r);
      for (let i = <usize>r * u; i < <usize>(r + 1) * u; i += 16) {
        const g = f32x4.add(v128.load(dY + off + i), v128.load(dh + i));
        v128.store(dA + off + i, real ? f32x4.mul(g, dactv(act, v128.load(H + off + i))) : zero);
        v128.store(dh + i, real ? zero : g);
      }
    }
    flushTiny(dA + off, B * Up);
    gemm(B, Up, Up, dA + off, Up, 1, Wh, Up, dh, Up);
    flushTiny(dh, B * Up);
  }
  weightGradients(T, B, Ip, Up, 1, 1, X, h0, H, dA, dA, Wx, dX, dWxT, db, dWhT, 0);
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
  const G = 4 * Up;
  inputProjection(Q, X, WxT, b, T * B, Ip, G);
  const u = (<usize>Up) << 2;
  for (let t = 0; t < T; t++) {
    const q0 = rowAt(Q, t * B, G);
    gemm(B, G, Up, prevH(H, h0, t, B, Up), Up, 1, WhT, G, q0, G);
    const cPrev = t == 0 ? c0 : rowAt(Cs, (t - 1) * B, Up);
    for (let r = 0; r < B; r++) {
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
    carryPadding(K, t, B, Up, rowAt(H, t * B, Up), prevH(H, h0, t, B, Up));
    carryPadding(K, t, B, Up, rowAt(Cs, t * B, Up), cPrev);
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
  const G = 4 * Up;
  backwardSetUp(Wx, WxT, Wh, WhT, dh, B, Ip, Up, G, G);
  const u = (<usize>Up) << 2;
  const rowBytes = <usize>B * u;
  memory.copy(dc, dY, rowBytes);
  for (let t = T - 1; t >= 0; t--) {
    const q0 = rowAt(Q, t * B, G);
    const d0 = rowAt(dQ, t * B, G);
    const cPrev = t == 0 ? c0 : rowAt(Cs, (t - 1) * B, Up);
    for (let r = 0; r < B; r++) {
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
    flushTiny(d0, B * G);
    gemm(B, Up, G, d0, G, 1, Wh, Up, dh, Up);
    flushTiny(dh, B * Up);
    flushTiny(dc, B * Up);
  }
  weightGradients(T, B, Ip, Up, 4, 4, X, h0, H, dQ, dQ, Wx, dX, dWxT, db, dWhT, 0);
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
  const G = 3 * Up;
  inputProjection(Q, X, WxT, b, T * B, Ip, G);
  const u = (<usize>Up) << 2;
  for (let t = 0; t < T; t++) {
    const q0 = rowAt(Q, t * B, G);
    const hPrev = prevH(H, h0, t, B, Up);
    if (resetAfter) {
      fillRows(HP, bh, B, G);
      gemm(B, G, Up, hPrev, Up, 1, WhT, G, HP, G);
    } else {
      gemm(B, 2 * Up, Up, hPrev, Up, 1, WhT, 2 * Up, q0, G);
    }
    for (let r = 0; r < B; r++) {
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
      gemm(B, Up, Up, rowAt(Us, t * B, Up), Up, 1, WnhT, Up, q0 + 2 * u, G);
      for (let r = 0; r < B; r++) {
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
    carryPadding(K, t, B, Up, rowAt(H, t * B, Up), hPrev);
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
  const u = (<usize>Up) << 2;
  const rowBytes = <usize>B * u;
  for (let t = T - 1; t >= 0; t--) {
    const q0 = rowAt(Q, t * B, G);
    const x0 = rowAt(dXP, t * B, G);
    const h0p = rowAt(dHP, t * B, F);
    const hPrev = prevH(H, h0, t, B, Up);
    for (let r = 0; r < B; r++) {
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
      memory.fill(dU, 0, rowBytes);
      gemm(B, Up, Up, x0 + 2 * u, G, 1, Wnh, Up, dU, Up);
      for (let r = 0; r < B; r++) {
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
    flushTiny(x0, B * G);
    flushTiny(h0p, B * F);
    gemm(B, Up, F, h0p, F, 1, Wh, Up, dh, Up);
    flushTiny(dh, B * Up);
  }
  weightGradients(T, B, Ip, Up, 3, F / Up, X, h0, H, dXP, dHP, Wx, dX, dWxT, db, dWhT, dbh);
  if (!resetAfter) {
    // dW_nh^T = Σ_t u_t^T ā_n
    memory.fill(dWnhT, 0, (<usize>Up * <usize>Up) << 2);
    gemm(Up, Up, T * B, Us, 1, Up, dXP + 2 * u, G, dWnhT, Up);
  }
}
