/**
 * What every cell is: parameters keyed by the document's symbols, the state it starts from and
 * one step of its equations. The per-cell files (`elman.ts`, `lstm.ts`, `gru.ts`) hold only their
 * equations ({@link CellDefinition}); this file holds what they share.
 *
 * A cell with gates `[a, b, …]` has, for each gate `k`, the parameters
 *
 * | symbol  | shape               | acts as      |
 * |---------|---------------------|--------------|
 * | `W_kx`  | `[units, inputSize]`| `W_kx x_t`   |
 * | `W_kh`  | `[units, units]`    | `W_kh h_{t-1}` |
 * | `b_k`   | `[units]`           | `+ b_k`      |
 *
 * For a batch `X_t: [batch, inputSize]` the code computes `X_t W_kx^T`. The equations are written
 * over the affine terms of the gates ({@link Terms}): `a(k) = W_kx x_t + W_kh h_{t-1} + b_k`, the
 * gate's argument, or its two halves where the equations keep them apart. Here `cell.step`
 * computes each term from the per-symbol parameters, as written; a fast path (`src/fast/`) may
 * hand the same equations terms it computed for all gates at once.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, checkLive, checkPositiveInt, checkSeed, checkTensor, fmt, describe, show } from '../check/index.js';
import { freshSeed, initVariable, prng, type Initializer } from '../init.js';

export type CellKind = 'elman' | 'lstm' | 'gru';

/** The recurrent state: `{ h }`, or `{ h, c }` for the LSTM. Each `[batch, units]`. */
export type State = {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
};

/** Everything needed to rebuild a cell (its parameters aside). JSON-serialisable. */
export interface CellConfig {
  kind: CellKind;
  inputSize: number;
  units: number;
  /** f of the Elman cell; the tanh of the LSTM's g_t, tanh(c_t) and the GRU's n_t. */
  activation: string;
  /** σ of the LSTM and GRU gates (absent for the Elman cell). */
  recurrentActivation?: string;
  /** GRU only. */
  resetAfter?: boolean;
}

/**
 * The affine terms a step's equations are written over, for the gate `k` (the letter in the
 * symbols: `W_kx`, `W_kh`, `b_k`). Each is `[batch, units]`.
 */
export interface Terms {
  /** `W_kx x_t + W_kh h_{t-1} + b_k`: the gate's argument. */
  a(k: string): tf.Tensor2D;
  /** `W_kx x_t + b_k`: the input half. */
  x(k: string): tf.Tensor2D;
  /**
   * `W_kh v + b_kh`: the recurrent half, with `v = h_{t-1}` unless given (the GRU without
   * `resetAfter` applies `W_nh` to `r_t ⊙ h_{t-1}`); `b_kh` only where the cell has one (the
   * GRU's `b_nh`).
   */
  h(k: string, v?: tf.Tensor2D): tf.Tensor2D;
}

/**
 * Every quantity one step's equations name, by their symbols (`i_t`, `f_t`, …): the new state's
 * `h_t` (and `c_t`) among them. A hand-derived backward pass keeps the ones it needs.
 */
export type Quantities = { h_t: tf.Tensor2D; c_t?: tf.Tensor2D; [symbol: string]: tf.Tensor2D | undefined };

/** One step of a cell's equations: from the affine terms and the state before, every quantity. */
export type Equations = (terms: Terms, state: State) => Quantities;

/** A kind of cell, as its file writes it. */
export interface CellDefinition {
  kind: CellKind;
  /** Gate letters, in the order of every stacked layout (PyTorch's for the LSTM, Keras's for the GRU). */
  gates: readonly string[];
  /** `['h']` or `['h', 'c']`. */
  stateNames: readonly ('h' | 'c')[];
  /** The equations in LaTeX (the cell's TSDoc shows the same). */
  latex(config: CellConfig): string;
  /** The equations of a configuration (its activations, its form). */
  equations(config: CellConfig): Equations;
  /** Biases inside the recurrent half, by gate (the GRU's `{ n: 'b_nh' }` with `resetAfter`). */
  recurrentBias?(config: CellConfig): Record<string, string>;
  /** Initialisers that differ from the defaults (e.g. `{ b_f: 'ones' }`). */
  init?: Record<string, Initializer>;
}

