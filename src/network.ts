/**
 * The document's whole model: a recurrent cell and the output function
 *
 * $$
 * \begin{aligned}
 * h_t &= \mathrm{cell}(x_t, h_{t-1}) \\
 * y_t &= g(W_{yh} h_t + b_y)
 * \end{aligned}
 * $$
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_yh` | `[outputSize, units]` | output weights (Glorot uniform) |
 * | `b_y`  | `[outputSize]` | output bias (zeros) |
 *
 * `x: [batch, time, inputSize]` gives `y: [batch, time, outputSize]`.
 *
 * Stacked and bidirectional (PyTorch's `num_layers`, `bidirectional`): layer 0 reads `x_t`,
 * layer l > 0 reads layer l-1's outputs; a bidirectional layer runs a second cell from the last
 * step to the first and outputs $[\overrightarrow{h}_t; \overleftarrow{h}_t]$, so the output
 * function reads the top layer's $h_t$ of `directions * units` features (`W_yh: [outputSize,
 * directions * units]`). With `dropout`, each layer's outputs but the top's are dropped out while
 * training (as PyTorch). Each cell runs through `unroll` (its fast path). Parameter keys: see
 * `io/stack.ts` (`W_ix` for layer 0, `l1.W_ix`, `l0_reverse.W_ix`, …).
 */
import * as tf from '@tensorflow/tfjs';
import { checkActivation, getActivation } from './activations.js';
import { biasConfig, checkCell, MAX_CELL_PARAMS, type Cell, type CellKind, type State } from './cells/cell.js';
import { createCell, CELL_KINDS, DEFAULT_ACTIVATION } from './cells/kinds.js';
import {
  checkBoolean,
  checkKeys,
  checkLive,
  checkOneOf,
  checkPositiveInt,
  checkSequence,
  checkTensor,
  inapplicable,
  show,
} from './check/index.js';
import { freshSeed, initVariable, prng } from './init.js';
import { toLayersModel } from './interop/layers-model.js';
import { saveNetwork, type NetworkConfig, type SavedNetwork } from './io/artifacts.js';
import { cellPositions, prefixOf, splitByPosition } from './io/stack.js';
import { applyOutput } from './output.js';
import { stepper, type Stepper } from './stepper.js';
import { unroll } from './unroll.js';

export type { NetworkConfig } from './io/artifacts.js';

export interface NetworkOptions {
  /** A cell kind, or a cell already built (its inputSize and units then apply). */
  cell: CellKind | Cell;
  inputSize?: number;
  units?: number;
  outputSize: number;
  /** f of the Elman cell, tanh of the LSTM/GRU (default `'tanh'`). */
  activation?: string;
  /** σ of the LSTM/GRU gates (default `'sigmoid'`). */
  recurrentActivation?: string;
  /** g (default `'linear'`). */
  outputActivation?: string;
  /** GRU only (default `true`). */
  resetAfter?: boolean;
  /** `false`: cells without biases (no `b_k`, no `b_nh`; `b_y` stays), as PyTorch's `bias=False` (default `true`). */
  useBias?: boolean;
  seed?: number;
  /** Recurrent layers stacked (PyTorch's `num_layers`; default 1): layer l > 0 reads layer l-1's outputs. */
  layers?: number;
  /** A second cell per layer reads the sequence backwards; a layer outputs `[h→_t; h←_t]` (default `false`). */
  bidirectional?: boolean;
  /**
   * Dropout probability on the outputs of every layer but the top one, while training only
   * (PyTorch's `dropout`; default 0). Acts only with `layers` > 1, as in PyTorch.
   */
  dropout?: number;
}

/** Options of {@link RecurrentNetwork.apply}. */
export interface ApplyOptions {
  /**
   * The state before the first step. One layer, one direction: a {@link State} (`{ h }` or
   * `{ h, c }`, each `[batch, units]`), or an array of that one state. Otherwise an array of
   * `layers * directions` states, in PyTorch's order `[l0, l0_reverse, l1, l1_reverse, …]`
   * (PyTorch's `h_0[k]` is entry k's `h`). Default: zeros.
   */
  initialState?: State | State[];
  /** Dropout between layers acts only while training (default `false`). */
  training?: boolean;
  /**
   * A hook on the top layer's hidden states, as `unroll`'s `probe` (diagnostics read
   * `∂L/∂h_t` with it): `probe(t, h_t, reverse)` replaces `h_t` of the forward (or, with
   * `reverse`, the backward) cell at step t (input order).
   */
  probe?: (t: number, h: tf.Tensor2D, reverse: boolean) => tf.Tensor2D;
}

