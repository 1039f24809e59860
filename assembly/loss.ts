/**
 * The mean square error's two passes in AssemblyScript compiled to WebAssembly SIMD
 * (`npx tsx scripts/build-wasm.ts loss` writes `src/fast/wasm/loss-wasm.ts`;
 * `src/objective/fused-loss.ts` runs it). The module imports its memory and keeps nothing in it:
 * on the wasm backend it is given tfjs-wasm's own memory and reads the tensors where they are; on
 * the cpu backend a memory of its own, the values copied in.
 *
 * Every pointer is the byte offset of `n` f32 values. The difference and its square are rounded
 * to float32, as tfjs's ops store them; the squares are summed in double precision. The forward
 * keeps the differences for the gradient where one will follow (`src/objective/fused-loss.ts`).
 */

/**
 * `Σ_i fl32(fl32(p_i - y_i)²)`, summed in double precision (four lanes, then the rest); where `e`
 * is not 0, the differences `fl32(p_i - y_i)` go there too (the gradient's, kept for it).
 */
export function squaredErrorSum(y: usize, p: usize, n: i32, e: usize): f64 {
  const bytes = (<usize>n) << 2;
  const whole = bytes & ~(<usize>15);
  let low = f64x2.splat(0);
  let high = f64x2.splat(0);
  for (let j: usize = 0; j < whole; j += 16) {
    const d = f32x4.sub(v128.load(p + j), v128.load(y + j));
    if (e) v128.store(e + j, d);
    const s = f32x4.mul(d, d);
    low = f64x2.add(low, f64x2.promote_low_f32x4(s));
    high = f64x2.add(high, f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 0, 1)));
  }
  let sum = f64x2.extract_lane(low, 0) + f64x2.extract_lane(low, 1);
  sum += f64x2.extract_lane(high, 0) + f64x2.extract_lane(high, 1);
  for (let j = whole; j < bytes; j += 4) {
    const d = load<f32>(p + j) - load<f32>(y + j);
    if (e) store<f32>(e + j, d);
    sum += <f64>(d * d);
  }
  return sum;
}

/**
 * `out_i = scale · fl32(p_i - y_i)`, in float32 (`scale` is `2 · fl32(dy / n)`, exact in float32);
 * where `y` is 0, `p` holds the differences already (kept by {@link squaredErrorSum}).
 */
export function scaledError(y: usize, p: usize, n: i32, scale: f32, out: usize): void {
  const bytes = (<usize>n) << 2;
  const whole = bytes & ~(<usize>15);
  const s = f32x4.splat(scale);
  for (let j: usize = 0; j < whole; j += 16) {
    const d = y ? f32x4.sub(v128.load(p + j), v128.load(y + j)) : v128.load(p + j);
    v128.store(out + j, f32x4.mul(s, d));
  }
  for (let j = whole; j < bytes; j += 4)
    store<f32>(out + j, scale * (y ? load<f32>(p + j) - load<f32>(y + j) : load<f32>(p + j)));
}
