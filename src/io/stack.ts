/**
 * A network's configuration and the layout of its cells: how many layers, one or two directions,
 * which cell configuration each position has and how its parameters are keyed.
 *
 * Layer 0 reads `x_t`; layer l > 0 reads layer l-1's output, `h_t` or, bidirectional,
 * `[h→_t; h←_t]` (`2 * units` features). The cells are listed in PyTorch's order:
 * `l0, l0_reverse, l1, l1_reverse, …`. Their parameters are keyed by symbol with a prefix per
 * position, none for layer 0's forward cell (so a one-layer network keeps the plain symbols):
 *
 * | position | keys |
 * |----------|------|
 * | layer 0, forward | `W_ix`, `W_ih`, `b_i`, … |
 * | layer 0, reverse | `l0_reverse.W_ix`, … |
 * | layer l > 0, forward | `l1.W_ix`, … |
 * | layer l > 0, reverse | `l1_reverse.W_ix`, … |
 */
import type { CellConfig } from '../cells/cell.js';

/** What `model.json` stores of a network: enough to rebuild it. */
export interface NetworkConfig {
  /** Layer 0's forward cell (every cell has its kind, units and activations). */
  cell: CellConfig;
  outputSize: number;
  outputActivation: string;
  /** Stacked layers (absent: 1). */
  layers?: number;
  /** A reverse cell per layer (absent: false). */
  bidirectional?: boolean;
  /** Dropout between layers while training (absent: 0). */
  dropout?: number;
}

/** One cell of a network: where it sits, its configuration and its parameters' prefix. */
export interface CellPosition {
  layer: number;
  reverse: boolean;
  /** `''`, `'l1.'`, `'l0_reverse.'`, … */
  prefix: string;
  config: CellConfig;
}

/** 1, or 2 for a bidirectional network. */
export function directionsOf(config: NetworkConfig): 1 | 2 {
  return config.bidirectional ? 2 : 1;
}

/** The prefix of a cell's parameter keys (none for layer 0's forward cell). */
export function prefixOf(layer: number, reverse: boolean): string {
  return layer === 0 && !reverse ? '' : `l${layer}${reverse ? '_reverse' : ''}.`;
}

/** Every cell of a network, in PyTorch's order (`l0, l0_reverse, l1, …`). */
export function cellPositions(config: NetworkConfig): CellPosition[] {
  const directions = directionsOf(config);
  const positions: CellPosition[] = [];
  for (let layer = 0; layer < (config.layers ?? 1); layer++) {
    const inputSize = layer === 0 ? config.cell.inputSize : directions * config.cell.units;
    for (let d = 0; d < directions; d++) {
      const reverse = d === 1;
      positions.push({ layer, reverse, prefix: prefixOf(layer, reverse), config: { ...config.cell, inputSize } });
    }
  }
  return positions;
}

/** Splits `prefix + symbol` keys into each position's symbols; keys no position owns are returned apart. */
export function splitByPosition<T>(
  positions: readonly CellPosition[],
  params: Record<string, T>,
): { own: Record<string, T>[]; rest: Record<string, T> } {
  const own = positions.map(() => ({}) as Record<string, T>);
  const rest: Record<string, T> = {};
  for (const [key, value] of Object.entries(params)) {
    // The longest matching prefix ('' matches every key): 'l1.W_ix' belongs to 'l1.', not ''.
    let best = -1;
    positions.forEach((p, i) => {
      if (key.startsWith(p.prefix) && (best < 0 || p.prefix.length > positions[best].prefix.length)) best = i;
    });
    if (best < 0) rest[key] = value;
    else own[best][key.slice(positions[best].prefix.length)] = value;
  }
  return { own, rest };
}
