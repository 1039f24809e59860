/** The kinds of cell by name: their definitions, their parameters, and building one from a config. */
import type * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../check/index.js';
import { shapesOf, type Cell, type CellConfig, type CellDefinition, type CellKind } from './cell.js';
import { ELMAN, elman } from './elman.js';
import { GRU, gru } from './gru.js';
import { INDRNN, indrnn } from './indrnn.js';
import { LRU, lru } from './lru.js';
import { LSTM, lstm } from './lstm.js';
import { MINGRU, mingru } from './mingru.js';
import { MINLSTM, minlstm } from './minlstm.js';

export const CELL_KINDS = ['elman', 'lstm', 'gru', 'mingru', 'minlstm', 'lru', 'indrnn'] as const;

const DEFINITIONS: Record<CellKind, CellDefinition> = {
  elman: ELMAN,
  lstm: LSTM,
  gru: GRU,
  mingru: MINGRU,
  minlstm: MINLSTM,
  lru: LRU,
  indrnn: INDRNN,
};

/**
 * The default f of each kind where it is not `tanh`: the identity of minGRU's and minLSTM's
 * candidate, IndRNN's ReLU, the LRU (which has none).
 */
export const DEFAULT_ACTIVATION: Record<CellKind, string> = {
  elman: 'tanh',
  lstm: 'tanh',
  gru: 'tanh',
  mingru: 'linear',
  minlstm: 'linear',
  lru: 'linear',
  indrnn: 'relu',
};

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
  const { kind, inputSize, units, activation, recurrentActivation, resetAfter, useBias } = config;
  checkOneOf('createCell', 'kind', kind, CELL_KINDS);
  const common = { inputSize, units, activation, ...extra };
  const gated = { ...common, ...(useBias === false && { useBias }) };
  if (kind === 'elman') return elman(gated);
  if (kind === 'lstm') return lstm({ ...gated, recurrentActivation });
  if (kind === 'gru') return gru({ ...gated, recurrentActivation, resetAfter });
  if (useBias === false)
    throw new Error(`createCell: a ${kind} cell always has its biases (useBias: false is refused)`);
  if (kind === 'mingru') return mingru({ ...common, recurrentActivation });
  if (kind === 'minlstm') return minlstm({ ...common, recurrentActivation });
  if (recurrentActivation !== undefined && (kind === 'indrnn' || kind === 'lru')) {
    throw new Error(
      `createCell: a ${kind} cell has no gates, so no recurrentActivation (got ${JSON.stringify(recurrentActivation)})`,
    );
  }
  if (kind === 'indrnn') return indrnn(common);
  if (activation !== 'linear') {
    throw new Error(
      `createCell: the lru has no activation (it is linear), got activation ${JSON.stringify(activation)}`,
    );
  }
  return lru({ inputSize, units, ...extra });
}