export interface Cell {
  readonly kind: CellKind;
  readonly inputSize: number;
  readonly units: number;
  readonly config: CellConfig;
  /** Trainable parameters keyed by the document's symbols. */
  readonly params: Record<string, tf.Variable>;
  /** `['h']` or `['h', 'c']`. */
  readonly stateNames: readonly ('h' | 'c')[];
  /** The cell's equations in LaTeX. */
  readonly equations: string;
  /** Zeros of shape `[batch, units]` for every state entry. */
  initialState(batch: number): State;
  /** One application of the equations: `(x_t: [batch, inputSize], state) -> state`. */
  step(x_t: tf.Tensor2D, state: State): State;
  /** Disposes the parameters. */
  dispose(): void;
}

/** Options shared by all cell factories. */
export interface CellOptions {
  inputSize: number;
  units: number;
  /** Seed of the initial parameters; the same seed gives the same numbers. */
  seed?: number;
  /** Use these variables as the parameters instead of creating new ones (keys: the symbols). */
  params?: Record<string, tf.Variable>;
}

/** Most parameters a cell accepts: absurd sizes (units: 1e9) are refused before anything is allocated. */
export const MAX_CELL_PARAMS = 2 ** 28;

const CELL_OPTION_KEYS = ['inputSize', 'units', 'seed', 'params'] as const;

/**
 * The terms of {@link Terms} computed from the per-symbol parameters, as the equations write
 * them: `x_t W_kx^T + h W_kh^T + b_k` for a batch of rows.
 */
export function plainTerms(
  params: Record<string, tf.Tensor>,
  recurrentBias: Record<string, string>,
  x_t: tf.Tensor2D,
  h: tf.Tensor2D,
): Terms {
  const times = (v: tf.Tensor2D, W: tf.Tensor) => tf.matMul(v, W as tf.Tensor2D, false, true);
  const x = (k: string) => tf.add(times(x_t, params[`W_${k}x`]), params[`b_${k}`]) as tf.Tensor2D;
  const hk = (k: string, v: tf.Tensor2D = h) => {
    const Wv = times(v, params[`W_${k}h`]) as tf.Tensor2D;
    return recurrentBias[k] ? (tf.add(Wv, params[recurrentBias[k]]) as tf.Tensor2D) : Wv;
  };
  return { a: (k) => tf.add(x(k), hk(k)) as tf.Tensor2D, x, h: hk };
}

/** The state among a step's quantities. */
export function stateOf(q: Quantities): State {
  return q.c_t ? { h: q.h_t, c: q.c_t } : { h: q.h_t };
}

/**
 * The shape of every parameter a configuration has, keyed by symbol: `W_kx`, `W_kh`, `b_k` per
 * gate, plus the recurrent biases (the GRU's `b_nh` when `resetAfter`).
 */
export function shapesOf(def: CellDefinition, config: CellConfig): Map<string, number[]> {
  const { inputSize, units } = config;
  const shapes = new Map<string, number[]>();
  for (const k of def.gates) {
    shapes.set(`W_${k}x`, [units, inputSize]);
    shapes.set(`W_${k}h`, [units, units]);
    shapes.set(`b_${k}`, [units]);
  }
  for (const symbol of Object.values(def.recurrentBias?.(config) ?? {})) shapes.set(symbol, [units]);
  return shapes;
}

