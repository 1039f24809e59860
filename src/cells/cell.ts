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
import {
  checkBoolean,
  checkKeys,
  checkLive,
  checkPositiveInt,
  checkSeed,
  checkTensor,
  fmt,
  describe,
  show,
} from '../check/index.js';
import { freshSeed, initVariable, prng, uniqueName, type Initializer } from '../init.js';
import { checkActivation } from '../activations.js';

export type CellKind = 'elman' | 'lstm' | 'gru' | 'mingru' | 'minlstm' | 'lru' | 'indrnn';

/** The recurrent state: `{ h }`, or `{ h, c }` for the LSTM. Each `[batch, units]`. */
export type State = {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
};

/** The LSTM's state: the hidden state `h` and the cell state `c`, each `[batch, units]`. */
export type LstmState = { h: tf.Tensor2D; c: tf.Tensor2D };

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
  /** `false`: no biases at all (no `b_k`, no recurrent `b_kh`); absent means `true`. */
  useBias?: boolean;
}

/** Options of one step beside the input and the state. */
export interface StepOptions {
  /**
   * `[batch, units]`: the recurrent dropout mask. The recurrent halves of the gates see
   * `h_{t-1} ⊙ m` (the GRU without `resetAfter`: `r_t ⊙ h_{t-1} ⊙ m`); the state carried forward
   * stays `h_{t-1}`.
   */
  recurrentMask?: tf.Tensor2D;
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
  /**
   * A parameter itself, by symbol, for equations that use one outside the gates' affine terms
   * (IndRNN's `u_h`, the LRU's `ν_log`, `B_re`, …). `cell.step` gives it; a fused fast path does not.
   */
  p?(symbol: string): tf.Tensor;
  /** `x_t` itself, for equations that use it outside `W_kx x_t + b_k` (the LRU's `B x_t`, `D x_t`). */
  input?: tf.Tensor2D;
  /**
   * `v W^T`, for the products the equations form outside the gates' affine terms (the LRU's
   * `B x_t`, `C s_t`, `D x_t`): the fast path gives its own, fast forward and back on every
   * backend; {@link productOf} where absent.
   */
  product?(v: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D;
}

/**
 * `terms.product`, else `v W^T` by tfjs's matMul with the transpose explicit (tfjs's wasm matMul
 * is several times slower with `transposeB`).
 */
export function productOf(terms: Terms): (v: tf.Tensor2D, W: tf.Tensor2D) => tf.Tensor2D {
  return terms.product ?? ((v, W) => tf.matMul(v, tf.transpose(W)));
}

/** The refusal of recurrent dropout by a cell with no recurrent matrix `W_kh` (minGRU, the LRU, IndRNN, …). */
export function noRecurrentHalf(where: string, kind: CellKind): Error {
  return new Error(
    `${where}: recurrent dropout needs a recurrent half (W_kh h_{t-1}) to drop, and a ${kind} cell has none`,
  );
}

/** `terms.p(symbol)`, or a clear error where the terms come without the parameters. */
export function paramOf(terms: Terms, symbol: string): tf.Tensor {
  if (!terms.p) throw new Error(`cells: the equations need the parameter ${symbol}, which these terms do not carry`);
  return terms.p(symbol);
}

/** `terms.input`, or a clear error where the terms come without `x_t`. */
export function inputOf(terms: Terms): tf.Tensor2D {
  if (!terms.input) throw new Error('cells: the equations need x_t itself, which these terms do not carry');
  return terms.input;
}

/**
 * Every quantity one step's equations name, by their symbols (`i_t`, `f_t`, …): the new state's
 * `h_t` (and `c_t`) among them. A hand-derived backward pass keeps the ones it needs.
 */
export type Quantities = { h_t: tf.Tensor2D; c_t?: tf.Tensor2D; [symbol: string]: tf.Tensor2D | undefined };

/** One step of a cell's equations: from the affine terms and the state before, every quantity. */
export type Equations = (terms: Terms, state: State) => Quantities;

/**
 * A step that is the linear recurrence `s_t = a_t ⊙ s_{t-1} + b_t`, with `a_t` and `b_t` free of
 * the state (minGRU, minLSTM, the LRU, IndRNN with a linear σ): a scan over all steps at once
 * (`src/fast/scan.ts`) then computes the states the step loop computes.
 */
export interface LinearForm {
  /** The state entry that is `s` (`'h'`; the LRU's `'c'`, its complex state). */
  state: 'h' | 'c';
  /** Whether `s`, `a` and `b` are complex, each as `[Re, Im]` halves of its last axis. */
  complex: boolean;
  /**
   * `a_t` and `b_t` from the input halves `x(k)` and parameters `p` of any number of rows (steps
   * stacked): `b: [rows, units]`, `a: [rows, units]`, or `[units]` where it is the same at every step.
   */
  coefficients(terms: Terms): { a: tf.Tensor; b: tf.Tensor2D };
  /** `h_t` from `s_t` and the terms of the same rows, where `h_t` is not `s_t` (the LRU's read-out). */
  output?(s: tf.Tensor2D, terms: Terms): tf.Tensor2D;
}

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
  /**
   * Where the parameters are not `W_kx`, `W_kh`, `b_k` per gate (minGRU, LRU, IndRNN, …): the
   * shape of every parameter, by symbol. The equations read those outside the gates' input
   * halves `x(k)` with `terms.p`.
   */
  shapes?(sizes: { inputSize: number; units: number }): Map<string, number[]>;
  /** The step as a linear recurrence, where the configuration makes it one. */
  linear?(config: CellConfig): LinearForm | undefined;
  /** Initial values a cell draws itself (e.g. the LRU's related ν_log, θ_log, γ_log), by symbol. */
  initial?(shapes: Map<string, number[]>, rand: () => number): Record<string, Float32Array>;
}

