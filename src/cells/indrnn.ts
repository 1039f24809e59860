/**
 * The independently recurrent network (Li et al. 2018, "Independently Recurrent Neural Network
 * (IndRNN)"): {@link INDRNN_EQUATIONS}. Each unit sees only its own past (`u_h ⊙ h_{t-1}`, a
 * vector, not a matrix). With σ the identity (`activation: 'linear'`) a step is the linear
 * recurrence `h_t = a ⊙ h_{t-1} + b_t` with the constant `a = u_h` and `b_t = W_hx x_t + b_h`, and
 * `rt.unroll` trains a whole sequence as one scan (`src/fast/scan.ts`); with any other σ (ReLU by
 * default, as the paper) it runs the step loop, but on cpu and wasm, where the fused scan
 * (`src/fast/wasm/scan-kernel.ts`) runs every σ it computes (its state is still updated unit by unit).
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_hx` | `[units, inputSize]` | input weights (Glorot uniform) |
 * | `u_h` | `[units]` | recurrent weights, one per unit (uniform in [0, 1)) |
 * | `b_h` | `[units]` | bias (zeros) |
 *
 * State `{ h }`, `[batch, units]`. The paper keeps `|u_h|` below `2^{1/T}` with a constraint
 * during training; here `u_h` is trained free, as the other weights.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import {
  checkCellOptions,
  makeCell,
  paramOf,
  type Cell,
  type CellConfig,
  type CellDefinition,
  type CellOptions,
  type LinearForm,
} from './cell.js';
import { inputGateShapes, linearEquations } from './linear.js';

export interface IndRnnOptions extends CellOptions {
  /** σ, by name (default `'relu'`; `'linear'` makes the cell a scan). */
  activation?: string;
}

/** IndRNN's equations in LaTeX (`cell.equations`). */
export const INDRNN_EQUATIONS = String.raw`h_t = \sigma\left(W_{hx} x_t + u_h \odot h_{t-1} + b_h\right)`;

/** With σ the identity: `a = u_h`, `b_t = W_hx x_t + b_h`. */
function indRnnForm({ activation }: CellConfig): LinearForm | undefined {
  if (activation !== 'linear') return undefined;
  return { state: 'h', complex: false, coefficients: (terms) => ({ a: paramOf(terms, 'u_h'), b: terms.x('h') }) };
}

/** IndRNN's parameters: `W_hx`, `b_h` and the vector `u_h`. */
export const INDRNN: CellDefinition = {
  kind: 'indrnn',
  gates: ['h'],
  stateNames: ['h'],
  shapes: (sizes) => inputGateShapes(INDRNN.gates, sizes).set('u_h', [sizes.units]),
  initial: (shapes, rand) => ({ u_h: Float32Array.from({ length: shapes.get('u_h')![0] }, rand) }),
  latex: () => INDRNN_EQUATIONS,
  linear: indRnnForm,
  equations: (config) => {
    const form = indRnnForm(config);
    if (form) return linearEquations(form);
    const σ = getActivation(config.activation);
    return (terms, { h }) => ({
      h_t: σ(tf.add(terms.x('h'), tf.mul(paramOf(terms, 'u_h'), h))) as tf.Tensor2D,
    });
  },
};

/** An IndRNN cell; see the module documentation for its equations. */
export function indrnn(options: IndRnnOptions): Cell {
  checkCellOptions(INDRNN, options, ['activation']);
  const { inputSize, units, activation = 'relu' } = options;
  return makeCell(INDRNN, { kind: 'indrnn', inputSize, units, activation }, options);
}