export type ApplyResult = {
  /** `[batch, time, outputSize]` */
  y: tf.Tensor3D;
  /**
   * The cell's state after the last step, for a network of one layer in one direction. A
   * stacked or bidirectional network has several: reading `state` there throws and names
   * `states`.
   */
  state: State;
  /** The state of every cell after its last step, in PyTorch's order `[l0, l0_reverse, l1, …]`. */
  states: State[];
};

const NETWORK_KEYS = [
  'cell',
  'inputSize',
  'units',
  'outputSize',
  'activation',
  'recurrentActivation',
  'outputActivation',
  'resetAfter',
  'useBias',
  'seed',
  'layers',
  'bidirectional',
  'dropout',
];

/** The cells of a network: `cells[layer][0]` forward, `cells[layer][1]` reverse (bidirectional). */
export type NetworkCells = readonly (readonly Cell[])[];

/** Options of the {@link RecurrentNetwork} constructor beyond its cells and output. */
export interface NetworkStackOptions {
  /** Dropout between layers while training (default 0). */
  dropout?: number;
  /** Seeds the dropout masks (default: a fresh seed). */
  seed?: number;
}

/**
 * Cells plus `y_t = g(W_yh h_t + b_y)`: one cell, or stacked layers of one or two directions.
 * Build one with {@link network}.
 */
export class RecurrentNetwork {
  /** `cells[layer][0]` forward, `cells[layer][1]` reverse (bidirectional). */
  readonly cells: NetworkCells;
  readonly outputSize: number;
  readonly outputActivation: string;
  /** Dropout probability between layers while training (0: none). */
  readonly dropout: number;
  /** The output weights `W_yh` (`[outputSize, directions * units]`) and `b_y`. */
  readonly outputParams: { W_yh: tf.Variable; b_y: tf.Variable };
  private readonly g: (x: tf.Tensor) => tf.Tensor;
  private dropoutSeed: number;
  /**
   * Set to true (in an `rt.train` callback, as on a tf.LayersModel in `fit`) to stop training
   * after the current batch. `rt.train` sets it to false when it starts.
   */
  stopTraining = false;

  /**
   * `cells`: one cell, or the cells of every layer (`[[forward], …]` or `[[forward, reverse], …]`),
   * all of one kind and size, layer l > 0 reading `directions * units` inputs.
   */
  constructor(
    cells: Cell | NetworkCells,
    outputSize: number,
    outputActivation: string,
    outputParams: { W_yh: tf.Variable; b_y: tf.Variable },
    options: NetworkStackOptions = {},
  ) {
    this.cells = Array.isArray(cells) ? checkCells(cells as NetworkCells) : [[cells as Cell]];
    this.outputSize = outputSize;
    this.outputActivation = outputActivation;
    this.g = getActivation(outputActivation);
    checkTensor('network', 'W_yh', outputParams.W_yh, [outputSize, this.directions * this.units]);
    checkTensor('network', 'b_y', outputParams.b_y, [outputSize]);
    this.outputParams = outputParams;
    this.dropout = checkDropout('network', options.dropout ?? 0);
    this.dropoutSeed = options.seed ?? freshSeed();
  }

  /**
   * The cell of a one-layer, one-direction network. A stacked or bidirectional network has
   * several: there this throws and names {@link cells}.
   */
  get cell(): Cell {
    if (this.layers > 1 || this.directions > 1) {
      throw new Error(
        `net.cell: this network has ${this.layers} layer(s) in ${this.directions} direction(s), one cell each; ` +
          'read net.cells[layer][direction] (direction 1: reverse)',
      );
    }
    return this.cells[0][0];
  }

  /** Stacked layers (PyTorch's `num_layers`). */
  get layers(): number {
    return this.cells.length;
  }

  /** Whether every layer has a reverse cell. */
  get bidirectional(): boolean {
    return this.directions === 2;
  }

  /** 1, or 2 when bidirectional. */
  get directions(): 1 | 2 {
    return this.cells[0].length as 1 | 2;
  }

  get inputSize(): number {
    return this.cells[0][0].inputSize;
  }

  /** The units of each cell (the top layer's `h_t` has `directions * units` features). */
  get units(): number {
    return this.cells[0][0].units;
  }