/** A cell; `S` is its state's type (`rt.cells.lstm` gives a `Cell<LstmState>`, whose state has `c`). */
export interface Cell<S extends State = State> {
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
  initialState(batch: number): S;
  /** One application of the equations: `(x_t: [batch, inputSize], state) -> state`. */
  step(x_t: tf.Tensor2D, state: State, options?: StepOptions): S;
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
 * them: `x_t W_kx^T + h W_kh^T + b_k` for a batch of rows (no `b_k` where the cell has none;
 * `(h ⊙ m) W_kh^T` with a recurrent mask `m`).
 */
export function plainTerms(
  params: Record<string, tf.Tensor>,
  recurrentBias: Record<string, string>,
  x_t: tf.Tensor2D,
  h: tf.Tensor2D,
  recurrentMask?: tf.Tensor2D,
): Terms {
  const times = (v: tf.Tensor2D, W: tf.Tensor) => tf.matMul(v, W as tf.Tensor2D, false, true);
  const x = (k: string) => {
    const Wx = times(x_t, params[`W_${k}x`]) as tf.Tensor2D;
    const b = params[`b_${k}`];
    return b ? (tf.add(Wx, b) as tf.Tensor2D) : Wx;
  };
  const hk = (k: string, v: tf.Tensor2D = h) => {
    const Wv = times(recurrentMask ? tf.mul(v, recurrentMask) : v, params[`W_${k}h`]) as tf.Tensor2D;
    return recurrentBias[k] ? (tf.add(Wv, params[recurrentBias[k]]) as tf.Tensor2D) : Wv;
  };
  return { a: (k) => tf.add(x(k), hk(k)) as tf.Tensor2D, x, h: hk, p: (symbol) => params[symbol], input: x_t };
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
  if (def.shapes) return def.shapes(config);
  const { inputSize, units } = config;
  const shapes = new Map<string, number[]>();
  for (const k of def.gates) {
    shapes.set(`W_${k}x`, [units, inputSize]);
    shapes.set(`W_${k}h`, [units, units]);
    if (config.useBias !== false) shapes.set(`b_${k}`, [units]);
  }
  for (const symbol of Object.values(recurrentBiasOf(def, config))) shapes.set(symbol, [units]);
  return shapes;
}

/**
 * The `useBias` option of a cell factory, checked, as it enters the {@link CellConfig}: nothing
 * for the default (`true`, so configs saved before the option existed read the same), or
 * `{ useBias: false }`.
 */
export function biasConfig(where: string, useBias: unknown): { useBias?: false } {
  if (useBias === undefined) return {};
  return checkBoolean(where, 'useBias', useBias) ? {} : { useBias: false };
}

/** The biases inside the recurrent half, by gate: none without biases (`useBias: false`). */
export function recurrentBiasOf(def: CellDefinition, config: CellConfig): Record<string, string> {
  return config.useBias === false ? {} : (def.recurrentBias?.(config) ?? {});
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
  const count = def.shapes
    ? [...def.shapes({ inputSize, units }).values()].reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0)
    : def.gates.length * units * (inputSize + units + 1);
  if (count > MAX_CELL_PARAMS) {
    throw new RangeError(
      `${where}: ${units} units with inputSize ${inputSize} make ${count} parameters, ` +
        `more than the ${MAX_CELL_PARAMS} (1 GiB of float32) a cell accepts`,
    );
  }
}

