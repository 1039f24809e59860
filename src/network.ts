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
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from './activations.js';
import { checkCell, type Cell, type CellKind, type State } from './cells/cell.js';
import { createCell, CELL_KINDS } from './cells/kinds.js';
import {
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
import { applyOutput } from './output.js';
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
  seed?: number;
}

export type ApplyResult = {
  /** `[batch, time, outputSize]` */
  y: tf.Tensor3D;
  /** The cell's state after the last step. */
  state: State;
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
  'seed',
];

/** A cell plus `y_t = g(W_yh h_t + b_y)`. Build one with {@link network}. */
export class RecurrentNetwork {
  readonly cell: Cell;
  readonly outputSize: number;
  readonly outputActivation: string;
  /** The output weights `W_yh` and `b_y`. */
  readonly outputParams: { W_yh: tf.Variable; b_y: tf.Variable };
  private readonly g: (x: tf.Tensor) => tf.Tensor;
  /**
   * Set to true (in an `rt.train` callback, as on a tf.LayersModel in `fit`) to stop training
   * after the current batch. `rt.train` sets it to false when it starts.
   */
  stopTraining = false;

  constructor(
    cell: Cell,
    outputSize: number,
    outputActivation: string,
    outputParams: { W_yh: tf.Variable; b_y: tf.Variable },
  ) {
    this.cell = cell;
    this.outputSize = outputSize;
    this.outputActivation = outputActivation;
    this.g = getActivation(outputActivation);
    checkTensor('network', 'W_yh', outputParams.W_yh, [outputSize, cell.units]);
    checkTensor('network', 'b_y', outputParams.b_y, [outputSize]);
    this.outputParams = outputParams;
  }

  get inputSize(): number {
    return this.cell.inputSize;
  }

  get units(): number {
    return this.cell.units;
  }

  /** The cell's parameters plus `W_yh` and `b_y`, keyed by symbol. */
  get params(): Record<string, tf.Variable> {
    return { ...this.cell.params, ...this.outputParams };
  }

  get config(): NetworkConfig {
    return { cell: this.cell.config, outputSize: this.outputSize, outputActivation: this.outputActivation };
  }

  /** Runs the cell over `x` and the output function at every step. */
  apply(x: tf.Tensor, options: { initialState?: State } = {}): ApplyResult {
    checkLive('net.apply', 'the network', Object.values(this.params));
    checkKeys('net.apply', options, ['initialState']);
    checkSequence('net.apply', 'x', x, this.inputSize);
    return tf.tidy(() => {
      const { outputs, state } = unroll(this.cell, x, options);
      return { y: this.output(outputs), state };
    });
  }

  /** `y_t = g(W_yh h_t + b_y)` for `h: [batch, time, units]` (or `[batch, units]`). */
  output<T extends tf.Tensor>(h: T): T {
    return applyOutput(h, this.outputParams.W_yh, this.outputParams.b_y, this.g);
  }

  /** `y` at every step, `[batch, time, outputSize]` (checked as {@link apply} checks, under its name). */
  predict(x: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.apply(x).y);
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
    this.cell.dispose();
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
  // The output options first: a refusal then leaves no cell behind.
  const outputSize = checkPositiveInt('network', 'outputSize', options.outputSize);
  const outputActivation = options.outputActivation ?? 'linear';
  getActivation(outputActivation);
  const seed = options.seed ?? freshSeed();
  // A kind by name (anything but an object is refused as an unknown kind), or a Cell object.
  const cell =
    options.cell === null || typeof options.cell !== 'object'
      ? createCell(
          {
            kind: checkOneOf('network', 'cell', options.cell, CELL_KINDS),
            inputSize: checkPositiveInt('network', 'inputSize', options.inputSize),
            units: checkPositiveInt('network', 'units', options.units),
            activation: options.activation ?? 'tanh',
            recurrentActivation: options.recurrentActivation,
            resetAfter: options.resetAfter,
          },
          { seed },
        )
      : checkCell('network', options.cell);
  const rand = prng(seed + 7919);
  return new RecurrentNetwork(cell, outputSize, outputActivation, {
    W_yh: initVariable('W_yh', 'glorotUniform', [outputSize, cell.units], rand),
    b_y: initVariable('b_y', 'zeros', [outputSize], rand),
  });
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
    for (const key of ['activation', 'recurrentActivation', 'resetAfter'] as const) {
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
  const cell = createCell(config.cell, { params: cellParams });
  return new RecurrentNetwork(cell, config.outputSize, config.outputActivation, { W_yh, b_y });
}
