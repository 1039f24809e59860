/**
 * What every cell is: parameters keyed by the document's symbols plus one step of its
 * equations. The per-cell files (`elman.ts`, `lstm.ts`, `gru.ts`) hold only the equations;
 * this file holds the machinery they share: parameter creation, the fused weights and the
 * input projection.
 *
 * A cell with gates `[a, b, …]` has, for each gate `g`, the parameters
 *
 * | symbol  | shape               | acts as      |
 * |---------|---------------------|--------------|
 * | `W_gx`  | `[units, inputSize]`| `W_gx x_t`   |
 * | `W_gh`  | `[units, units]`    | `W_gh h_{t-1}` |
 * | `b_g`   | `[units]`           | `+ b_g`      |
 *
 * For a batch `X_t: [batch, inputSize]` the code computes `X_t W_gx^T`. The fast path
 * concatenates the per-gate matrices once per sequence (`fuse`), so all gates of a step take one
 * matMul; the stored parameters stay per symbol. The fused matrices are kept transposed
 * (`W^T`, the layout Keras calls a kernel), because a matMul with a transposed operand is about
 * ten times slower on the WASM backend than one without.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, checkPositiveInt, checkTensor, fmt } from '../check.js';
import { describe } from '../check-options.js';
import { matMul } from '../fast/matmul.js';
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

/** The per-gate matrices concatenated along the output axis and transposed, for one sequence. */
export interface FusedWeights {
  /** `W_x^T`: `[inputSize, gates * units]` */
  WxT: tf.Tensor2D;
  /** `W_h^T`: `[units, fusedGates * units]` */
  WhT: tf.Tensor2D;
  /** `b`: `[gates * units]` */
  b: tf.Tensor1D;
  /** `b_h`, the biases inside the recurrent term (GRU's `b_nh`): `[fusedGates * units]`, if any. */
  bh?: tf.Tensor1D;
}

/**
 * The hand-derived gradient of one step, for the whole-sequence fast path (`src/fast/`). Rows are
 * `n = steps * batch`; `xp = X W_x^T + b` and `hp = H W_h^T + b_h` as in {@link CellSpec.recur}.
 * The caller adds the matMul part of `dL/dh_{t-1}` (`dL/dhp_t W_h`) and the weight gradients.
 */
