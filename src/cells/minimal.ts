/**
 * What the minimal cells of Feng et al. 2024 ("Were RNNs All We Needed?"), minGRU and minLSTM,
 * share: gates and a candidate `h̃_t` that read only `x_t` (`x(k) = W_kx x_t + b_k`), σ for the
 * gates and f for the candidate, the state `{ h }`, and a step that is the linear recurrence
 * `h_t = a_t ⊙ h_{t-1} + b_t`. Each cell's file gives its gates, its equations and its `a_t`, `b_t`.
 */
import type * as tf from '@tensorflow/tfjs';
import { getActivation, type ActivationFn } from '../activations.js';
import {
  checkCellOptions,
  makeCell,
  type Cell,
  type CellConfig,
  type CellDefinition,
  type CellKind,
  type CellOptions,
  type LinearForm,
  type Terms,
} from './cell.js';
import { inputGateShapes, linearEquations } from './linear.js';

export interface MinimalCellOptions extends CellOptions {
  /** f of the candidate h̃_t (default `'linear'`, the identity). */
  activation?: string;
  /** σ of the gates (default `'sigmoid'`). */
  recurrentActivation?: string;
}

/** `a_t` and `b_t` from the input halves `x(k)` of the gates, with f and σ. */
export type MinimalCoefficients = (x: Terms['x'], f: ActivationFn, σ: ActivationFn) => { a: tf.Tensor; b: tf.Tensor2D };

/** A minimal cell's definition: its kind, gates (the candidate's `h` last), equations in LaTeX and coefficients. */
export function minimalDefinition(
  kind: CellKind,
  gates: readonly string[],
  latex: string,
  coefficients: MinimalCoefficients,
): CellDefinition {
  const form = ({ activation, recurrentActivation = 'sigmoid' }: CellConfig): LinearForm => {
    const [f, σ] = [getActivation(activation), getActivation(recurrentActivation)];
    return { state: 'h', complex: false, coefficients: ({ x }) => coefficients(x, f, σ) };
  };
  return {
    kind,
    gates,
    stateNames: ['h'],
    shapes: (sizes) => inputGateShapes(gates, sizes),
    latex: () => latex,
    linear: form,
    equations: (config) => linearEquations(form(config)),
  };
}

/** A cell of a minimal definition from its factory's options (f the identity, σ sigmoid by default). */
export function minimalCell(definition: CellDefinition, options: MinimalCellOptions): Cell {
  checkCellOptions(definition, options, ['activation', 'recurrentActivation']);
  const { inputSize, units, activation = 'linear', recurrentActivation = 'sigmoid' } = options;
  const config = { kind: definition.kind, inputSize, units, activation, recurrentActivation };
  return makeCell(definition, config, options);
}
