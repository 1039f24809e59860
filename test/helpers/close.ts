import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

type Numeric = tf.Tensor | number | number[] | number[][] | number[][][];

function values(v: Numeric): Float64Array {
  if (v instanceof tf.Tensor) return Float64Array.from(v.dataSync());
  return Float64Array.from((Array.isArray(v) ? v.flat(3) : [v]) as number[]);
}

/** The largest |a - b| over all entries (shapes must have the same size). */
export function maxAbsDiff(a: Numeric, b: Numeric): number {
  const x = values(a);
  const y = values(b);
  expect(x.length, 'number of entries').to.equal(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Every entry within `atol` of the reference. */
export function expectAbsClose(actual: Numeric, expected: Numeric, atol: number, what = 'values'): void {
  const d = maxAbsDiff(actual, expected);
  expect(d, `${what}: max |difference| ${d} > ${atol}`).to.be.at.most(atol);
}

/** max |a - b| / max |b| <= rtol (relative to the reference's scale). */
export function expectRelClose(actual: Numeric, expected: Numeric, rtol: number, what = 'values'): void {
  const scale = Math.max(...values(expected).map(Math.abs), Number.MIN_VALUE);
  const r = maxAbsDiff(actual, expected) / scale;
  expect(r, `${what}: relative difference ${r} > ${rtol}`).to.be.at.most(rtol);
}