  /**
   * Every cell's parameters and `W_yh`, `b_y`, keyed by symbol: plain for layer 0's forward
   * cell (`W_ix`, …), prefixed for the others (`l0_reverse.W_ix`, `l1.W_ix`, …).
   */
  get params(): Record<string, tf.Variable> {
    const params: Record<string, tf.Variable> = {};
    this.cells.forEach((layer, l) =>
      layer.forEach((cell, d) => {
        for (const [symbol, p] of Object.entries(cell.params)) params[prefixOf(l, d === 1) + symbol] = p;
      }),
    );
    return { ...params, ...this.outputParams };
  }

  /** The configuration `model.json` stores (`layers`, `bidirectional`, `dropout` only beyond one plain layer). */
  get config(): NetworkConfig {
    const cell = this.cells[0][0].config;
    const plain = { cell, outputSize: this.outputSize, outputActivation: this.outputActivation };
    if (this.layers === 1 && this.directions === 1 && this.dropout === 0) return plain;
    return { ...plain, layers: this.layers, bidirectional: this.bidirectional, dropout: this.dropout };
  }

  /**
   * Runs the cells over `x`, layer by layer, and the output function at every step. See
   * {@link ApplyOptions} for the initial states (one per cell) and `training` (dropout).
   */
  apply(x: tf.Tensor, options: ApplyOptions = {}): ApplyResult {
    const where = 'net.apply';
    checkLive(where, 'the network', Object.values(this.params));
    checkKeys(where, options, ['initialState', 'training', 'probe']);
    checkSequence(where, 'x', x, this.inputSize);
    const initial = options.initialState === undefined ? undefined : this.initialStates(where, options.initialState);
    const training = options.training === undefined ? false : checkBoolean(where, 'training', options.training);
    const { probe } = options;
    const top = this.layers - 1;
    // Dropout masks: one seed per training call (the network's seed, counted up), one stream per layer.
    const seed = training && this.dropout > 0 && top > 0 ? this.dropoutSeed++ : null;
    const { y, states } = tf.tidy(() => {
      const states: State[] = [];
      let input = x;
      this.cells.forEach((layer, l) => {
        const outputs = layer.map((cell, d) => {
          const reverse = d === 1;
          const run = unroll(cell, input, {
            initialState: initial?.[states.length],
            reverse,
            probe: probe && l === top ? (t, h) => probe(t, h, reverse) : undefined,
          });
          states.push(run.state);
          return run.outputs;
        });
        input = outputs.length === 1 ? outputs[0] : tf.concat(outputs, 2);
        if (seed !== null && l < top) input = tf.dropout(input, this.dropout, undefined, seed * 1009 + l);
      });
      return { y: this.output(input as tf.Tensor3D), states };
    });
    if (states.length === 1) return { y, state: states[0], states };
    const result = { y, states } as ApplyResult;
    Object.defineProperty(result, 'state', {
      enumerable: false,
      get: () => {
        throw new Error(
          `net.apply: this network has ${states.length} cells (${this.layers} layer(s), ${this.directions} ` +
            'direction(s)), one state each: read result.states ([l0, l0_reverse, l1, …])',
        );
      },
    });
    return result;
  }

  /** The initial states as an array, one per cell (each then checked by `unroll`). */
  private initialStates(where: string, given: State | State[]): State[] {
    const count = this.layers * this.directions;
    if (!Array.isArray(given)) {
      if (count === 1) return [given];
      throw new TypeError(
        `${where}: this network has ${count} cells (${this.layers} layer(s), ${this.directions} direction(s)): ` +
          `expected initialState to be an array of ${count} states [l0${this.bidirectional ? ', l0_reverse' : ''}, …], ` +
          `got ${show(given)}`,
      );
    }
    if (given.length !== count) {
      throw new RangeError(
        `${where}: expected initialState to hold ${count} states (one per layer and direction), got ${given.length}`,
      );
    }
    return given;
  }

  /** `y_t = g(W_yh h_t + b_y)` for `h: [batch, time, units]` (or `[batch, units]`). */
  output<T extends tf.Tensor>(h: T): T {
    return applyOutput(h, this.outputParams.W_yh, this.outputParams.b_y, this.g);
  }