/**
 * A configuration's equations in LaTeX: without biases (`useBias: false`) the terms `+ b_k` are
 * not in them, as they are not in the step.
 */
function latexOf(def: CellDefinition, config: CellConfig): string {
  const latex = def.latex(config);
  return config.useBias === false ? latex.replace(/ \+ b_(\{[a-z]+\}|[a-z])/g, '') : latex;
}

/** Builds a {@link Cell}: its parameters (new, or the given ones) and its equations. */
export function makeCell(def: CellDefinition, config: CellConfig, options: CellOptions): Cell {
  const { inputSize, units } = config;
  const where = `cells.${def.kind}`;
  // Unknown activations are refused, naming the option, before any variable is made.
  for (const key of ['activation', 'recurrentActivation'] as const) {
    if (config[key] !== undefined) checkActivation(where, key, config[key]);
  }
  const equations = def.equations(config);
  const shapes = shapesOf(def, config);
  const params = options.params ? adoptParams(where, options.params, shapes) : createParams(def, shapes, options.seed);
  const recurrentBias = recurrentBiasOf(def, config);

  const cell: Cell = {
    kind: def.kind,
    inputSize,
    units,
    config,
    params,
    stateNames: def.stateNames,
    equations: latexOf(def, config),
    initialState(batch: number): State {
      checkPositiveInt(`${where}.initialState`, 'batch', batch);
      // tf.fill runs on the backend; tf.zeros makes its values in JavaScript (on a GPU, an upload per call).
      return Object.fromEntries(def.stateNames.map((n) => [n, tf.fill([batch, units], 0)])) as unknown as State;
    },
    step(x_t: tf.Tensor2D, state: State, stepOptions: StepOptions = {}): State {
      checkLive(`${where}.step`, 'the cell', Object.values(params));
      checkTensor(`${where}.step`, 'x_t', x_t, ['batch', inputSize]);
      checkState(`${where}.step`, cell, state, x_t.shape[0]);
      const m = stepOptions.recurrentMask;
      if (m !== undefined) checkTensor(`${where}.step`, 'recurrentMask', m, [x_t.shape[0], units]);
      if (m !== undefined && ![...shapes.keys()].some((s) => /^W_\w+h$/.test(s)))
        throw noRecurrentHalf(where, def.kind);
      return tf.tidy(() => stateOf(equations(plainTerms(params, recurrentBias, x_t, state.h, m), state)));
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
  const drawn = def.initial?.(shapes, rand) ?? {};
  for (const [symbol, shape] of shapes) {
    if (drawn[symbol]) {
      const value = tf.tensor(drawn[symbol], shape);
      params[symbol] = tf.variable(value, true, uniqueName(symbol));
      value.dispose();
      continue;
    }
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
  if (given === null || typeof given !== 'object') {
    throw new TypeError(
      `${where}: expected params to be an object of tf.Variables keyed by symbol, got ${describe(given)}`,
    );
  }
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
