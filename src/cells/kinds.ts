/** The kinds of cell by name: their definitions, their parameters, and building one from a config. */
import type * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../check/index.js';
import { shapesOf, type Cell, type CellConfig, type CellDefinition, type CellKind } from './cell.js';
import { ELMAN, elman } from './elman.js';
import { GRU, gru } from './gru.js';
import { LSTM, lstm } from './lstm.js';

export const CELL_KINDS = ['elman', 'lstm', 'gru'] as const;

const DEFINITIONS: Record<CellKind, CellDefinition> = { elman: ELMAN, lstm: LSTM, gru: GRU };

/** The definition (gates, equations) of a kind of cell. */
export function definitionOf(kind: CellKind): CellDefinition {
  return DEFINITIONS[checkOneOf('cells', 'kind', kind, CELL_KINDS)];
}

/** The shape of every parameter a configuration has, keyed by symbol. */
export function paramShapes(config: CellConfig): Map<string, number[]> {
  return shapesOf(definitionOf(config.kind), config);
}

/** Builds the cell a {@link CellConfig} describes (new parameters, or the given ones). */
export function createCell(
  config: CellConfig,
  extra: { seed?: number; params?: Record<string, tf.Variable> } = {},
): Cell {
  const { kind, inputSize, units, activation, recurrentActivation, resetAfter } = config;
  checkOneOf('createCell', 'kind', kind, CELL_KINDS);
  const common = { inputSize, units, activation, ...extra };
  if (kind === 'elman') return elman(common);
  if (kind === 'lstm') return lstm({ ...common, recurrentActivation });
  return gru({ ...common, recurrentActivation, resetAfter });
}
