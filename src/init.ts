/**
 * Seeded parameter initialisation. The same seed gives the same numbers on every backend,
 * because the values are drawn in JavaScript and only then become tensors.
 *
 * Defaults (those of Keras, which train well out of the box):
 * - input weights `W_·x`: Glorot uniform, limit `sqrt(6 / (fanIn + fanOut))`;
 * - recurrent weights `W_·h`: orthogonal (keeps `||W_hh h||` = `||h||` at the start, the best
 *   case against vanishing and exploding gradients, Saxe et al. 2014);
 * - biases zero, except the LSTM forget gate `b_f = 1` (Jozefowicz et al. 2015), so the cell
 *   remembers by default.
 */
import * as tf from '@tensorflow/tfjs';

/** A small, fast, seedable generator of uniform numbers in [0, 1) (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed when none is given, so unseeded models differ from each other. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

export type Initializer = 'glorotUniform' | 'orthogonal' | 'zeros' | 'ones';

/** Draws a `[rows, cols]` (or `[rows]`) matrix with the given scheme from `rand`. */
export function initValues(kind: Initializer, shape: readonly number[], rand: () => number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  switch (kind) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'glorotUniform': {
      const [fanOut, fanIn] = shape.length === 2 ? shape : [shape[0], shape[0]];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = (2 * rand() - 1) * limit;
      return out;
    }
    case 'orthogonal':
      return orthogonal(shape[0], shape[1], rand);
  }
}

/** Rows (or columns, whichever are fewer) orthonormal: Gram–Schmidt on a Gaussian matrix. */
function orthogonal(rows: number, cols: number, rand: () => number): Float32Array {
  const n = Math.max(rows, cols);
  const k = Math.min(rows, cols);
  // k orthonormal vectors of length n.
  const basis: Float64Array[] = [];
  while (basis.length < k) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = gaussian(rand);
    for (const b of basis) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i] * b[i];
      for (let i = 0; i < n; i++) v[i] -= dot * b[i];
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-6) continue;
    for (let i = 0; i < n; i++) v[i] /= norm;
    basis.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = rows <= cols ? basis[r][c] : basis[c][r];
    }
  }
  return out;
}

/** A standard normal draw from `rand` (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** A trainable variable named `name` holding freshly drawn values. */
export function initVariable(
  name: string,
  kind: Initializer,
  shape: readonly number[],
  rand: () => number,
): tf.Variable {
  const value = tf.tensor(initValues(kind, shape, rand), shape as number[]);
  const variable = tf.variable(value, true, uniqueName(name));
  value.dispose();
  return variable;
}

let counter = 0;
/**
 * tfjs variable names are global: make ours unique while keeping the symbol readable. Names taken
 * by anyone else (another copy of this package in the same app, a user's variable) are skipped.
 */
export function uniqueName(symbol: string): string {
  const taken = tf.engine().registeredVariables;
  let name: string;
  do {
    counter += 1;
    name = `${symbol}_${counter}`;
  } while (Object.hasOwn(taken, name));
  return name;
}
