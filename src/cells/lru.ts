/**
 * The linear recurrent unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
 * Long Sequences"): {@link LRU_EQUATIONS}. A diagonal complex recurrence `s_t = λ ⊙ s_{t-1} + …`
 * with `|λ| < 1` by construction (exponential parameterisation), inputs normalised by `γ`, and a
 * real read-out. A step is a linear recurrence with the constant `a = λ`, and `rt.unroll` trains a
 * whole sequence as one scan (`src/fast/scan.ts`).
 *
 * `units` is the size of `h_t` and counts the reals of the complex state: `s_t` has `units / 2`
 * complex entries, kept as the state entry `c_t = [Re s_t, Im s_t]` (`[batch, units]`), so
 * `units` must be even. State `{ h, c }`.
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `nu_log`, `theta_log` | `[units / 2]` | ν_log, θ_log: `λ = exp(-exp(ν_log) + i exp(θ_log))` |
 * | `gamma_log` | `[units / 2]` | γ_log: `γ = exp(γ_log)`, initially `sqrt(1 - |λ|²)` |
 * | `B_re`, `B_im` | `[units / 2, inputSize]` | `B`, input matrix (normal, variance `1 / (2 inputSize)`) |
 * | `C_re`, `C_im` | `[units, units / 2]` | `C`, read-out (normal, variance `2 / units`) |
 * | `D` | `[units, inputSize]` | feed-through (normal, variance `1 / inputSize`) |
 *
 * Initialisation as the paper's: `|λ|²` uniform on `[r_min², r_max²]` with `r_min = 0.9`,
 * `r_max = 0.999` (its values for long sequences), the phase `exp(θ_log)` uniform on `[0, 2π)`.
 * The paper's `D` is diagonal (its input and output sizes are equal); here it is a matrix, so
 * that `inputSize` and `units` may differ.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkCellOptions,
  inputOf,
  productOf,
  makeCell,
  paramOf,
  type Cell,
  type CellDefinition,
  type CellOptions,
  type LinearForm,
} from './cell.js';
import { gaussian } from '../init.js';
import { linearEquations } from './linear.js';

export type LruOptions = CellOptions;

/** The LRU's equations in LaTeX (`cell.equations`). */
export const LRU_EQUATIONS = String.raw`\begin{aligned}
\lambda &= \exp\left(-\exp(\nu_{\log}) + i \exp(\theta_{\log})\right), \qquad \gamma = \exp(\gamma_{\log}) \\
s_t &= \lambda \odot s_{t-1} + \gamma \odot \left((B_{re} + i B_{im}) x_t\right) \\
h_t &= \operatorname{Re}\left((C_{re} + i C_{im}) s_t\right) + D x_t \\
c_t &= \left[\operatorname{Re} s_t, \operatorname{Im} s_t\right]
\end{aligned}`;

const R_MIN = 0.9;
const R_MAX = 0.999;

/**
 * `a = λ` (constant), `b_t = γ ⊙ B x_t`, and the read-out `h_t = Re(C s_t) + D x_t`, each product
 * one real matMul over the `[Re, Im]` halves: `[Re; Im](γ ⊙ B x) = [γ; γ] ⊙ ([B_re; B_im] x)` and
 * `Re(C s) = [C_re, -C_im] [Re s; Im s]`.
 */
const LRU_FORM: LinearForm = {
  state: 'c',
  complex: true,
  coefficients: (terms) => {
    const p = (symbol: string) => paramOf(terms, symbol);
    const modulus = tf.exp(tf.neg(tf.exp(p('nu_log'))));
    const phase = tf.exp(p('theta_log'));
    const λ = tf.concat([tf.mul(modulus, tf.cos(phase)), tf.mul(modulus, tf.sin(phase))]);
    const γ = tf.exp(p('gamma_log'));
    const Bx = productOf(terms)(inputOf(terms), tf.concat([p('B_re'), p('B_im')]) as tf.Tensor2D);
    return { a: λ, b: tf.mul(Bx, tf.concat([γ, γ])) as tf.Tensor2D };
  },
  output: (s_t, terms) => {
    const p = (symbol: string) => paramOf(terms, symbol);
    const times = productOf(terms);
    const Cs = times(s_t, tf.concat([p('C_re'), tf.neg(p('C_im'))], 1) as tf.Tensor2D);
    return tf.add(Cs, times(inputOf(terms), p('D') as tf.Tensor2D)) as tf.Tensor2D;
  },
};

/** The LRU's parameters, by the paper's symbols, and its equations. */
export const LRU: CellDefinition = {
  kind: 'lru',
  gates: [],
  stateNames: ['h', 'c'],
  shapes: ({ inputSize, units }) => {
    const n = units / 2;
    return new Map([
      ['nu_log', [n]],
      ['theta_log', [n]],
      ['gamma_log', [n]],
      ['B_re', [n, inputSize]],
      ['B_im', [n, inputSize]],
      ['C_re', [units, n]],
      ['C_im', [units, n]],
      ['D', [units, inputSize]],
    ]);
  },
  initial: (shapes, rand) => {
    const [n] = shapes.get('nu_log')!;
    const [, inputSize] = shapes.get('B_re')!;
    const normal = (shape: number[], scale: number) =>
      Float32Array.from({ length: shape[0] * shape[1] }, () => gaussian(rand) * scale);
    const values: Record<string, Float32Array> = {
      nu_log: new Float32Array(n),
      theta_log: new Float32Array(n),
      gamma_log: new Float32Array(n),
    };
    for (let j = 0; j < n; j++) {
      const r2 = rand() * (R_MAX ** 2 - R_MIN ** 2) + R_MIN ** 2; // |λ|²
      values.nu_log[j] = Math.log(-0.5 * Math.log(r2));
      values.theta_log[j] = Math.log(2 * Math.PI * (1 - rand())); // 1 - rand() in (0, 1]: no log 0
      values.gamma_log[j] = 0.5 * Math.log(1 - r2);
    }
    values.B_re = normal(shapes.get('B_re')!, 1 / Math.sqrt(2 * inputSize));
    values.B_im = normal(shapes.get('B_im')!, 1 / Math.sqrt(2 * inputSize));
    values.C_re = normal(shapes.get('C_re')!, 1 / Math.sqrt(n));
    values.C_im = normal(shapes.get('C_im')!, 1 / Math.sqrt(n));
    values.D = normal(shapes.get('D')!, 1 / Math.sqrt(inputSize));
    return values;
  },
  latex: () => LRU_EQUATIONS,
  linear: () => LRU_FORM,
  equations: () => linearEquations(LRU_FORM),
};

/** An LRU cell; see the module documentation for its equations. `units` must be even. */
export function lru(options: LruOptions): Cell {
  checkCellOptions(LRU, options, []);
  const { inputSize, units } = options;
  if (units % 2 !== 0) {
    throw new RangeError(
      `cells.lru: expected units to be even (the complex state has units / 2 entries, as [Re, Im]), got ${units}`,
    );
  }
  return makeCell(LRU, { kind: 'lru', inputSize, units, activation: 'linear' }, options);
}