  /** `y` at every step, `[batch, time, outputSize]` (checked as {@link apply} checks, under its name). */
  predict(x: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.apply(x).y);
  }

  /**
   * This network run one time step at a time (batch 1) for streaming: `step(x_t)` gives `y_t` as
   * {@link apply} would at that step, the state kept between calls; `reset()`, `dispose()`. The
   * weights are read when it is made. One direction only. See {@link Stepper}.
   */
  stepper(): Stepper {
    checkLive('net.stepper', 'the network', Object.values(this.params));
    return stepper(this);
  }

  /** Saves to a tf.io handler or URL (`file://dir` in Node, `indexeddb://name`, `downloads://`). */
  async save(handlerOrUrl: string | tf.io.IOHandler): Promise<tf.io.SaveResult> {
    return saveNetwork(this, handlerOrUrl);
  }

  /** The same model built from tfjs's own layers (see `toLayersModel` in `interop/`). */
  toLayersModel(): tf.LayersModel {
    return toLayersModel(this);
  }

  dispose(): void {
    for (const layer of this.cells) for (const cell of layer) cell.dispose();
    this.outputParams.W_yh.dispose();
    this.outputParams.b_y.dispose();
  }
}

/** Builds a {@link RecurrentNetwork}. */
export function network(options: NetworkOptions): RecurrentNetwork {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`network: expected options { cell, inputSize, units, outputSize, ... }, got ${show(options)}`);
  }
  checkKeys('network', options, NETWORK_KEYS);
  checkApplicable(options);
  // The output and stacking options first: a refusal then leaves no cell behind.
  const outputSize = checkPositiveInt('network', 'outputSize', options.outputSize);
  const outputActivation = checkActivation('network', 'outputActivation', options.outputActivation ?? 'linear');
  const layers = options.layers === undefined ? 1 : checkPositiveInt('network', 'layers', options.layers);
  if (layers > MAX_LAYERS) {
    throw new RangeError(`network: expected layers to be at most ${MAX_LAYERS}, got ${layers}`);
  }
  const bidirectional =
    options.bidirectional === undefined ? false : checkBoolean('network', 'bidirectional', options.bidirectional);
  const dropout = checkDropout('network', options.dropout ?? 0);
  if (dropout > 0 && layers === 1) {
    throw inapplicable('network', 'dropout', dropout, 'to one layer (it acts between stacked layers, as in PyTorch)');
  }
  const seed = options.seed ?? freshSeed();
  const directions = bidirectional ? 2 : 1;
  // A kind by name (anything but an object is refused as an unknown kind), or a Cell object.
  let cells: Cell[][];
  if (options.cell === null || typeof options.cell !== 'object') {
    const kind = checkOneOf('network', 'cell', options.cell, CELL_KINDS);
    const cell = {
      kind,
      inputSize: checkPositiveInt('network', 'inputSize', options.inputSize),
      units: checkPositiveInt('network', 'units', options.units),
      activation: options.activation ?? DEFAULT_ACTIVATION[kind],
      recurrentActivation: options.recurrentActivation,
      resetAfter: options.resetAfter,
      ...biasConfig('network', options.useBias),
    };
    checkOutputSize(outputSize, directions * cell.units);
    const positions = cellPositions({ cell, outputSize, outputActivation, layers, bidirectional });
    // Layer 0's forward cell takes the seed itself, so that a one-layer network keeps its numbers.
    const made: Cell[] = [];
    try {
      for (const [i, p] of positions.entries()) made.push(createCell(p.config, { seed: seed + 104729 * i }));
    } catch (err) {
      for (const c of made) c.dispose();
      throw err;
    }
    cells = Array.from({ length: layers }, (_, l) => made.slice(l * directions, (l + 1) * directions));
  } else {
    cells = [[checkCell('network', options.cell)]];
    checkOutputSize(outputSize, cells[0][0].units);
  }
  const rand = prng(seed + 7919);
  return new RecurrentNetwork(
    cells,
    outputSize,
    outputActivation,
    {
      W_yh: initVariable('W_yh', 'glorotUniform', [outputSize, directions * cells[0][0].units], rand),
      b_y: initVariable('b_y', 'zeros', [outputSize], rand),
    },
    { dropout, seed },
  );
}

/** The most stacked layers a network takes (an absurd count is refused before any cell is made). */
const MAX_LAYERS = 1024;

/** Refuses an output matrix `W_yh: [outputSize, inputs]` larger than a cell may be, before it is allocated. */
function checkOutputSize(outputSize: number, inputs: number): void {
  if (outputSize * inputs > MAX_CELL_PARAMS) {
    throw new RangeError(
      `network: outputSize ${outputSize} with ${inputs} hidden features makes a W_yh of ${outputSize * inputs} ` +
        `entries, more than the ${MAX_CELL_PARAMS} a network accepts`,
    );
  }
}

