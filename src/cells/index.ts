/** The cells: parameters plus one step of the equations, no loop. */
export { elman, type ElmanOptions } from './elman.js';
export { lstm, type LstmOptions } from './lstm.js';
export { gru, type GruOptions } from './gru.js';
export type { Cell, CellConfig, CellKind, CellOptions, State } from './cell.js';
export { createCell, CELL_KINDS } from './kinds.js';
export { ELMAN_EQUATIONS } from './elman.js';
export { LSTM_EQUATIONS } from './lstm.js';
export { GRU_EQUATIONS } from './gru.js';
