import type * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../check.js';
import type { Cell, CellConfig } from './cell.js';
import { elman } from './elman.js';
import { gru } from './gru.js';
import { lstm } from './lstm.js';

export const CELL_KINDS = ['elman', 'lstm', 'gru'] as const;

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