/** A dropout probability: a number in [0, 1). */
function checkDropout(where: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new RangeError(`${where}: expected dropout to be a number in [0, 1), got ${show(value)}`);
  }
  return value;
}

/** Refuses cells that do not make a network: every layer one or two cells, one kind and size, inputs chained. */
function checkCells(cells: NetworkCells): NetworkCells {
  const where = 'network';
  if (cells.length === 0 || !cells.every((layer) => Array.isArray(layer))) {
    throw new TypeError(`${where}: expected cells to be a non-empty array of layers (arrays of 1 or 2 cells)`);
  }
  const directions = cells[0].length;
  const first = checkCell(where, cells[0][0]);
  cells.forEach((layer, l) => {
    if (layer.length !== directions || directions > 2) {
      throw new RangeError(
        `${where}: expected every layer to hold the same 1 or 2 cells (forward, reverse); ` +
          `layer 0 holds ${directions}, layer ${l} ${layer.length}`,
      );
    }
    layer.forEach((c, d) => {
      const cell = checkCell(where, c);
      const inputSize = l === 0 ? first.inputSize : directions * first.units;
      const expected = JSON.stringify({ ...first.config, inputSize });
      if (JSON.stringify(cell.config) !== expected) {
        throw new Error(
          `${where}: the cell of layer ${l}${d === 1 ? ' (reverse)' : ''} has config ${JSON.stringify(cell.config)}, ` +
            `expected ${expected}`,
        );
      }
    });
  });
  return cells;
}

/**
 * Refuses options that do not apply to the cell asked for, rather than ignoring them:
 * `resetAfter` beyond the GRU, `recurrentActivation` on the Elman cell, and beside a Cell object
 * any cell option (the cell's own apply) except `inputSize`/`units` equal to its sizes.
 */
function checkApplicable(options: NetworkOptions): void {
  const given = (key: keyof NetworkOptions) => options[key] !== undefined;
  const { cell } = options;
  if (cell !== null && typeof cell === 'object') {
    for (const key of ['layers', 'bidirectional'] as const) {
      if (given(key) && options[key] !== (key === 'layers' ? 1 : false)) {
        throw inapplicable('network', key, options[key], 'beside a Cell object (give a cell kind to stack or reverse)');
      }
    }
    for (const key of ['inputSize', 'units'] as const) {
      if (given(key) && options[key] !== (cell as Cell)[key]) {
        throw inapplicable(
          'network',
          key,
          options[key],
          `beside a Cell object, whose ${key} is ${show((cell as Cell)[key])}`,
        );
      }
    }
    for (const key of ['activation', 'recurrentActivation', 'resetAfter', 'useBias'] as const) {
      if (given(key))
        throw inapplicable('network', key, options[key], 'beside a Cell object (set it when building the cell)');
    }
    return;
  }
  if (!CELL_KINDS.includes(cell)) return; // refused as an unknown kind when the cell is built
  if (given('resetAfter') && cell !== 'gru') {
    throw inapplicable('network', 'resetAfter', options.resetAfter, `to cell ${show(cell)} (only to 'gru')`);
  }
  if (given('recurrentActivation') && cell === 'elman') {
    throw inapplicable(
      'network',
      'recurrentActivation',
      options.recurrentActivation,
      "to cell 'elman' (it has no gates; its f is activation)",
    );
  }
}

/** The network that a {@link SavedNetwork} (read by `io/`) describes, holding its variables. */
export function networkFromSaved({ config, params }: SavedNetwork): RecurrentNetwork {
  const { W_yh, b_y, ...cellParams } = params;
  const positions = cellPositions(config);
  const { own, rest } = splitByPosition(positions, cellParams);
  const extra = Object.keys(rest);
  if (extra.length) throw new Error(`network: unexpected params ${extra.join(', ')}`);
  const made = positions.map((p, i) => {
    try {
      return createCell(p.config, { params: own[i] });
    } catch (err) {
      throw new Error(`network: the cell ${p.prefix || 'of layer 0'}: ${(err as Error).message}`);
    }
  });
  const d = config.bidirectional ? 2 : 1;
  const cells = Array.from({ length: config.layers ?? 1 }, (_, l) => made.slice(l * d, (l + 1) * d));
  return new RecurrentNetwork(cells, config.outputSize, config.outputActivation, { W_yh, b_y }, config);
}