/** Checks the options every cell takes and the ones particular to `kind`. */
export function checkCellOptions(def: CellDefinition, options: CellOptions, extra: readonly string[]): void {
  const where = `cells.${def.kind}`;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected an options object { inputSize, units, ... }, got ${show(options)}`);
  }
  checkKeys(where, options, [...CELL_OPTION_KEYS, ...extra]);
  checkPositiveInt(where, 'inputSize', options.inputSize);
  checkPositiveInt(where, 'units', options.units);
  checkCellSize(where, def, options.inputSize, options.units);
  if (options.seed !== undefined) checkSeed(where, options.seed);
}

/** Refuses sizes whose parameters would exceed {@link MAX_CELL_PARAMS}, before anything is allocated. */
export function checkCellSize(where: string, def: CellDefinition, inputSize: number, units: number): void {
  const count = def.gates.length * units * (inputSize + units + 1);
  if (count > MAX_CELL_PARAMS) {
    throw new RangeError(
      `${where}: ${units} units with inputSize ${inputSize} make ${count} parameters, ` +
        `more than the ${MAX_CELL_PARAMS} (1 GiB of float32) a cell accepts`,
    );
  }
}

/** Builds a {@link Cell}: its parameters (new, or the given ones) and its equations. */
export function makeCell(def: CellDefinition, config: CellConfig, options: CellOptions): Cell {
  const { inputSize, units } = config;
  const where = `cells.${def.kind}`;
  const equations = def.equations(config); // refuses an unknown activation before any variable is made
  const shapes = shapesOf(def, config);
  const params = options.params ? adoptParams(where, options.params, shapes) : createParams(def, shapes, options.seed);
  const recurrentBias = def.recurrentBias?.(config) ?? {};

  const cell: Cell = {
    kind: def.kind,
    inputSize,
    units,
    config,
    params,
    stateNames: def.stateNames,
    equations: def.latex(config),
    initialState(batch: number): State {
      checkPositiveInt(`${where}.initialState`, 'batch', batch);
      return Object.fromEntries(def.stateNames.map((n) => [n, tf.zeros([batch, units])])) as unknown as State;
    },
    step(x_t: tf.Tensor2D, state: State): State {
      checkLive(`${where}.step`, 'the cell', Object.values(params));
      checkTensor(`${where}.step`, 'x_t', x_t, ['batch', inputSize]);
      checkState(`${where}.step`, cell, state, x_t.shape[0]);
      return tf.tidy(() => stateOf(equations(plainTerms(params, recurrentBias, x_t, state.h), state)));
    },
    dispose(): void {
      for (const p of Object.values(params)) p.dispose();
    },
  };
  return cell;
}

/** Refuses a value that is not a {@link Cell} (before any of its methods is called). */
export function checkCell(where: string, cell: unknown): Cell {
  const c = cell as Cell;
  const ok =
    c !== null &&
    typeof c === 'object' &&
    typeof c.step === 'function' &&
    typeof c.config === 'object' &&
    Number.isInteger(c.inputSize) &&
    Number.isInteger(c.units);
  if (!ok) throw new TypeError(`${where}: expected cell to be a Cell (rt.cells.elman/lstm/gru), got ${describe(cell)}`);
  checkLive(where, 'the cell', Object.values(c.params ?? {}));
  return c;
}

/** Checks that `state` has every entry the cell needs, each `[batch, units]`. */
export function checkState(where: string, cell: Cell, state: unknown, batch: number): State {
  if (state === null || typeof state !== 'object') {
    throw new TypeError(`${where}: expected state { ${cell.stateNames.join(', ')} }, got ${show(state)}`);
  }
  for (const name of cell.stateNames) {
    checkTensor(where, `state.${name}`, (state as Record<string, unknown>)[name], [batch, cell.units]);
  }
  return state as State;
}

function createParams(def: CellDefinition, shapes: Map<string, number[]>, seed?: number): Record<string, tf.Variable> {
  const rand = prng(seed ?? freshSeed());
  const params: Record<string, tf.Variable> = {};
  for (const [symbol, shape] of shapes) {
    const kind: Initializer =
      def.init?.[symbol] ?? (symbol.startsWith('b_') ? 'zeros' : symbol.endsWith('x') ? 'glorotUniform' : 'orthogonal');
    params[symbol] = initVariable(symbol, kind, shape, rand);
  }
  return params;
}

function adoptParams(
  where: string,
  given: Record<string, tf.Variable>,
  shapes: Map<string, number[]>,
): Record<string, tf.Variable> {
  const expected = [...shapes.keys()];
  const missing = expected.filter((k) => !(k in given));
  const extra = Object.keys(given).filter((k) => !shapes.has(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${where}: expected params ${expected.join(', ')}` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (extra.length ? `; unexpected ${extra.join(', ')}` : ''),
    );
  }
  for (const [symbol, shape] of shapes) {
    const p = given[symbol];
    if (!(p instanceof tf.Variable)) {
      throw new TypeError(`${where}: expected params.${symbol} to be a tf.Variable of shape ${fmt(shape)}`);
    }
    checkTensor(where, `params.${symbol}`, p, shape);
  }
  return Object.fromEntries(expected.map((k) => [k, given[k]]));
}
