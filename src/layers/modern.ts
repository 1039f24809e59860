/**
 * The modern cells as `tf.layers.Layer`s: minGRU, minLSTM, the LRU and IndRNN through the same
 * generic {@link RecurrentLayer} as the Elman cell, the LSTM and the GRU (same options, masks,
 * states, `goBackwards`, `stateful`, saving and loading), each with its class name. Training runs
 * each sequence as one scan where the cell's step is a linear recurrence (`src/fast/scan.ts`).
 *
 * Class names: `RecurrentMinGRU`, `RecurrentMinLSTM`, `RecurrentLRU`, `RecurrentIndRNN`.
 */
import { registerOnce } from './base.js';
import { RecurrentLayer, type LstmLayerArgs, type RecurrentLayerArgs } from './recurrent.js';

/** Options of a minGRU or minLSTM layer: f of the candidate (`activation`, default `'linear'`) and σ. */
export type MinLayerArgs = LstmLayerArgs;

/** Options of an LRU layer (it has no activation). */
export type LruLayerArgs = Omit<RecurrentLayerArgs, 'activation'>;

/** Options of an IndRNN layer: σ is `activation` (default `'relu'`; `'linear'` trains as a scan). */
export type IndRnnLayerArgs = RecurrentLayerArgs;

/** The minGRU (`rt.cells.mingru`) as a layer. */
export class RecurrentMinGRU extends RecurrentLayer {
  static className = 'RecurrentMinGRU';
  constructor(args: MinLayerArgs) {
    super('mingru', args);
  }
}

/** The minLSTM (`rt.cells.minlstm`) as a layer. */
export class RecurrentMinLSTM extends RecurrentLayer {
  static className = 'RecurrentMinLSTM';
  constructor(args: MinLayerArgs) {
    super('minlstm', args);
  }
}

/** The LRU (`rt.cells.lru`, `units` even) as a layer. */
export class RecurrentLRU extends RecurrentLayer {
  static className = 'RecurrentLRU';
  constructor(args: LruLayerArgs) {
    super('lru', args);
  }
}

/** IndRNN (`rt.cells.indrnn`) as a layer. */
export class RecurrentIndRNN extends RecurrentLayer {
  static className = 'RecurrentIndRNN';
  constructor(args: IndRnnLayerArgs) {
    super('indrnn', args);
  }
}

registerOnce(RecurrentMinGRU);
registerOnce(RecurrentMinLSTM);
registerOnce(RecurrentLRU);
registerOnce(RecurrentIndRNN);

/** A minGRU layer: `h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t` with gate and candidate from `x_t` alone. */
export function mingru(args: MinLayerArgs): RecurrentMinGRU {
  return new RecurrentMinGRU(args);
}

/** A minLSTM layer: `h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t` with normalised gates from `x_t` alone. */
export function minlstm(args: MinLayerArgs): RecurrentMinLSTM {
  return new RecurrentMinLSTM(args);
}

/** An LRU layer: a diagonal complex linear recurrence and a real read-out (`units` even). */
export function lru(args: LruLayerArgs): RecurrentLRU {
  return new RecurrentLRU(args);
}

/** An IndRNN layer: `h_t = σ(W_hx x_t + u_h ⊙ h_{t-1} + b_h)`. */
export function indrnn(args: IndRnnLayerArgs): RecurrentIndRNN {
  return new RecurrentIndRNN(args);
}