export interface CellBackward {
  /** One step, as `recur` computes it, plus the values its local derivatives need (`[batch, units]` each). */
  forward(xp: tf.Tensor2D, hp: tf.Tensor2D, state: State): { state: State; saved: Record<string, tf.Tensor> };
  /**
   * The local derivatives of every step, all steps at once, from the states before each step and
   * the values `forward` saved, stacked over the steps (`[n, units]` each).
   */
  factors(prev: State, saved: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  /**
   * One step back: from `g = dL/d state_t` (the part that flows through this step's equations) and
   * this step's factors, `dL/d hp_t` and the elementwise part of `dL/d state_{t-1}`.
   */
  step(g: State, f: Record<string, tf.Tensor>): { hp: tf.Tensor2D; prev: Partial<State> };
  /** `dL/d xp` of all steps from the stacked `g` and `dL/d hp`, where it is not `dL/d hp` itself. */
  xp?(g: State, hp: tf.Tensor2D, f: Record<string, tf.Tensor>): tf.Tensor2D;
}

export interface Cell {
  readonly kind: CellKind;
  readonly inputSize: number;
  readonly units: number;
  readonly config: CellConfig;
  /** Trainable parameters keyed by the document's symbols. */
  readonly params: Record<string, tf.Variable>;
  /** Gate letters in the order of the fused matrices (e.g. `['i', 'f', 'g', 'o']`). */
  readonly gates: readonly string[];
  /** `['h']` or `['h', 'c']`. */
  readonly stateNames: readonly ('h' | 'c')[];
  /** The cell's equations in LaTeX. */
  readonly equations: string;
  /** Zeros of shape `[batch, units]` for every state entry. */
  initialState(batch: number): State;
  /** One application of the equations: `(x_t: [batch, inputSize], state) -> state`. */
  step(x_t: tf.Tensor2D, state: State): State;
  /** The per-gate parameters concatenated (gradients flow back to the symbols). */
  fuse(): FusedWeights;
  /** `X W_x^T + b` for all gates at once: `[n, inputSize] -> [n, gates * units]`. */
  project(x: tf.Tensor2D, w: FusedWeights): tf.Tensor2D;
  /** `H W_h^T + b_h` for the fused gates: `[n, units] -> [n, fusedGates * units]`. */
  hidden(h: tf.Tensor2D, w: FusedWeights): tf.Tensor2D;
  /** One step from an input already projected by {@link Cell.project} (and `hp`, if computed). */
  recur(xp_t: tf.Tensor2D, state: State, w: FusedWeights, hp_t?: tf.Tensor2D): State;
  /** The hand-derived gradient of a step, where the cell's activations allow one (else undefined). */
  readonly backward?: CellBackward;
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

/** Gate letters of each kind, in the order of the fused matrices. */
export const GATES: Record<CellKind, readonly string[]> = {
  elman: ['h'],
  lstm: ['i', 'f', 'g', 'o'],
  gru: ['z', 'r', 'n'],
};

/**
 * The shape of every parameter a cell configuration has, keyed by symbol: `W_gx`, `W_gh`, `b_g`
 * per gate, plus the GRU's `b_nh` when `resetAfter`.
 */
export function paramShapes(config: CellConfig): Map<string, number[]> {
  const { inputSize, units } = config;
  const shapes = new Map<string, number[]>();
  for (const g of GATES[config.kind]) {
    shapes.set(`W_${g}x`, [units, inputSize]);
    shapes.set(`W_${g}h`, [units, units]);
    shapes.set(`b_${g}`, [units]);
  }
  if (config.kind === 'gru' && config.resetAfter !== false) shapes.set('b_nh', [units]);
  return shapes;
}

/** The equations of one cell, as its file states them. */
export interface CellSpec {
  kind: CellKind;
  /** Gates whose `W_gh` enters the one per-step matMul (default: all). */
  fusedRecurrent?: readonly string[];
  /** Biases inside the recurrent term `hp`, by gate (the GRU's `{ n: 'b_nh' }`). */
  recurrentBias?: Record<string, string>;
  stateNames: readonly ('h' | 'c')[];
  equations: string;
  /** Initialisers that differ from the defaults (e.g. `{ b_f: 'ones' }`). */
  init?: Record<string, Initializer>;
  config: CellConfig;
  /** The step, given `xp = X W_x^T + b` (all gates) and `hp = H W_h^T + b_h` (the fused gates). */
  recur(xp: tf.Tensor2D, hp: tf.Tensor2D, state: State, params: Record<string, tf.Variable>): State;
  /** The step's hand-derived gradient, where the cell's activations allow one. */
  backward?: CellBackward;
}

/** Most parameters a cell accepts: absurd sizes (units: 1e9) are refused before anything is allocated. */
export const MAX_CELL_PARAMS = 2 ** 28;

export const CELL_OPTION_KEYS = ['inputSize', 'units', 'seed', 'params'] as const;

/** Checks the options every cell takes and the ones particular to `kind`. */
export function checkCellOptions(kind: CellKind, options: CellOptions, extra: readonly string[]): void {
  const where = `cells.${kind}`;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected an options object { inputSize, units, ... }, got ${String(options)}`);
  }
  checkKeys(where, options, [...CELL_OPTION_KEYS, ...extra]);
  checkPositiveInt(where, 'inputSize', options.inputSize);
  checkPositiveInt(where, 'units', options.units);
  checkCellSize(where, kind, options.inputSize, options.units);
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    throw new RangeError(`${where}: expected seed to be a finite number, got ${String(options.seed)}`);
  }
}

/** Refuses sizes whose parameters would exceed {@link MAX_CELL_PARAMS}, before anything is allocated. */
export function checkCellSize(where: string, kind: CellKind, inputSize: number, units: number): void {
  const count = GATES[kind].length * units * (inputSize + units + 1);
  if (count > MAX_CELL_PARAMS) {
    throw new RangeError(
      `${where}: ${units} units with inputSize ${inputSize} make ${count} parameters, ` +
        `more than the ${MAX_CELL_PARAMS} (1 GiB of float32) a cell accepts`,
    );
  }
}

/** Builds a {@link Cell} from its equations. */
export function makeCell(spec: CellSpec, options: CellOptions): Cell {
  const { inputSize, units } = options;
  const where = `cells.${spec.kind}`;
  const gates = GATES[spec.kind];
  const shapes = paramShapes(spec.config);
  const params = options.params ? adoptParams(where, options.params, shapes) : createParams(spec, shapes, options.seed);
  const fusedRecurrent = spec.fusedRecurrent ?? gates;

  const recurrentBias = spec.recurrentBias ?? {};
  const fuse = (): FusedWeights =>
    tf.tidy(() => ({
      WxT: tf.transpose(tf.concat(gates.map((g) => params[`W_${g}x`]))) as tf.Tensor2D,
      WhT: tf.transpose(tf.concat(fusedRecurrent.map((g) => params[`W_${g}h`]))) as tf.Tensor2D,
      b: tf.concat(gates.map((g) => params[`b_${g}`])) as tf.Tensor1D,
      ...(fusedRecurrent.some((g) => recurrentBias[g]) && {
        bh: tf.concat(fusedRecurrent.map((g) => params[recurrentBias[g]] ?? tf.zeros([units]))) as tf.Tensor1D,
      }),
    }));
  const project = (x: tf.Tensor2D, w: FusedWeights): tf.Tensor2D => tf.tidy(() => matMul(x, w.WxT, false, false, w.b));
  const hidden = (h: tf.Tensor2D, w: FusedWeights): tf.Tensor2D => tf.tidy(() => matMul(h, w.WhT, false, false, w.bh));
  const recur = (xp: tf.Tensor2D, state: State, w: FusedWeights, hp?: tf.Tensor2D): State =>
    tf.tidy(() => spec.recur(xp, hp ?? hidden(state.h, w), state, params));

  const cell: Cell = {
    kind: spec.kind,
    inputSize,
    units,
    config: spec.config,
    params,
    gates,
    stateNames: spec.stateNames,
    equations: spec.equations,
    initialState(batch: number): State {
      checkPositiveInt(`${where}.initialState`, 'batch', batch);
      return Object.fromEntries(spec.stateNames.map((n) => [n, tf.zeros([batch, units])])) as unknown as State;
    },
    step(x_t: tf.Tensor2D, state: State): State {
      checkTensor(`${where}.step`, 'x_t', x_t, ['batch', inputSize]);
      checkState(`${where}.step`, cell, state, x_t.shape[0]);
      return tf.tidy(() => {
        const w = fuse();
        return recur(project(x_t, w), state, w);
      });
    },
    fuse,
    project,
    hidden,
    recur,
    backward: spec.backward,
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
    typeof c.fuse === 'function' &&
    typeof c.recur === 'function' &&
    Number.isInteger(c.inputSize) &&
    Number.isInteger(c.units);
  if (!ok) throw new TypeError(`${where}: expected cell to be a Cell (rt.cells.elman/lstm/gru), got ${describe(cell)}`);
  return c;
}

/** Checks that `state` has every entry the cell needs, each `[batch, units]`. */
export function checkState(where: string, cell: Cell, state: unknown, batch: number): State {
  if (state === null || typeof state !== 'object') {
    throw new TypeError(`${where}: expected state { ${cell.stateNames.join(', ')} }, got ${String(state)}`);
  }
  for (const name of cell.stateNames) {
    checkTensor(where, `state.${name}`, (state as Record<string, unknown>)[name], [batch, cell.units]);
  }
  return state as State;
}

function createParams(spec: CellSpec, shapes: Map<string, number[]>, seed?: number): Record<string, tf.Variable> {
  const rand = prng(seed ?? freshSeed());
  const params: Record<string, tf.Variable> = {};
  for (const [symbol, shape] of shapes) {
    const kind: Initializer =
      spec.init?.[symbol] ??
      (symbol.startsWith('b_') ? 'zeros' : symbol.endsWith('x') ? 'glorotUniform' : 'orthogonal');
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
