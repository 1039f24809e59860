/**
 * tfjs's Adam update on four lanes (`src/train/fused-adam.ts` has the equations and the readable
 * JavaScript it is tested against, to the bit): every operation in float32, as tfjs's kernels
 * store each intermediate. `x`, `m`, `v` (`n` values each) are updated in place from the gradient
 * `g`; the numbers are the update's, rounded to float32 by the caller: `b1 = β₁`, `c1 = 1 - β₁`,
 * `d1 = 1 - β̂₁` (the same for β₂), `eps = ε`, `step = -η`. No fused multiply-add, in either build:
 * it would round differently.
 */
export function adam(
  n: i32,
  x: usize,
  m: usize,
  v: usize,
  g: usize,
  b1: f32,
  b2: f32,
  c1: f32,
  c2: f32,
  d1: f32,
  d2: f32,
  eps: f32,
  step: f32,
): void {
  const bytes = (<usize>n) << 2;
  const whole = bytes & ~(<usize>15);
  const B1 = f32x4.splat(b1);
  const B2 = f32x4.splat(b2);
  const C1 = f32x4.splat(c1);
  const C2 = f32x4.splat(c2);
  const D1 = f32x4.splat(d1);
  const D2 = f32x4.splat(d2);
  const EPS = f32x4.splat(eps);
  const STEP = f32x4.splat(step);
  for (let j: usize = 0; j < whole; j += 16) {
    const gj = v128.load(g + j);
    const mj = f32x4.add(f32x4.mul(v128.load(m + j), B1), f32x4.mul(gj, C1));
    const vj = f32x4.add(f32x4.mul(v128.load(v + j), B2), f32x4.mul(f32x4.mul(gj, gj), C2));
    v128.store(m + j, mj);
    v128.store(v + j, vj);
    const den = f32x4.add(f32x4.sqrt(f32x4.div(vj, D2)), EPS);
    v128.store(x + j, f32x4.add(f32x4.mul(f32x4.div(f32x4.div(mj, D1), den), STEP), v128.load(x + j)));
  }
  for (let j = whole; j < bytes; j += 4) {
    const gj = load<f32>(g + j);
    const mj = load<f32>(m + j) * b1 + gj * c1;
    const vj = load<f32>(v + j) * b2 + gj * gj * c2;
    store<f32>(m + j, mj);
    store<f32>(v + j, vj);
    store<f32>(x + j, (mj / d1 / (Mathf.sqrt(vj / d2) + eps)) * step + load<f32>(x + j));
  }
}
