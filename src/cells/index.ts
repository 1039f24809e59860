/** The cells: parameters plus one step of the equations, no loop. */
export { elman, type ElmanOptions } from './elman.js';
export { lstm, type LstmOptions } from './lstm.js';
export { gru, type GruOptions } from './gru.js';
export type { Cell, CellConfig, CellKind, CellOptions, LstmState, State } from './cell.js';
export { createCell, CELL_KINDS } from './kinds.js';
export { ELMAN_EQUATIONS } from './elman.js';
export { LSTM_EQUATIONS } from './lstm.js';
export { GRU_EQUATIONS } from './gru.js';
export { mingru, type MinGruOptions, MINGRU_EQUATIONS } from './mingru.js';
export { minlstm, type MinLstmOptions, MINLSTM_EQUATIONS } from './minlstm.js';
export type { MinimalCellOptions } from './minimal.js';
export { lru, type LruOptions, LRU_EQUATIONS } from './lru.js';
export { indrnn, type IndRnnOptions, INDRNN_EQUATIONS } from './indrnn.js';
