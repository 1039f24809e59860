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
 * The constants of the functions below, each in four lanes, loaded from memory where they are
 * used rather than written as `v128.const` (which V8 builds from immediates at every use): in a
 * profile of the LSTM 128 forward at `[32, 50, 16]`, its gates took 4.7 ms a pass with constants,
 * 3.5 with loads (the products alongside: 16.6 and 15.8 ms).
 */
// prettier-ignore
const LANES = memory.data<f32>(
  [
    -87.3, -87.3, -87.3, -87.3,
    88.3, 88.3, 88.3, 88.3,
    LOG2E, LOG2E, LOG2E, LOG2E,
    ROUND, ROUND, ROUND, ROUND,
    LN2_HI, LN2_HI, LN2_HI, LN2_HI,
    LN2_LO, LN2_LO, LN2_LO, LN2_LO,
    1.0 / 720.0, 1.0 / 720.0, 1.0 / 720.0, 1.0 / 720.0,
    1.0 / 120.0, 1.0 / 120.0, 1.0 / 120.0, 1.0 / 120.0,
    1.0 / 24.0, 1.0 / 24.0, 1.0 / 24.0, 1.0 / 24.0,
    1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0,
    0.5, 0.5, 0.5, 0.5,
    1.0, 1.0, 1.0, 1.0,
    2.0, 2.0, 2.0, 2.0,
  ],
  16,
);
/** The exponent bias less ROUND's bits, for {@link expv}'s 2^n. */
const BIAS = memory.data<i32>([127 - 0x4b400000, 127 - 0x4b400000, 127 - 0x4b400000, 127 - 0x4b400000], 16);

/** Constant `i` of {@link LANES}: its four lanes (a function this small the optimizer inlines). */
function lanes(i: i32): v128 {
  return v128.load(LANES + ((<usize>i) << 4));
}

const LOW = 0;
const HIGH = 1;
const C_LOG2E = 2;
const C_ROUND = 3;
const C_LN2_HI = 4;
const C_LN2_LO = 5;
/** The Taylor coefficients 1/6!, 1/5!, ..., 1/2 at 6 .. 10; then 1 and 2. */
const C_TAYLOR = 6;
const ONE = 11;
const TWO = 12;

/**
 * e^x on four lanes: x = n ln 2 + r with |r| ≤ ln2/2, e^r by its Taylor polynomial of degree 6.
 * The clamps are `pmin`/`pmax`, and n is rounded and 2^n built through {@link ROUND}: on x86 those
 * are single instructions, where `min`, `max`, `nearest` and a saturating conversion to integers
 * are sequences (σ over `[1600, 512]`: 2.5 ms before, 1.6 ms after, plain SIMD build).
 */
export function expv(x: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(x, lanes(LOW)), lanes(HIGH));
  const shifted = f32x4.add(f32x4.mul(v, lanes(C_LOG2E)), lanes(C_ROUND));
  const n = f32x4.sub(shifted, lanes(C_ROUND));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, lanes(C_LN2_HI))), f32x4.mul(n, lanes(C_LN2_LO)));
  let p = lanes(C_TAYLOR);
  p = f32x4.add(f32x4.mul(p, r), lanes(C_TAYLOR + 1));
  p = f32x4.add(f32x4.mul(p, r), lanes(C_TAYLOR + 2));
  p = f32x4.add(f32x4.mul(p, r), lanes(C_TAYLOR + 3));
  p = f32x4.add(f32x4.mul(p, r), lanes(C_TAYLOR + 4));
  p = f32x4.add(f32x4.mul(p, r), lanes(ONE));
  p = f32x4.add(f32x4.mul(p, r), lanes(ONE));
  // The bits of `shifted` are those of ROUND plus n: less ROUND's, plus the exponent bias, is n + 127.
  const twoToN = i32x4.shl(i32x4.add(shifted, v128.load(BIAS)), 23);
  return f32x4.mul(p, twoToN);
}

/** σ(x) = 1 / (1 + e^{-x}) */
export function sigmoidv(x: v128): v128 {
  const one = lanes(ONE);
  return f32x4.div(one, f32x4.add(one, inline.always(expv(f32x4.neg(x)))));
}

/** The activations by code: 0 tanh, 1 sigmoid, 2 linear, 3 ReLU. */
export const TANH = 0;
export const SIGMOID = 1;
export const LINEAR = 2;
export const RELU = 3;

/** The activation `code` on four lanes; tanh(x) = 2 σ(2x) - 1. */
export function actv(code: i32, x: v128): v128 {
  if (code == TANH) return f32x4.sub(f32x4.mul(lanes(TWO), inline.always(sigmoidv(f32x4.add(x, x)))), lanes(ONE));
  if (code == SIGMOID) return inline.always(sigmoidv(x));
  if (code == LINEAR) return x;
  return f32x4.pmax(x, f32x4.splat(0.0));
}

/** The derivative of the activation `code` through its output y: 1 - y², y (1 - y), 1, [y > 0]. */
export function dactv(code: i32, y: v128): v128 {
  const one = lanes(ONE);
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

// ---- products --------------------------------------------------------------------------------

/**
 * `a b + c`: one fused multiply-add where the module is built with relaxed SIMD (the second build
 * of `npm run build:wasm`, used where the runtime has it), else a multiply and an add.
 */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
