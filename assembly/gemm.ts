/**
 * The blocked matrix product the whole-sequence kernels (`./sequence.ts`) and the fused scans
 * (`./scan.ts`) build on, split over threads (`./pool.ts`) where the module has helpers: in
 * blocks of columns of `C`, or of rows where it has few columns. Every entry of `C` is summed by
 * one thread in the same order whatever the split, so a product is the same to the bit on one
 * thread or several.
 */
import { madd } from './simd';
import { claim, job, MAX_PARTS, partsFor, runParts, scratchEnd } from './pool';

/** Rows of `B` per panel in a long product (see {@link gemm}). */
const KC = 256;
/** Entries of `B` from which a product is long: larger than a core's share of cache (512 KiB). */
const BIG = 1 << 17;
/** One panel: up to KC rows of a 12-column (or narrower) strip of `B`, contiguous; one per part. */
const PANEL_BYTES: usize = KC * 12 * 4;
/** Multiply-adds from which a product is split over threads (about 0.1 ms on one). */
export const SPLIT_WORK: f64 = 1048576;

/** Where the caller's arrays may start: past the pool's control block and the panels. */
export function heapBase(): usize {
  return scratchEnd(PANEL_BYTES * MAX_PARTS);
}

/**
 * `C[M, N] += A B` with `B: [K, N]` (row stride `ldb`), `C` (row stride `ldc`), `N` a multiple of 4,
 * and `A[m, k]` at `A + 4 (m sam + k sak)`, so that `A` may be read transposed. Blocks of 4 rows by
 * 12 columns (then 8, then 4; the rows left over one by one) keep their sums in registers; a
 * column strip of `B` stays in cache over the rows. A long product with a large `B` (the weight
 * gradients, `K = T*B`) runs in slices of KC steps of `k`, each strip of the slice copied into a
 * contiguous panel first: the slice of `A` stays in cache over the strips, and the panel's rows do
 * not fall on the same cache sets as rows of `B` a power of two apart do (this took the LSTM 128
 * backward's `H^T dA` from 9 to 28 GFLOP/s).
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
  const P = partsFor(<f64>M * <f64>N * <f64>K, SPLIT_WORK);
  if (P == 1 || (N < 2 * COL_BLOCK && M < 2 * ROW_BLOCK)) {
    part(M, N, K, A, sam, sak, B, ldb, C, ldc, 0, 1);
    return;
  }
  const a = changetype<Product>(job());
  a.M = M;
  a.N = N;
  a.K = K;
  a.A = A;
  a.sam = sam;
  a.sak = sak;
  a.B = B;
  a.ldb = ldb;
  a.C = C;
  a.ldc = ldc;
  runParts(P, productPart);
}

/** The arguments of a product split over threads. */
@unmanaged
class Product {
  M: i32;
  N: i32;
  K: i32;
  A: usize;
  sam: i32;
  sak: i32;
  B: usize;
  ldb: i32;
  C: usize;
  ldc: i32;
}

/** Part `p` of `P` of the product whose arguments {@link gemm} wrote. */
function productPart(p: i32, P: i32): void {
  const a = changetype<Product>(job());
  part(a.M, a.N, a.K, a.A, a.sam, a.sak, a.B, a.ldb, a.C, a.ldc, p, P);
}

/** Columns of a block of a product split by columns (a multiple of 12 and of 4). */
const COL_BLOCK = 48;
/** Rows of a block of a product split by rows. */
const ROW_BLOCK = 16;

/**
 * Thread `p`'s part of `C[M, N] += A B` (`P` threads, or `P = 1`: the whole): blocks of
 * {@link COL_BLOCK} columns while there are, where the product has two such blocks or more,
 * else blocks of {@link ROW_BLOCK} rows. Whether it runs in slices of KC is decided by the whole
 * product, so that each entry's sum is the same whatever the split.
 */
function part(
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
  p: i32,
  P: i32,
): void {
  const panel = K > KC && K * N >= BIG ? scratchEnd(0) + <usize>p * PANEL_BYTES : 0;
  if (P == 1) {
    sliced(M, N, K, A, sam, sak, B, ldb, C, ldc, panel);
  } else if (N >= 2 * COL_BLOCK) {
    for (let n0 = claim() * COL_BLOCK; n0 < N; n0 = claim() * COL_BLOCK) {
      const n = (<usize>n0) << 2;
      sliced(M, min(COL_BLOCK, N - n0), K, A, sam, sak, B + n, ldb, C + n, ldc, panel);
    }
  } else {
    for (let m0 = claim() * ROW_BLOCK; m0 < M; m0 = claim() * ROW_BLOCK) {
      const a = A + ((<usize>m0 * <usize>sam) << 2);
      sliced(min(ROW_BLOCK, M - m0), N, K, a, sam, sak, B, ldb, C + ((<usize>m0 * <usize>ldc) << 2), ldc, panel);
    }
  }
}

/** `C[M, N] += A B` whole, or with a `panel` (not 0) in slices of KC steps of `k`. */
function sliced(
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
  panel: usize,
): void {
  if (panel == 0) {
    strips(M, N, K, A, sam, sak, B, ldb, C, ldc, 0);
    return;
  }
  const ak = (<usize>sak) << 2;
  const bk = (<usize>ldb) << 2;
  for (let k = 0; k < K; k += KC) {
    strips(M, N, min(KC, K - k), A + <usize>k * ak, sam, sak, B + <usize>k * bk, ldb, C, ldc, panel);
  }
}

/** {@link gemm} strip by strip; with a `panel` (not 0), each strip of `B` (K ≤ KC rows) copied to it first. */
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
  panel: usize,
): void {
  const am = (<usize>sam) << 2;
  const ak = (<usize>sak) << 2;
  const cm = (<usize>ldc) << 2;
  for (let n = 0; n < N;) {
    const w = n + 12 <= N ? 12 : n + 8 <= N ? 8 : 4;
    let b = B + ((<usize>n) << 2);
    let bk: usize = (<usize>ldb) << 2;
    if (panel) {
      const row = (<usize>w) << 2;
      for (let k = 0; k < K; k++) memory.copy(panel + <usize>k * row, b + <usize>k * bk, row);
      b = panel;
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
