/**
 * SIMD arithmetic the whole-sequence kernels (`./sequence.ts`) and the fused scans (`./scan.ts`)
 * build on: e^x, σ and the activations on four lanes, and the blocked matrix product.
 */

// ---- elementwise ----------------------------------------------------------------------------

const LOG2E: f32 = 1.44269504;
// ln 2 in two parts (the first exact in a few bits), so that n ln 2 is exact for the n used here.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;

/** 1.5 · 2^23: `y + ROUND` holds round(y) in its low mantissa bits, for |y| < 2^22 (ties to even). */
const ROUND: f32 = 12582912.0;

/**
 * e^x on four lanes: x = n ln 2 + r with |r| ≤ ln2/2, e^r by its Taylor polynomial of degree 6.
 * The clamps are `pmin`/`pmax`, and n is rounded and 2^n built through {@link ROUND}: on x86 those
 * are single instructions, where `min`, `max`, `nearest` and a saturating conversion to integers
 * are sequences (σ over `[1600, 512]`: 2.5 ms before, 1.6 ms after, plain SIMD build).
 */
export function expv(x: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const shifted = f32x4.add(f32x4.mul(v, f32x4.splat(LOG2E)), f32x4.splat(ROUND));
  const n = f32x4.sub(shifted, f32x4.splat(ROUND));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.0 / 720.0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  // The bits of `shifted` are those of ROUND plus n: less ROUND's, plus the exponent bias, is n + 127.
  const twoToN = i32x4.shl(i32x4.add(shifted, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(p, twoToN);
}

/** σ(x) = 1 / (1 + e^{-x}) */
export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** The activations by code: 0 tanh, 1 sigmoid, 2 linear, 3 ReLU. */
export const TANH = 0;
export const SIGMOID = 1;
export const LINEAR = 2;
export const RELU = 3;

/** The activation `code` on four lanes; tanh(x) = 2 σ(2x) - 1. */
export function actv(code: i32, x: v128): v128 {
  if (code == TANH) return f32x4.sub(f32x4.mul(f32x4.splat(2.0), sigmoidv(f32x4.add(x, x))), f32x4.splat(1.0));
  if (code == SIGMOID) return sigmoidv(x);
  if (code == LINEAR) return x;
  return f32x4.pmax(x, f32x4.splat(0.0));
}

/** The derivative of the activation `code` through its output y: 1 - y², y (1 - y), 1, [y > 0]. */
export function dactv(code: i32, y: v128): v128 {
  const one = f32x4.splat(1.0);
  if (code == TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (code == SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  if (code == LINEAR) return one;
  return v128.and(f32x4.gt(y, f32x4.splat(0.0)), one);
}

/** Gradients smaller than this are dropped by {@link flushTiny}. */
const TINY: f32 = 1e-30;

/**
 * Sets every entry of `x[0 .. n)` (n a multiple of 4) smaller than 1e-30 in magnitude to zero.
 * WebAssembly keeps IEEE gradual underflow, and on x86 arithmetic that reads or makes subnormals
 * (below 1.2e-38) is tens of times slower: a gradient carried back through hundreds of steps
 * decays through them, and products of tiny gradients with the weights make more. An LSTM's
 * backward at T = 1,000 (batch 32, 64 units) went from 0.2 s to 2.6 s a step as training
 * saturated its gates; flushing the carried gradients and each step's gate gradients below
 * 1e-30 keeps it at 0.2 s. Such a gradient is 27 orders of magnitude below the ones that move a
 * weight.
 */
export function flushTiny(x: usize, n: i32): void {
  const least = f32x4.splat(TINY);
  for (let at = x; at < x + ((<usize>n) << 2); at += 16) {
    const v = v128.load(at);
    v128.store(at, v128.and(v, f32x4.ge(f32x4.abs(v), least)));
  }
}

// ---- matrices -------------------------------------------------------------------------------

/**
 * `a b + c`: one fused multiply-add where the module is built with relaxed SIMD (the second build
 * of `npm run build:wasm`, used where the runtime has it), else a multiply and an add.
 */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Rows of `B` per panel in a long product (see {@link gemm}). */
const KC = 256;
/** Entries of `B` from which a product is long: larger than a core's share of cache (512 KiB). */
const BIG = 1 << 17;
/** One panel: up to KC rows of a 12-column (or narrower) strip of `B`, contiguous. */
const PANEL = memory.data(KC * 12 * 4, 16);

/**
 * `C[M, N] += A B` with `B: [K, N]` (row stride `ldb`), `C` (row stride `ldc`), `N` a multiple of 4,
 * and `A[m, k]` at `A + 4 (m sam + k sak)`, so that `A` may be read transposed. Blocks of 4 rows by
 * 12 columns (then 8, then 4; the rows left over one by one) keep their sums in registers; a column strip of `B` stays in cache
 * over the rows. A long product with a large `B` (the weight gradients, `K = T*B`) runs in slices of
 * KC steps of `k`, each strip of the slice copied into a contiguous panel first: the slice of `A`
 * stays in cache over the strips, and the panel's rows do not fall on the same cache sets as rows
 * of `B` a power of two apart do (this took the LSTM 128 backward's `H^T dA` from 9 to 28 GFLOP/s).
 */
export function gemm(
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  sam: i32,
  sak: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
): void {
  if (K <= KC || K * N < BIG) {
    strips(M, N, K, A, sam, sak, B, ldb, C, ldc, false);
    return;
  }
  const ak = (<usize>sak) << 2;
  const bk = (<usize>ldb) << 2;
  for (let k = 0; k < K; k += KC) {
    strips(M, N, min(KC, K - k), A + <usize>k * ak, sam, sak, B + <usize>k * bk, ldb, C, ldc, true);
  }
}

/** {@link gemm} strip by strip; with `pack`, each strip of `B` (K ≤ KC rows) copied to {@link PANEL} first. */
function strips(
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  sam: i32,
  sak: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  pack: bool,
): void {
  const am = (<usize>sam) << 2;
  const ak = (<usize>sak) << 2;
  const cm = (<usize>ldc) << 2;
  for (let n = 0; n < N;) {
    const w = n + 12 <= N ? 12 : n + 8 <= N ? 8 : 4;
    let b = B + ((<usize>n) << 2);
    let bk: usize = (<usize>ldb) << 2;
    if (pack) {
      const row = (<usize>w) << 2;
      for (let k = 0; k < K; k++) memory.copy(PANEL + <usize>k * row, b + <usize>k * bk, row);
      b = PANEL;
      bk = row;
    }
    const c = C + ((<usize>n) << 2);
    let m = 0;
    if (w == 12) {
      for (; m + 4 <= M; m += 4) block4x12(K, A + <usize>m * am, am, ak, b, bk, c + <usize>m * cm, cm);
      for (; m < M; m++) {
        block1x8(K, A + <usize>m * am, ak, b, bk, c + <usize>m * cm);
        block1x4(K, A + <usize>m * am, ak, b + 32, bk, c + <usize>m * cm + 32);
      }
    } else if (w == 8) {
      for (; m + 4 <= M; m += 4) block4x8(K, A + <usize>m * am, am, ak, b, bk, c + <usize>m * cm, cm);
      for (; m < M; m++) block1x8(K, A + <usize>m * am, ak, b, bk, c + <usize>m * cm);
    } else {
      for (; m + 4 <= M; m += 4) block4x4(K, A + <usize>m * am, am, ak, b, bk, c + <usize>m * cm, cm);
      for (; m < M; m++) block1x4(K, A + <usize>m * am, ak, b, bk, c + <usize>m * cm);
    }
    n += w;
  }
}

function block4x12(K: i32, a: usize, am: usize, ak: usize, b: usize, bk: usize, c: usize, cm: usize): void {
  let c00 = v128.load(c);
  let c01 = v128.load(c, 16);
  let c02 = v128.load(c, 32);
  let c10 = v128.load(c + cm);
  let c11 = v128.load(c + cm, 16);
  let c12 = v128.load(c + cm, 32);
  let c20 = v128.load(c + 2 * cm);
  let c21 = v128.load(c + 2 * cm, 16);
  let c22 = v128.load(c + 2 * cm, 32);
  let c30 = v128.load(c + 3 * cm);
  let c31 = v128.load(c + 3 * cm, 16);
  let c32 = v128.load(c + 3 * cm, 32);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(b, 32);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00);
    c01 = madd(s, b1, c01);
    c02 = madd(s, b2, c02);
    s = v128.load32_splat(a + am);
    c10 = madd(s, b0, c10);
    c11 = madd(s, b1, c11);
    c12 = madd(s, b2, c12);
    s = v128.load32_splat(a + 2 * am);
    c20 = madd(s, b0, c20);
    c21 = madd(s, b1, c21);
    c22 = madd(s, b2, c22);
    s = v128.load32_splat(a + 3 * am);
    c30 = madd(s, b0, c30);
    c31 = madd(s, b1, c31);
    c32 = madd(s, b2, c32);
    a += ak;
    b += bk;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  v128.store(c + cm, c10);
  v128.store(c + cm, c11, 16);
  v128.store(c + cm, c12, 32);
  v128.store(c + 2 * cm, c20);
  v128.store(c + 2 * cm, c21, 16);
  v128.store(c + 2 * cm, c22, 32);
  v128.store(c + 3 * cm, c30);
  v128.store(c + 3 * cm, c31, 16);
  v128.store(c + 3 * cm, c32, 32);
}

function block4x8(K: i32, a: usize, am: usize, ak: usize, b: usize, bk: usize, c: usize, cm: usize): void {
  let c00 = v128.load(c);
  let c01 = v128.load(c, 16);
  let c10 = v128.load(c + cm);
  let c11 = v128.load(c + cm, 16);
  let c20 = v128.load(c + 2 * cm);
  let c21 = v128.load(c + 2 * cm, 16);
  let c30 = v128.load(c + 3 * cm);
  let c31 = v128.load(c + 3 * cm, 16);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00);
    c01 = madd(s, b1, c01);
    s = v128.load32_splat(a + am);
    c10 = madd(s, b0, c10);
    c11 = madd(s, b1, c11);
    s = v128.load32_splat(a + 2 * am);
    c20 = madd(s, b0, c20);
    c21 = madd(s, b1, c21);
    s = v128.load32_splat(a + 3 * am);
    c30 = madd(s, b0, c30);
    c31 = madd(s, b1, c31);
    a += ak;
    b += bk;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + cm, c10);
  v128.store(c + cm, c11, 16);
  v128.store(c + 2 * cm, c20);
  v128.store(c + 2 * cm, c21, 16);
  v128.store(c + 3 * cm, c30);
  v128.store(c + 3 * cm, c31, 16);
}

function block4x4(K: i32, a: usize, am: usize, ak: usize, b: usize, bk: usize, c: usize, cm: usize): void {
  let c0 = v128.load(c);
  let c1 = v128.load(c + cm);
  let c2 = v128.load(c + 2 * cm);
  let c3 = v128.load(c + 3 * cm);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(a), b0, c0);
    c1 = madd(v128.load32_splat(a + am), b0, c1);
    c2 = madd(v128.load32_splat(a + 2 * am), b0, c2);
    c3 = madd(v128.load32_splat(a + 3 * am), b0, c3);
    a += ak;
    b += bk;
  }
  v128.store(c, c0);
  v128.store(c + cm, c1);
  v128.store(c + 2 * cm, c2);
  v128.store(c + 3 * cm, c3);
}

function block1x8(K: i32, a: usize, ak: usize, b: usize, bk: usize, c: usize): void {
  let c0 = v128.load(c);
  let c1 = v128.load(c, 16);
  for (let k = 0; k < K; k++) {
    const s = v128.load32_splat(a);
    c0 = madd(s, v128.load(b), c0);
    c1 = madd(s, v128.load(b, 16), c1);
    a += ak;
    b += bk;
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

function block1x4(K: i32, a: usize, ak: usize, b: usize, bk: usize, c: usize): void {
  let c0 = v128.load(c);
  for (let k = 0; k < K; k++) {
    c0 = madd(v128.load32_splat(a), v128.load(b), c0);
    a += ak;
    b += bk;
  }
  v128.store(c, c0);
}
